//! A small, tolerant RFC 822 / MIME tree parser that keeps what Gmail's JSON needs and
//! general-purpose parsers drop: every header in its original order (duplicates kept), the
//! exact byte range of each part, and the transfer-encoded body.
//!
//! mail-parser's part offsets were tried in its place and differ where it matters here: a
//! message/rfc822 part (every google-gmail1 upload) ends after the closing delimiter, and
//! header-less or empty input is read as headers or refused; charsets do come from it.

use base64::Engine;

/// One MIME part (the root part is the message itself).
#[derive(Debug, Clone)]
pub struct Part {
    /// `(name, value)` in original order; values unfolded (CR/LF removed) and RFC 2047 decoded.
    pub headers: Vec<(String, String)>,
    /// Lower-case `type/subtype`.
    pub mime_type: String,
    pub params: Vec<(String, String)>,
    pub filename: String,
    pub disposition_attachment: bool,
    pub transfer_encoding: String,
    /// Byte range of the (still transfer-encoded) body inside the raw message.
    pub body_start: usize,
    pub body_end: usize,
    pub children: Vec<Part>,
}

impl Part {
    pub fn is_multipart(&self) -> bool {
        self.mime_type.starts_with("multipart/") && !self.children.is_empty()
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn param(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The transfer-decoded bytes of a leaf part.
    pub fn decoded_body(&self, raw: &[u8]) -> Vec<u8> {
        let body = raw.get(self.body_start..self.body_end).unwrap_or(&[]);
        match self.transfer_encoding.as_str() {
            "base64" => decode_base64_lenient(body),
            "quoted-printable" => decode_qp(body),
            _ => body.to_vec(),
        }
    }

    /// Gmail treats a part as an attachment when it has a filename or says so.
    pub fn is_attachment(&self) -> bool {
        !self.filename.is_empty()
            || self.disposition_attachment
            || self.mime_type == "message/rfc822"
    }
}

/// Parse a whole message. Never fails: malformed input degrades to a single text part.
pub fn parse(raw: &[u8]) -> Part {
    parse_entity(raw, 0, raw.len(), "text/plain", 0)
}

fn parse_entity(raw: &[u8], start: usize, end: usize, default_type: &str, depth: usize) -> Part {
    let (headers, body_start) = parse_headers(raw, start, end);
    let ct = headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case("Content-Type"))
        .map(|(_, v)| v.clone());
    let (mime_type, params) = match ct {
        Some(v) => parse_content_type(&v).unwrap_or_else(|| (default_type.to_string(), vec![])),
        None => (default_type.to_string(), vec![]),
    };
    let transfer_encoding = headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case("Content-Transfer-Encoding"))
        .map(|(_, v)| v.trim().to_ascii_lowercase())
        .unwrap_or_default();
    let (disposition_attachment, disp_params) = headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case("Content-Disposition"))
        .map(|(_, v)| {
            let (kind, params) = split_params(v);
            (kind.trim().eq_ignore_ascii_case("attachment"), params)
        })
        .unwrap_or((false, vec![]));
    let filename = disp_params
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case("filename"))
        .or_else(|| params.iter().find(|(n, _)| n.eq_ignore_ascii_case("name")))
        .map(|(_, v)| decode_words(v))
        .unwrap_or_default();
    let mut part = Part {
        headers,
        mime_type,
        params,
        filename,
        disposition_attachment,
        transfer_encoding,
        body_start,
        body_end: end,
        children: vec![],
    };
    if part.mime_type.starts_with("multipart/") && depth < 20 {
        if let Some(boundary) = part.param("boundary").map(str::to_string) {
            let child_default = if part.mime_type == "multipart/digest" {
                "message/rfc822"
            } else {
                "text/plain"
            };
            for (s, e) in split_multipart(raw, body_start, end, boundary.as_bytes()) {
                part.children
                    .push(parse_entity(raw, s, e, child_default, depth + 1));
            }
        }
    }
    part
}

