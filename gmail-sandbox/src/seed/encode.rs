//! Transfer encodings: RFC 2047 header words, quoted-printable and base64 bodies.
//!
//! Hand-written where no crate does the job: the seed picks B or Q per header and writes
//! the charset as `UTF-8` (mail-builder chooses for itself and writes `utf-8`), encodes one
//! subject in ISO-8859-1, and picks each body's transfer encoding (mail-builder does not
//! expose its quoted-printable encoder).

use base64::Engine;

/// Base64 (standard alphabet, padded).
pub fn base64(data: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(data)
}

/// Base64 body wrapped at 76 characters with CRLF (the base64 crate does not wrap lines).
pub fn base64_body(data: &[u8], out: &mut Vec<u8>) {
    let enc = base64(data);
    for line in enc.as_bytes().chunks(76) {
        out.extend_from_slice(line);
        out.extend_from_slice(b"\r\n");
    }
}

/// Quoted-printable body (RFC 2045): CRLF in `data` are hard line breaks, other lines are
/// soft-wrapped so no encoded line exceeds 76 characters.
pub fn qp_body(data: &[u8], out: &mut Vec<u8>) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    let text_lines: Vec<&[u8]> = split_crlf(data);
    for line in text_lines {
        let mut col = 0;
        for (i, &b) in line.iter().enumerate() {
            let last = i + 1 == line.len();
            let literal =
                ((b == b' ' || b == b'\t') && !last) || ((33..=126).contains(&b) && b != b'=');
            let width = if literal { 1 } else { 3 };
            // Keep room for the soft break's '='.
            if col + width > 75 {
                out.extend_from_slice(b"=\r\n");
                col = 0;
            }
            if literal {
                out.push(b);
            } else {
                out.push(b'=');
                out.push(HEX[(b >> 4) as usize]);
                out.push(HEX[(b & 15) as usize]);
            }
            col += width;
        }
        out.extend_from_slice(b"\r\n");
    }
}

/// Splits on CRLF; a trailing CRLF does not produce an empty last line.
fn split_crlf(data: &[u8]) -> Vec<&[u8]> {
    let mut lines = Vec::new();
    let mut start = 0;
    let mut i = 0;
    while i + 1 < data.len() {
        if data[i] == b'\r' && data[i + 1] == b'\n' {
            lines.push(&data[start..i]);
            i += 2;
            start = i;
        } else {
            i += 1;
        }
    }
    if start < data.len() {
        lines.push(&data[start..]);
    }
    lines
}

/// The Q encoding of `bytes` (RFC 2047): space as `_`, letters and digits as is, the rest
/// as `=XX`.
fn push_q(out: &mut String, bytes: impl IntoIterator<Item = u8>) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    for b in bytes {
        if b == b' ' {
            out.push('_');
        } else if b.is_ascii_alphanumeric() {
            out.push(b as char);
        } else {
            out.push('=');
            out.push(HEX[(b >> 4) as usize] as char);
            out.push(HEX[(b & 15) as usize] as char);
        }
    }
}

/// Header encoding of non-ASCII text.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum HdrEnc {
    B,
    Q,
}

/// RFC 2047 encoded-words for `text` (UTF-8), each at most 75 characters, split on
/// character boundaries and joined by folding whitespace. ASCII text is returned as is.
pub fn encode_words(text: &str, enc: HdrEnc) -> String {
    if text.is_ascii() {
        return text.to_string();
    }
    let prefix = match enc {
        HdrEnc::B => "=?UTF-8?B?",
        HdrEnc::Q => "=?UTF-8?Q?",
    };
    let budget = 75 - prefix.len() - 2;
    let mut words: Vec<String> = Vec::new();
    let mut chunk = String::new();
    let encoded_len = |s: &str| -> usize {
        match enc {
            HdrEnc::B => s.len().div_ceil(3) * 4,
            HdrEnc::Q => s
                .bytes()
                .map(|b| {
                    if b.is_ascii_alphanumeric() || b == b' ' {
                        1
                    } else {
                        3
                    }
                })
                .sum(),
        }
    };
    let flush = |chunk: &str, words: &mut Vec<String>| {
        let body = match enc {
            HdrEnc::B => base64(chunk.as_bytes()),
            HdrEnc::Q => {
                let mut s = String::new();
                push_q(&mut s, chunk.bytes());
                s
            }
        };
        words.push(format!("{prefix}{body}?="));
    };
    for c in text.chars() {
        let mut candidate = chunk.clone();
        candidate.push(c);
        if encoded_len(&candidate) > budget && !chunk.is_empty() {
            flush(&chunk, &mut words);
            chunk.clear();
        }
        chunk.push(c);
    }
    if !chunk.is_empty() {
        flush(&chunk, &mut words);
    }
    words.join("\r\n ")
}

/// ISO-8859-1 Q encoded-word (for the Latin-1 message's subject).
pub fn encode_latin1_q(text: &str) -> String {
    let mut s = String::from("=?ISO-8859-1?Q?");
    push_q(&mut s, latin1(text));
    s.push_str("?=");
    s
}

/// Text → ISO-8859-1 bytes (characters outside Latin-1 become `?`).
pub fn latin1(text: &str) -> Vec<u8> {
    text.chars()
        .map(|c| u8::try_from(u32::from(c)).unwrap_or(b'?'))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(raw: &[u8]) -> mail_parser::Message<'_> {
        mail_parser::MessageParser::default()
            .parse(raw)
            .expect("parses")
    }

    #[test]
    fn base64_matches_known_vectors() {
        assert_eq!(base64(b"Man"), "TWFu");
        assert_eq!(base64(b"Ma"), "TWE=");
        assert_eq!(base64(b"M"), "TQ==");
    }

    #[test]
    fn encoded_words_are_short_and_decode() {
        let s = "来週の打ち合わせについて、資料を事前にお送りします。よろしくお願いいたします。";
        for enc in [HdrEnc::B, HdrEnc::Q] {
            let e = encode_words(s, enc);
            for w in e.split("\r\n ") {
                assert!(w.len() <= 75, "{w}");
            }
            let raw = format!("Subject: {e}\r\nFrom: a@b.c\r\n\r\nx\r\n");
            assert_eq!(parse(raw.as_bytes()).subject(), Some(s));
        }
        assert_eq!(encode_words("plain", HdrEnc::B), "plain");
        assert_eq!(encode_latin1_q("Café"), "=?ISO-8859-1?Q?Caf=E9?=");
    }

    #[test]
    fn quoted_printable_wraps_and_escapes() {
        let mut out = Vec::new();
        let long = "é".repeat(100) + " end \r\nnext line = x \r\n";
        qp_body(long.as_bytes(), &mut out);
        let text = String::from_utf8(out).unwrap();
        assert!(text.lines().all(|l| l.len() <= 76));
        assert!(text.contains("=3D"));
        assert!(text.contains("x=20\r\n"));
    }
}