/// Returns the headers and the offset where the body starts.
fn parse_headers(raw: &[u8], start: usize, end: usize) -> (Vec<(String, String)>, usize) {
    let mut headers: Vec<(String, Vec<u8>)> = Vec::new();
    let mut pos = start;
    loop {
        if pos >= end {
            break;
        }
        let line_end = find_line_end(raw, pos, end);
        let line = &raw[pos..line_end];
        let next = skip_eol(raw, line_end, end);
        let trimmed = strip_cr(line);
        if trimmed.is_empty() {
            // Blank line: the body follows.
            return (finish_headers(headers), next);
        }
        if (trimmed[0] == b' ' || trimmed[0] == b'\t') && !headers.is_empty() {
            if let Some(last) = headers.last_mut() {
                last.1.extend_from_slice(trimmed);
            }
        } else if let Some(colon) = trimmed.iter().position(|&b| b == b':') {
            let name = String::from_utf8_lossy(&trimmed[..colon])
                .trim()
                .to_string();
            if name.is_empty() || name.contains(' ') {
                // Not a header: treat the rest as body (tolerates header-less input).
                if headers.is_empty() {
                    return (vec![], start);
                }
                return (finish_headers(headers), pos);
            }
            let mut value = &trimmed[colon + 1..];
            while let Some((&b' ' | &b'\t', rest)) = value.split_first() {
                value = rest;
            }
            headers.push((name, value.to_vec()));
        } else {
            if headers.is_empty() {
                return (vec![], start);
            }
            return (finish_headers(headers), pos);
        }
        pos = next;
    }
    (finish_headers(headers), end)
}

fn finish_headers(h: Vec<(String, Vec<u8>)>) -> Vec<(String, String)> {
    h.into_iter()
        .map(|(n, v)| {
            let s = match String::from_utf8(v) {
                Ok(s) => s,
                Err(e) => e.into_bytes().iter().map(|&b| b as char).collect(),
            };
            (n, decode_words(s.trim_end()))
        })
        .collect()
}

fn find_line_end(raw: &[u8], pos: usize, end: usize) -> usize {
    raw[pos..end]
        .iter()
        .position(|&b| b == b'\n')
        .map(|i| pos + i)
        .unwrap_or(end)
}

fn skip_eol(raw: &[u8], line_end: usize, end: usize) -> usize {
    if line_end < end && raw[line_end] == b'\n' {
        line_end + 1
    } else {
        line_end
    }
}

fn strip_cr(line: &[u8]) -> &[u8] {
    line.strip_suffix(b"\r").unwrap_or(line)
}

/// Body ranges of the parts of a multipart body. The CRLF before a delimiter belongs to it.
fn split_multipart(raw: &[u8], start: usize, end: usize, boundary: &[u8]) -> Vec<(usize, usize)> {
    let mut delim = b"--".to_vec();
    delim.extend_from_slice(boundary);
    let mut parts = Vec::new();
    let mut current: Option<usize> = None;
    let mut pos = start;
    while pos < end {
        let line_end = find_line_end(raw, pos, end);
        let line = strip_cr(&raw[pos..line_end]);
        let next = skip_eol(raw, line_end, end);
        if line.starts_with(&delim) {
            let rest = &line[delim.len()..];
            let is_close = rest.starts_with(b"--");
            let rest_ok = rest.iter().all(|b| *b == b' ' || *b == b'\t') || is_close;
            if rest_ok {
                if let Some(s) = current.take() {
                    // Exclude the line break preceding the delimiter.
                    let mut e = pos;
                    if e > s && raw[e - 1] == b'\n' {
                        e -= 1;
                        if e > s && raw[e - 1] == b'\r' {
                            e -= 1;
                        }
                    }
                    parts.push((s, e.max(s)));
                }
                if is_close {
                    return parts;
                }
                current = Some(next);
            }
        }
        pos = next;
    }
    if let Some(s) = current {
        parts.push((s, end));
    }
    parts
}

/// `type/subtype; a=b; c="d"` → lower-case type and parameters.
pub fn parse_content_type(v: &str) -> Option<(String, Vec<(String, String)>)> {
    let (t, params) = split_params(v);
    let t = t.trim().to_ascii_lowercase();
    if !t.contains('/') {
        return None;
    }
    Some((t, params))
}

/// Splits a structured header value into its first token and its parameters (RFC 2045 with
/// RFC 2231 continuations and charsets in their simplest forms).
pub fn split_params(v: &str) -> (String, Vec<(String, String)>) {
    let mut out: Vec<(String, String)> = Vec::new();
    let mut chars = v.char_indices().peekable();
    let mut first_end = v.len();
    for (i, c) in chars.by_ref() {
        if c == ';' {
            first_end = i;
            break;
        }
    }
    let first = v[..first_end].to_string();
    let rest = if first_end < v.len() {
        &v[first_end + 1..]
    } else {
        ""
    };
    let mut i = 0;
    let bytes = rest.as_bytes();
    while i < bytes.len() {
        while i < bytes.len() && (bytes[i] == b' ' || bytes[i] == b'\t' || bytes[i] == b';') {
            i += 1;
        }
        let name_start = i;
        while i < bytes.len() && bytes[i] != b'=' && bytes[i] != b';' {
            i += 1;
        }
        let name = rest[name_start..i].trim().to_ascii_lowercase();
        if i >= bytes.len() || bytes[i] == b';' {
            continue;
        }
        i += 1; // '='
        while i < bytes.len() && (bytes[i] == b' ' || bytes[i] == b'\t') {
            i += 1;
        }
        let mut value = String::new();
        if i < bytes.len() && bytes[i] == b'"' {
            i += 1;
            let mut buf = Vec::new();
            while i < bytes.len() && bytes[i] != b'"' {
                if bytes[i] == b'\\' && i + 1 < bytes.len() {
                    i += 1;
                }
                buf.push(bytes[i]);
                i += 1;
            }
            i += 1;
            value.push_str(&String::from_utf8_lossy(&buf));
        } else {
            let s = i;
            while i < bytes.len() && bytes[i] != b';' {
                i += 1;
            }
            value.push_str(rest[s..i].trim());
        }
        if !name.is_empty() {
            out.push((name, value));
        }
    }
    (first, merge_rfc2231(out))
}

/// Folds `name*0=`, `name*1*=` and `name*=charset''value` into plain `name=value`.
fn merge_rfc2231(params: Vec<(String, String)>) -> Vec<(String, String)> {
    if !params.iter().any(|(n, _)| n.contains('*')) {
        return params;
    }
    let mut plain: Vec<(String, String)> = Vec::new();
    let mut pieces: Vec<(String, usize, bool, String)> = Vec::new();
    for (n, v) in params {
        if let Some(star) = n.find('*') {
            let base = n[..star].to_string();
            let rest = &n[star + 1..];
            let encoded = rest.ends_with('*') || rest.is_empty();
            let idx = rest.trim_end_matches('*').parse::<usize>().unwrap_or(0);
            pieces.push((base, idx, encoded, v));
        } else {
            plain.push((n, v));
        }
    }
    pieces.sort_by(|a, b| a.0.cmp(&b.0).then(a.1.cmp(&b.1)));
    let mut merged: Vec<(String, Vec<u8>)> = Vec::new();
    for (base, idx, encoded, v) in pieces {
        let bytes = if encoded {
            let v = if idx == 0 {
                // charset'language'value
                let mut it = v.splitn(3, '\'');
                let a = it.next().unwrap_or("");
                match (it.next(), it.next()) {
                    (Some(_), Some(val)) => val.to_string(),
                    _ => a.to_string(),
                }
            } else {
                v
            };
            percent_encoding::percent_decode_str(&v).collect::<Vec<u8>>()
        } else {
            v.into_bytes()
        };
        match merged.iter_mut().find(|(n, _)| *n == base) {
            Some(m) => m.1.extend_from_slice(&bytes),
            None => merged.push((base, bytes)),
        }
    }
    for (n, v) in merged {
        plain.retain(|(pn, _)| *pn != n);
        plain.push((n, String::from_utf8_lossy(&v).into_owned()));
    }
    plain
}

/// RFC 2047 encoded-word decoding (`=?utf-8?B?…?=`); unknown charsets are left as written.
pub fn decode_words(s: &str) -> String {
    if !s.contains("=?") {
        return s.to_string();
    }
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    let mut last_was_word = false;
    while let Some(start) = rest.find("=?") {
        let (before, after) = rest.split_at(start);
        match decode_one_word(after) {
            Some((decoded, used)) => {
                // Whitespace between two adjacent encoded words is dropped.
                if !(last_was_word && before.chars().all(char::is_whitespace)) {
                    out.push_str(before);
                }
                out.push_str(&decoded);
                rest = &after[used..];
                last_was_word = true;
            }
            None => {
                out.push_str(before);
                out.push_str("=?");
                rest = &after[2..];
                last_was_word = false;
            }
        }
    }
    out.push_str(rest);
    out
}

fn decode_one_word(s: &str) -> Option<(String, usize)> {
    let inner = s.strip_prefix("=?")?;
    let q1 = inner.find('?')?;
    let charset = &inner[..q1];
    let after_cs = &inner[q1 + 1..];
    let q2 = after_cs.find('?')?;
    let enc = &after_cs[..q2];
    let text_and_rest = &after_cs[q2 + 1..];
    let end = text_and_rest.find("?=")?;
    let text = &text_and_rest[..end];
    let used = 2 + q1 + 1 + q2 + 1 + end + 2;
    let bytes = match enc {
        "B" | "b" => decode_base64_lenient(text.as_bytes()),
        "Q" | "q" => {
            let replaced: Vec<u8> = text
                .bytes()
                .map(|b| if b == b'_' { b' ' } else { b })
                .collect();
            decode_qp(&replaced)
        }
        _ => return None,
    };
    let charset = charset.split('*').next().unwrap_or("").to_ascii_lowercase();
    Some((decode_charset(&charset, &bytes), used))
}

/// Bytes in `charset` → String (UTF-8 and ASCII directly; others via mail-parser's tables).
pub fn decode_charset(charset: &str, bytes: &[u8]) -> String {
    match charset {
        "" | "utf-8" | "utf8" | "us-ascii" | "ascii" => String::from_utf8_lossy(bytes).into_owned(),
        cs => match mail_parser::decoders::charsets::map::charset_decoder(cs.as_bytes()) {
            Some(dec) => dec(bytes),
            None => String::from_utf8_lossy(bytes).into_owned(),
        },
    }
}

/// Base64 that ignores whitespace, line breaks and missing padding.
pub fn decode_base64_lenient(input: &[u8]) -> Vec<u8> {
    let filtered: Vec<u8> = input
        .iter()
        .copied()
        .filter(|b| b.is_ascii_alphanumeric() || *b == b'+' || *b == b'/')
        .collect();
    let engine = base64::engine::GeneralPurpose::new(
        &base64::alphabet::STANDARD,
        base64::engine::GeneralPurposeConfig::new()
            .with_decode_padding_mode(base64::engine::DecodePaddingMode::Indifferent)
            .with_decode_allow_trailing_bits(true),
    );
    // A dangling single character cannot be decoded; drop it rather than fail.
    let usable = if filtered.len() % 4 == 1 {
        &filtered[..filtered.len() - 1]
    } else {
        &filtered[..]
    };
    engine.decode(usable).unwrap_or_default()
}

/// Quoted-printable with soft line breaks; invalid escapes pass through.
pub fn decode_qp(input: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(input.len());
    let mut i = 0;
    while i < input.len() {
        let b = input[i];
        if b == b'=' {
            if i + 1 < input.len() && input[i + 1] == b'\n' {
                i += 2;
                continue;
            }
            if i + 2 < input.len() && input[i + 1] == b'\r' && input[i + 2] == b'\n' {
                i += 3;
                continue;
            }
            if i + 2 < input.len() {
                let h = |c: u8| (c as char).to_digit(16);
                if let (Some(a), Some(c)) = (h(input[i + 1]), h(input[i + 2])) {
                    out.push((a * 16 + c) as u8);
                    i += 3;
                    continue;
                }
            }
            if i + 1 == input.len() {
                // Trailing '=' is a soft break at the very end.
                i += 1;
                continue;
            }
        }
        out.push(b);
        i += 1;
    }
    out
}

/// Raw header lines of the top-level entity, to rewrite a message (From, Bcc).
pub fn header_block_end(raw: &[u8]) -> usize {
    let (_, body) = parse_headers(raw, 0, raw.len());
    body
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn multipart_tree_and_headers() {
        let raw = b"From: a@b.c\r\nReceived: one\r\nReceived: two\r\n\tcontinued\r\nSubject: =?utf-8?B?SMOpbGxv?=\r\nContent-Type: multipart/mixed; boundary=\"XX\"\r\n\r\npreamble\r\n--XX\r\nContent-Type: text/plain\r\n\r\nhello\r\n--XX\r\nContent-Type: application/pdf; name=\"a.pdf\"\r\nContent-Transfer-Encoding: base64\r\n\r\naGVs\r\nbG8=\r\n--XX--\r\n";
        let p = parse(raw);
        assert_eq!(p.headers.len(), 5);
        assert_eq!(p.headers[2].1, "two\tcontinued");
        assert_eq!(p.headers[3].1, "Héllo");
        assert_eq!(p.children.len(), 2);
        assert_eq!(p.children[0].decoded_body(raw), b"hello");
        assert_eq!(p.children[1].filename, "a.pdf");
        assert_eq!(p.children[1].decoded_body(raw), b"hello");
    }

    #[test]
    fn qp_decoding() {
        assert_eq!(decode_qp(b"a=3Db=\r\nc"), b"a=bc");
    }
}
