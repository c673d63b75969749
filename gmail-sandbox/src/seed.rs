//! The demo mailbox: deterministic, realistic mail for demos and tests.
//!
//! Everything here is generated from fixed data and a fixed-seed xorshift generator, so
//! [`demo_mailboxes`] returns byte-identical output on every run. MIME is built by hand
//! (exact control over encodings): plain text, HTML-only, multipart/alternative,
//! multipart/mixed with PDF/PNG/CSV attachments (one over 5 MB), multipart/related with an
//! inline image, RFC 2047 B and Q headers, UTF-8 bodies in quoted-printable and base64, an
//! ISO-8859-1 body, calendar invitations, mailing-list mail, spam, trash and drafts.
//!
//! Threads are expressed only the way real mail expresses them: replies carry
//! `In-Reply-To` and the full `References` chain, and their subject is the original with
//! `Re: ` in front. Every message has CRLF line endings, a unique `Message-ID`, a `Date`
//! equal to its `internal_date_ms` (whole seconds) and lines of at most 998 characters
//! (base64 wrapped at 76).

use chrono::TimeZone;
use chrono_tz::Tz;

/// One mailbox to create.
#[derive(Debug, Clone)]
pub struct SeedMailbox {
    pub email: String,
    pub display_name: String,
    /// User labels to create, by name (nested ones contain `/`), with optional
    /// `(textColor, backgroundColor)` from Gmail's palette.
    pub labels: Vec<SeedLabel>,
    /// Messages in the order they arrived (oldest first).
    pub messages: Vec<SeedMessage>,
    /// Drafts (raw RFC 822), oldest first.
    pub drafts: Vec<Vec<u8>>,
}

#[derive(Debug, Clone)]
pub struct SeedLabel {
    pub name: String,
    pub color: Option<(String, String)>,
}

#[derive(Debug, Clone)]
pub struct SeedMessage {
    /// The full RFC 822 message, CRLF line endings.
    pub raw: Vec<u8>,
    /// System label ids (`INBOX`, `UNREAD`, `SENT`, `SPAM`, `TRASH`, `STARRED`,
    /// `IMPORTANT`, `CATEGORY_*`).
    pub system_labels: Vec<String>,
    /// User labels by name (each one is in [`SeedMailbox::labels`]).
    pub user_labels: Vec<String>,
    /// Milliseconds since the epoch.
    pub internal_date_ms: i64,
}

/// The default demo mailbox's address.
pub const DEMO_EMAIL: &str = "demo@example.com";
/// A second, small mailbox for multi-user tests.
pub const SECOND_EMAIL: &str = "bob@example.com";

/// The mailboxes `gmail-sandbox seed` creates: the demo mailbox and a small second one.
pub fn demo_mailboxes() -> Vec<SeedMailbox> {
    generate().into_iter().map(|g| g.mailbox).collect()
}

// ---------------------------------------------------------------------------------------
// Deterministic randomness
// ---------------------------------------------------------------------------------------

/// xorshift64* with a fixed seed: the only source of variation, so output is identical on
/// every run and platform.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Self {
        Rng(seed.max(1))
    }

    fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// Uniform in `0..n` (n > 0).
    fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n.max(1)
    }

    fn range(&mut self, lo: i64, hi: i64) -> i64 {
        lo + self.below((hi - lo + 1).max(1) as u64) as i64
    }

    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }
}

// ---------------------------------------------------------------------------------------
// Encodings
// ---------------------------------------------------------------------------------------

const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

fn base64(data: &[u8]) -> String {
    let mut out = String::with_capacity(data.len().div_ceil(3) * 4);
    for chunk in data.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        out.push(B64[(n >> 18) as usize & 63] as char);
        out.push(B64[(n >> 12) as usize & 63] as char);
        out.push(if chunk.len() > 1 {
            B64[(n >> 6) as usize & 63] as char
        } else {
            '='
        });
        out.push(if chunk.len() > 2 {
            B64[n as usize & 63] as char
        } else {
            '='
        });
    }
    out
}

/// Base64 body wrapped at 76 characters with CRLF.
fn base64_body(data: &[u8], out: &mut Vec<u8>) {
    let enc = base64(data);
    for line in enc.as_bytes().chunks(76) {
        out.extend_from_slice(line);
        out.extend_from_slice(b"\r\n");
    }
}

/// Quoted-printable body (RFC 2045): CRLF in `data` are hard line breaks, other lines are
/// soft-wrapped so no encoded line exceeds 76 characters.
fn qp_body(data: &[u8], out: &mut Vec<u8>) {
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

/// Normalises any line endings to CRLF and ends the text with one.
fn crlf(text: &str) -> String {
    let mut s = text.replace("\r\n", "\n").replace('\n', "\r\n");
    if !s.ends_with("\r\n") {
        s.push_str("\r\n");
    }
    s
}

/// Word-wraps each paragraph of `text` at `width` columns (lines starting with `>` or
/// indentation, and list items, are kept as they are).
fn wrap(text: &str, width: usize) -> String {
    let mut out = String::new();
    for line in text.split('\n') {
        if line.chars().count() <= width || line.starts_with('>') || line.starts_with(' ') {
            out.push_str(line);
            out.push('\n');
            continue;
        }
        let mut cur = String::new();
        for word in line.split(' ') {
            if !cur.is_empty() && cur.chars().count() + 1 + word.chars().count() > width {
                out.push_str(&cur);
                out.push('\n');
                cur.clear();
            }
            if !cur.is_empty() {
                cur.push(' ');
            }
            cur.push_str(word);
        }
        out.push_str(&cur);
        out.push('\n');
    }
    out.pop();
    out
}

/// Header encoding of non-ASCII text.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum HdrEnc {
    B,
    Q,
}

/// RFC 2047 encoded-words for `text` (UTF-8), each at most 75 characters, split on
/// character boundaries and joined by folding whitespace. ASCII text is returned as is.
fn encode_words(text: &str, enc: HdrEnc) -> String {
    if text.is_ascii() {
        return text.to_string();
    }
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
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
                for b in chunk.bytes() {
                    if b == b' ' {
                        s.push('_');
                    } else if b.is_ascii_alphanumeric() {
                        s.push(b as char);
                    } else {
                        s.push('=');
                        s.push(HEX[(b >> 4) as usize] as char);
                        s.push(HEX[(b & 15) as usize] as char);
                    }
                }
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
fn encode_latin1_q(text: &str) -> String {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    let mut s = String::from("=?ISO-8859-1?Q?");
    for b in latin1(text) {
        if b == b' ' {
            s.push('_');
        } else if b.is_ascii_alphanumeric() {
            s.push(b as char);
        } else {
            s.push('=');
            s.push(HEX[(b >> 4) as usize] as char);
            s.push(HEX[(b & 15) as usize] as char);
        }
    }
    s.push_str("?=");
    s
}

/// Text → ISO-8859-1 bytes (characters outside Latin-1 become `?`).
fn latin1(text: &str) -> Vec<u8> {
    text.chars()
        .map(|c| u8::try_from(u32::from(c)).unwrap_or(b'?'))
        .collect()
}

// ---------------------------------------------------------------------------------------
// Checksums, PNG, PDF, CSV
// ---------------------------------------------------------------------------------------

fn crc32(data: &[u8]) -> u32 {
    let mut table = [0u32; 256];
    for (i, slot) in table.iter_mut().enumerate() {
        let mut c = i as u32;
        for _ in 0..8 {
            c = if c & 1 != 0 {
                0xEDB8_8320 ^ (c >> 1)
            } else {
                c >> 1
            };
        }
        *slot = c;
    }
    let mut crc = 0xFFFF_FFFFu32;
    for &b in data {
        crc = table[((crc ^ u32::from(b)) & 0xFF) as usize] ^ (crc >> 8);
    }
    crc ^ 0xFFFF_FFFF
}

fn adler32(data: &[u8]) -> u32 {
    let (mut a, mut b) = (1u32, 0u32);
    for &x in data {
        a = (a + u32::from(x)) % 65_521;
        b = (b + a) % 65_521;
    }
    (b << 16) | a
}

/// A zlib stream of stored (uncompressed) deflate blocks: valid, simple, deterministic.
fn zlib_stored(data: &[u8]) -> Vec<u8> {
    let mut out = vec![0x78, 0x01];
    let blocks: Vec<&[u8]> = if data.is_empty() {
        vec![&[][..]]
    } else {
        data.chunks(65_535).collect()
    };
    let n = blocks.len();
    for (i, block) in blocks.into_iter().enumerate() {
        out.push(u8::from(i + 1 == n));
        let len = block.len() as u16;
        out.extend_from_slice(&len.to_le_bytes());
        out.extend_from_slice(&(!len).to_le_bytes());
        out.extend_from_slice(block);
    }
    out.extend_from_slice(&adler32(data).to_be_bytes());
    out
}

fn png_chunk(out: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
    out.extend_from_slice(&(data.len() as u32).to_be_bytes());
    let start = out.len();
    out.extend_from_slice(kind);
    out.extend_from_slice(data);
    let crc = crc32(&out[start..]);
    out.extend_from_slice(&crc.to_be_bytes());
}

/// An 8-bit RGB PNG whose pixel colours come from `pixel(x, y)`.
fn png(width: u32, height: u32, pixel: impl Fn(u32, u32) -> [u8; 3]) -> Vec<u8> {
    let mut raw = Vec::with_capacity(((width * 3 + 1) * height) as usize);
    for y in 0..height {
        raw.push(0); // filter: none
        for x in 0..width {
            raw.extend_from_slice(&pixel(x, y));
        }
    }
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut ihdr = Vec::new();
    ihdr.extend_from_slice(&width.to_be_bytes());
    ihdr.extend_from_slice(&height.to_be_bytes());
    ihdr.extend_from_slice(&[8, 2, 0, 0, 0]); // depth 8, RGB, deflate, filter 0, no interlace
    png_chunk(&mut out, b"IHDR", &ihdr);
    png_chunk(&mut out, b"IDAT", &zlib_stored(&raw));
    png_chunk(&mut out, b"IEND", &[]);
    out
}

/// A bar-chart-like picture (for "screenshots" and charts).
fn chart_png(seed: u64) -> Vec<u8> {
    let mut rng = Rng::new(seed);
    let bars: Vec<u32> = (0..8).map(|_| 8 + rng.below(36) as u32).collect();
    png(96, 56, move |x, y| {
        let bar = (x / 12) as usize;
        let h = bars[bar];
        if x % 12 < 2 || y < 4 {
            [255, 255, 255]
        } else if 56 - y <= h {
            [(40 + bar * 25) as u8, 120, (220 - bar * 20) as u8]
        } else {
            [245, 245, 245]
        }
    })
}

/// A small banner "logo" for inline images.
fn logo_png() -> Vec<u8> {
    png(120, 32, |x, y| {
        let d = (x as i32 - 16).pow(2) + (y as i32 - 16).pow(2);
        if d < 144 {
            [251, 76, 47]
        } else if x > 36 && (10..22).contains(&y) && x % 9 < 6 {
            [32, 33, 36]
        } else {
            [255, 255, 255]
        }
    })
}

fn pdf_escape(s: &str) -> String {
    let mut out = String::new();
    for c in s.chars() {
        match c {
            '(' | ')' | '\\' => {
                out.push('\\');
                out.push(c);
            }
            c if c.is_ascii() => out.push(c),
            _ => out.push('?'),
        }
    }
    out
}

/// A one-page PDF 1.4 (Helvetica text lines) with a correct xref table.
fn pdf(title: &str, lines: &[String]) -> Vec<u8> {
    let mut content = String::from("BT\n/F1 18 Tf\n72 720 Td\n");
    content.push_str(&format!("({}) Tj\n/F1 11 Tf\n", pdf_escape(title)));
    for line in lines {
        content.push_str(&format!("0 -18 Td\n({}) Tj\n", pdf_escape(line)));
    }
    content.push_str("ET\n");
    let objects = [
        "<< /Type /Catalog /Pages 2 0 R >>".to_string(),
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>".to_string(),
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R \
         /Resources << /Font << /F1 5 0 R >> >> >>"
            .to_string(),
        format!(
            "<< /Length {} >>\nstream\n{}endstream",
            content.len(),
            content
        ),
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>"
            .to_string(),
        format!(
            "<< /Title ({}) /Producer (gmail-sandbox seed) >>",
            pdf_escape(title)
        ),
    ];
    let mut out: Vec<u8> = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n".to_vec();
    let mut offsets = Vec::new();
    for (i, obj) in objects.iter().enumerate() {
        offsets.push(out.len());
        out.extend_from_slice(format!("{} 0 obj\n{}\nendobj\n", i + 1, obj).as_bytes());
    }
    let xref = out.len();
    out.extend_from_slice(
        format!("xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1).as_bytes(),
    );
    for off in offsets {
        out.extend_from_slice(format!("{off:010} 00000 n \n").as_bytes());
    }
    out.extend_from_slice(
        format!(
            "trailer\n<< /Size {} /Root 1 0 R /Info 6 0 R >>\nstartxref\n{}\n%%EOF\n",
            objects.len() + 1,
            xref
        )
        .as_bytes(),
    );
    out
}

/// The one big attachment: a sensor export of at least `min_bytes`.
fn big_csv(min_bytes: usize) -> Vec<u8> {
    let mut rng = Rng::new(0x5EED_CAFE);
    let mut out = String::with_capacity(min_bytes + 128);
    out.push_str("timestamp_utc,sensor_id,site,temperature_c,humidity_pct,pressure_hpa,status\r\n");
    let sites = ["alpha-north", "alpha-south", "alpha-east", "alpha-west"];
    let mut t: i64 = 1_767_225_600; // 2026-01-01T00:00:00Z
    let mut i: u64 = 0;
    while out.len() < min_bytes {
        let dt = chrono::DateTime::from_timestamp(t, 0).unwrap_or_default();
        let temp = 180 + rng.below(90) as i64;
        let hum = 300 + rng.below(450);
        let pres = 99_000 + rng.below(3_500);
        out.push_str(&format!(
            "{},S-{:04},{},{}.{},{}.{},{}.{},{}\r\n",
            dt.format("%Y-%m-%dT%H:%M:%SZ"),
            i % 240,
            sites[(i % 4) as usize],
            temp / 10,
            temp % 10,
            hum / 10,
            hum % 10,
            pres / 100,
            pres % 100 / 10,
            if rng.chance(2) { "WARN" } else { "OK" }
        ));
        i += 1;
        if i.is_multiple_of(240) {
            t += 60;
        }
    }
    out.into_bytes()
}
// ---------------------------------------------------------------------------------------
// A tiny MIME model, rendered by hand for exact control over encodings
// ---------------------------------------------------------------------------------------

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Cte {
    SevenBit,
    QuotedPrintable,
    Base64,
}

impl Cte {
    fn name(self) -> &'static str {
        match self {
            Cte::SevenBit => "7bit",
            Cte::QuotedPrintable => "quoted-printable",
            Cte::Base64 => "base64",
        }
    }
}

#[derive(Clone, Debug)]
#[cfg_attr(not(test), allow(dead_code))]
struct Leaf {
    content_type: String,
    cte: Cte,
    disposition: Option<String>,
    content_id: Option<String>,
    /// The bytes before transfer encoding.
    bytes: Vec<u8>,
    /// What a MIME parser should decode this part to (UTF-8 for text, raw otherwise).
    expect: Vec<u8>,
    /// Attachment file name, when there is one.
    filename: Option<String>,
}

#[derive(Clone, Debug)]
enum Part {
    Leaf(Leaf),
    Multi {
        subtype: &'static str,
        /// Extra Content-Type parameters (e.g. `; type="text/html"` for related).
        params: &'static str,
        parts: Vec<Part>,
    },
}

#[cfg_attr(not(test), allow(dead_code))]
impl Part {
    /// Leaves in depth-first order.
    fn leaves(&self) -> Vec<&Leaf> {
        match self {
            Part::Leaf(l) => vec![l],
            Part::Multi { parts, .. } => parts.iter().flat_map(Part::leaves).collect(),
        }
    }

    fn kinds(&self, out: &mut Vec<String>) {
        match self {
            Part::Leaf(l) => out.push(
                l.content_type
                    .split(';')
                    .next()
                    .unwrap_or_default()
                    .to_string(),
            ),
            Part::Multi { subtype, parts, .. } => {
                out.push(format!("multipart/{subtype}"));
                for p in parts {
                    p.kinds(out);
                }
            }
        }
    }
}

/// `text/plain`, UTF-8: 7bit when ASCII, otherwise quoted-printable.
fn text_plain(text: &str) -> Part {
    let t = crlf(text);
    let cte = if t.is_ascii() {
        Cte::SevenBit
    } else {
        Cte::QuotedPrintable
    };
    Part::Leaf(Leaf {
        content_type: "text/plain; charset=\"UTF-8\"".into(),
        cte,
        disposition: None,
        content_id: None,
        bytes: t.clone().into_bytes(),
        expect: t.into_bytes(),
        filename: None,
    })
}

/// `text/plain`, UTF-8, base64 (as some clients send CJK text).
fn text_plain_b64(text: &str) -> Part {
    let t = crlf(text);
    Part::Leaf(Leaf {
        content_type: "text/plain; charset=\"UTF-8\"".into(),
        cte: Cte::Base64,
        disposition: None,
        content_id: None,
        bytes: t.clone().into_bytes(),
        expect: t.into_bytes(),
        filename: None,
    })
}

/// `text/plain` in ISO-8859-1, quoted-printable.
fn text_plain_latin1(text: &str) -> Part {
    let t = crlf(text);
    Part::Leaf(Leaf {
        content_type: "text/plain; charset=\"ISO-8859-1\"".into(),
        cte: Cte::QuotedPrintable,
        disposition: None,
        content_id: None,
        bytes: latin1(&t),
        expect: t.into_bytes(),
        filename: None,
    })
}

/// `text/html`, UTF-8, quoted-printable (HTML lines are long).
fn text_html(html: &str) -> Part {
    let t = crlf(html);
    Part::Leaf(Leaf {
        content_type: "text/html; charset=\"UTF-8\"".into(),
        cte: Cte::QuotedPrintable,
        disposition: None,
        content_id: None,
        bytes: t.clone().into_bytes(),
        expect: t.into_bytes(),
        filename: None,
    })
}

fn text_calendar(ics: &str) -> Part {
    let t = crlf(ics);
    Part::Leaf(Leaf {
        content_type: "text/calendar; charset=\"UTF-8\"; method=REQUEST".into(),
        cte: Cte::SevenBit,
        disposition: None,
        content_id: None,
        bytes: t.clone().into_bytes(),
        expect: t.into_bytes(),
        filename: None,
    })
}

fn attachment(mime: &str, filename: &str, bytes: Vec<u8>) -> Part {
    Part::Leaf(Leaf {
        content_type: format!("{mime}; name=\"{filename}\""),
        cte: Cte::Base64,
        disposition: Some(format!("attachment; filename=\"{filename}\"")),
        content_id: None,
        expect: bytes.clone(),
        bytes,
        filename: Some(filename.to_string()),
    })
}

fn inline_image(filename: &str, cid: &str, bytes: Vec<u8>) -> Part {
    Part::Leaf(Leaf {
        content_type: format!("image/png; name=\"{filename}\""),
        cte: Cte::Base64,
        disposition: Some(format!("inline; filename=\"{filename}\"")),
        content_id: Some(format!("<{cid}>")),
        expect: bytes.clone(),
        bytes,
        filename: Some(filename.to_string()),
    })
}

fn multi(subtype: &'static str, parts: Vec<Part>) -> Part {
    Part::Multi {
        subtype,
        params: "",
        parts,
    }
}

/// Plain text to simple HTML (paragraphs, quoted blocks).
fn text_to_html(text: &str) -> String {
    let esc = |s: &str| {
        s.replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
    };
    let mut html = String::from("<div dir=\"ltr\">");
    for para in text.split("\n\n") {
        // Runs of quoted and unquoted lines.
        let mut runs: Vec<(bool, Vec<&str>)> = Vec::new();
        for line in para.lines() {
            let quoted = line.starts_with('>');
            match runs.last_mut() {
                Some((q, lines)) if *q == quoted => lines.push(line),
                _ => runs.push((quoted, vec![line])),
            }
        }
        for (quoted, lines) in runs {
            if quoted {
                let inner: Vec<String> = lines
                    .iter()
                    .map(|l| esc(l.trim_start_matches('>').trim_start()))
                    .collect();
                html.push_str(&format!(
                    "<blockquote class=\"gmail_quote\" style=\"margin:0 0 0 .8ex;border-left:1px #ccc solid;padding-left:1ex\">{}</blockquote>",
                    inner.join("<br>")
                ));
            } else {
                let inner: Vec<String> = lines.iter().map(|l| esc(l)).collect();
                html.push_str(&format!("<p>{}</p>", inner.join("<br>")));
            }
        }
    }
    html.push_str("</div>");
    html
}

fn boundary(rng: &mut Rng) -> String {
    format!("000000000000{:012x}", rng.next_u64() & 0xFFFF_FFFF_FFFF)
}

fn render_part(part: &Part, rng: &mut Rng, out: &mut Vec<u8>) {
    match part {
        Part::Leaf(l) => {
            out.extend_from_slice(format!("Content-Type: {}\r\n", l.content_type).as_bytes());
            if let Some(d) = &l.disposition {
                out.extend_from_slice(format!("Content-Disposition: {d}\r\n").as_bytes());
            }
            if let Some(cid) = &l.content_id {
                out.extend_from_slice(format!("Content-ID: {cid}\r\n").as_bytes());
                let bare = cid.trim_matches(|c| c == '<' || c == '>');
                out.extend_from_slice(format!("X-Attachment-Id: {bare}\r\n").as_bytes());
            }
            out.extend_from_slice(
                format!("Content-Transfer-Encoding: {}\r\n\r\n", l.cte.name()).as_bytes(),
            );
            match l.cte {
                Cte::SevenBit => out.extend_from_slice(&l.bytes),
                Cte::QuotedPrintable => qp_body(&l.bytes, out),
                Cte::Base64 => base64_body(&l.bytes, out),
            }
        }
        Part::Multi {
            subtype,
            params,
            parts,
        } => {
            let b = boundary(rng);
            out.extend_from_slice(
                format!("Content-Type: multipart/{subtype}; boundary=\"{b}\"{params}\r\n\r\n")
                    .as_bytes(),
            );
            for p in parts {
                out.extend_from_slice(format!("--{b}\r\n").as_bytes());
                render_part(p, rng, out);
                out.extend_from_slice(b"\r\n");
            }
            out.extend_from_slice(format!("--{b}--\r\n").as_bytes());
        }
    }
}
// ---------------------------------------------------------------------------------------
// People, time, messages
// ---------------------------------------------------------------------------------------

#[derive(Clone, Copy, Debug)]
struct Person {
    key: &'static str,
    name: &'static str,
    email: &'static str,
    tz: Tz,
    /// How a non-ASCII display name is encoded.
    enc: HdrEnc,
}

const fn person(key: &'static str, name: &'static str, email: &'static str, tz: Tz) -> Person {
    Person {
        key,
        name,
        email,
        tz,
        enc: HdrEnc::B,
    }
}

const LA: Tz = chrono_tz::America::Los_Angeles;

const PEOPLE: &[Person] = &[
    person("me", "Demo User", DEMO_EMAIL, LA),
    person("bob", "Bob Example", SECOND_EMAIL, LA),
    person("alice", "Alice Chen", "alice.chen@northwind.example", LA),
    person(
        "raj",
        "Raj Patel",
        "raj.patel@northwind.example",
        chrono_tz::America::New_York,
    ),
    Person {
        enc: HdrEnc::Q,
        ..person(
            "maria",
            "María García",
            "maria.garcia@northwind.example",
            chrono_tz::Europe::Madrid,
        )
    },
    Person {
        enc: HdrEnc::Q,
        ..person(
            "jurgen",
            "Jürgen Müller",
            "juergen.mueller@fabrikam.example",
            chrono_tz::Europe::Berlin,
        )
    },
    person(
        "dmitry",
        "Дмитрий Иванов",
        "dmitry.ivanov@example.ru",
        chrono_tz::Europe::Moscow,
    ),
    person(
        "hanako",
        "田中 花子",
        "hanako.tanaka@example.jp",
        chrono_tz::Asia::Tokyo,
    ),
    Person {
        enc: HdrEnc::Q,
        ..person(
            "zoe",
            "Zoë Martin",
            "zoe.martin@contoso.example",
            chrono_tz::Europe::Paris,
        )
    },
    person(
        "sam",
        "Sam Okafor",
        "sam.okafor@contoso.example",
        chrono_tz::America::Chicago,
    ),
    person("priya", "Priya Nair", "priya.nair@example.net", LA),
    person(
        "tom",
        "Tom Becker",
        "tom.becker@example.net",
        chrono_tz::America::Denver,
    ),
    person(
        "mom",
        "Linda User",
        "linda.user@example.net",
        chrono_tz::America::Chicago,
    ),
    person(
        "lena",
        "Lena Kowalski",
        "lena@alpha-vendor.example",
        chrono_tz::Europe::Warsaw,
    ),
    person(
        "kenji",
        "Kenji Watanabe",
        "kenji.watanabe@northwind.example",
        LA,
    ),
    person(
        "nora",
        "Nora Lindqvist",
        "nora@talentbridge.example",
        chrono_tz::Europe::Stockholm,
    ),
    person(
        "carlos",
        "Carlos Mendes",
        "carlos.mendes@northwind.example",
        chrono_tz::America::Sao_Paulo,
    ),
    person("it", "Northwind IT", "it-helpdesk@northwind.example", LA),
    person(
        "hr",
        "Northwind People Team",
        "people@northwind.example",
        LA,
    ),
    person("landlord", "Greg Hollis", "greg.hollis@example.org", LA),
    // Services and lists.
    person(
        "rustweekly",
        "Rust Weekly",
        "newsletter@rustweekly.example.org",
        chrono_tz::UTC,
    ),
    person(
        "brief",
        "The Morning Brief",
        "hello@morningbrief.example.com",
        chrono_tz::America::New_York,
    ),
    person(
        "rustusers",
        "rust-users list",
        "rust-users@lists.example.org",
        chrono_tz::UTC,
    ),
    person("shop", "ShopMart Orders", "orders@shopmart.example.com", LA),
    person("shoppromo", "ShopMart", "deals@shopmart.example.com", LA),
    person("rides", "Zoom Rides", "receipts@zoomrides.example.com", LA),
    person(
        "bank",
        "Evergreen Bank",
        "alerts@evergreenbank.example.com",
        LA,
    ),
    person("cloudbox", "Cloudbox", "billing@cloudbox.example.com", LA),
    person(
        "github",
        "Alpha Bot",
        "notifications@codehub.example.com",
        chrono_tz::UTC,
    ),
    person("linkup", "LinkUp", "notifications@linkup.example.com", LA),
    person(
        "skyways",
        "Skyways Airlines",
        "no-reply@skyways.example.com",
        LA,
    ),
    person(
        "hotel",
        "Harborview Hotels",
        "reservations@harborview.example.com",
        LA,
    ),
    person(
        "calendar",
        "Northwind Calendar",
        "calendar@northwind.example",
        LA,
    ),
    person(
        "coffee",
        "Bean There Coffee",
        "hello@beanthere.example.com",
        LA,
    ),
    person(
        "spam1",
        "Prize Department",
        "winner@lucky-prizes.example.biz",
        chrono_tz::UTC,
    ),
    person(
        "spam2",
        "Crypto Gains",
        "vip@crypto-gains.example.biz",
        chrono_tz::UTC,
    ),
    person(
        "spam3",
        "Account Security",
        "security@paypai-verify.example.biz",
        chrono_tz::UTC,
    ),
    person(
        "spam4",
        "Dr. Harold Bello",
        "harold.bello@inheritance.example.biz",
        chrono_tz::UTC,
    ),
];

fn who(key: &str) -> Person {
    *PEOPLE
        .iter()
        .find(|p| p.key == key)
        .unwrap_or_else(|| panic!("seed: unknown person {key}"))
}

fn first_name(p: &Person) -> &'static str {
    p.name.split(' ').next().unwrap_or(p.name)
}

/// `Name <addr>` with the display name quoted or RFC 2047-encoded as needed.
fn format_addr(p: &Person) -> String {
    if !p.name.is_ascii() {
        format!("{} <{}>", encode_words(p.name, p.enc), p.email)
    } else if p.name.chars().any(|c| ",.;:@()<>\"[]".contains(c)) {
        format!("\"{}\" <{}>", p.name.replace('"', "'"), p.email)
    } else {
        format!("{} <{}>", p.name, p.email)
    }
}

/// A header with a list of addresses, folded one address per line when long.
fn addr_header(name: &str, people: &[Person]) -> String {
    let items: Vec<String> = people.iter().map(format_addr).collect();
    let one_line = format!("{name}: {}", items.join(", "));
    if one_line.len() <= 76 && !one_line.contains("\r\n") {
        one_line
    } else {
        format!("{name}: {}", items.join(",\r\n "))
    }
}

/// Milliseconds for a local time in Los Angeles (the demo user's zone).
fn la_ms(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> i64 {
    let naive = chrono::NaiveDate::from_ymd_opt(y, mo, d)
        .and_then(|d| d.and_hms_opt(h, mi, 0))
        .unwrap_or_else(|| panic!("seed: bad date {y}-{mo}-{d} {h}:{mi}"));
    LA.from_local_datetime(&naive)
        .earliest()
        .map(|t| t.timestamp_millis())
        .unwrap_or_else(|| panic!("seed: bad local time {y}-{mo}-{d} {h}:{mi}"))
}

/// RFC 5322 date in the sender's zone.
fn rfc2822(ms: i64, tz: Tz) -> String {
    let dt = chrono::DateTime::from_timestamp_millis(ms)
        .unwrap_or_default()
        .with_timezone(&tz);
    dt.format("%a, %d %b %Y %H:%M:%S %z").to_string()
}

/// Gmail-style quote attribution line.
fn attribution(ms: i64, p: &Person) -> String {
    let dt = chrono::DateTime::from_timestamp_millis(ms)
        .unwrap_or_default()
        .with_timezone(&LA);
    format!(
        "On {}, {} <{}> wrote:",
        dt.format("%a, %b %-d, %Y at %-I:%M %p"),
        p.name,
        p.email
    )
}

fn quote(text: &str) -> String {
    text.trim_end()
        .lines()
        .map(|l| {
            if l.starts_with('>') {
                format!(">{l}")
            } else if l.is_empty() {
                ">".to_string()
            } else {
                format!("> {l}")
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// One message before rendering.
#[derive(Clone, Debug)]
struct Mail {
    from: Person,
    to: Vec<Person>,
    cc: Vec<Person>,
    date_ms: i64,
    subject: String,
    subject_enc: SubjectEnc,
    message_id: String,
    in_reply_to: Option<String>,
    references: Vec<String>,
    extra_headers: Vec<(String, String)>,
    body: Part,
    system_labels: Vec<String>,
    user_labels: Vec<String>,
    /// The plain text of this message's own words (for quoting in replies).
    text: String,
    /// Thread key (for tests and unread selection).
    thread: usize,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum SubjectEnc {
    Utf8(HdrEnc),
    Latin1Q,
}

impl Mail {
    fn render(&self, delivered_to: Option<&str>, rng: &mut Rng) -> Vec<u8> {
        let mut h: Vec<String> = Vec::new();
        if let Some(d) = delivered_to {
            h.push(format!("Delivered-To: {d}"));
        }
        h.push(format!("Return-Path: <{}>", self.from.email));
        h.push("MIME-Version: 1.0".to_string());
        h.push(format!("Date: {}", rfc2822(self.date_ms, self.from.tz)));
        h.push(format!("Message-ID: {}", self.message_id));
        if let Some(irt) = &self.in_reply_to {
            h.push(format!("In-Reply-To: {irt}"));
        }
        if !self.references.is_empty() {
            h.push(format!("References: {}", self.references.join("\r\n ")));
        }
        let subject = match self.subject_enc {
            SubjectEnc::Utf8(enc) => encode_words(&self.subject, enc),
            SubjectEnc::Latin1Q => encode_latin1_q(&self.subject),
        };
        h.push(format!("Subject: {subject}"));
        h.push(addr_header("From", std::slice::from_ref(&self.from)));
        if !self.to.is_empty() {
            h.push(addr_header("To", &self.to));
        }
        if !self.cc.is_empty() {
            h.push(addr_header("Cc", &self.cc));
        }
        for (k, v) in &self.extra_headers {
            h.push(format!("{k}: {v}"));
        }
        let mut out = Vec::new();
        for line in h {
            out.extend_from_slice(line.as_bytes());
            out.extend_from_slice(b"\r\n");
        }
        render_part(&self.body, rng, &mut out);
        out
    }
}
// ---------------------------------------------------------------------------------------
// Hand-written conversations
// ---------------------------------------------------------------------------------------

/// How a message body is built.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Style {
    /// text/plain (7bit, or quoted-printable when non-ASCII).
    Plain,
    /// multipart/alternative: text/plain + text/html.
    Alt,
    /// text/plain UTF-8 in base64.
    B64,
    /// text/plain ISO-8859-1 in quoted-printable.
    Latin1,
    /// multipart/related: HTML with an inline logo (Content-ID), inside alternative.
    Related,
}

#[derive(Clone, Copy, Debug)]
enum Att {
    /// (file name, document title)
    Pdf(&'static str, &'static str),
    Png(&'static str),
    Csv(&'static str),
    /// The one attachment over 5 MB.
    BigCsv(&'static str),
}

#[derive(Clone, Copy, Debug)]
struct M {
    who: &'static str,
    /// Minutes after the previous message of the thread.
    gap: i64,
    body: &'static str,
    att: &'static [Att],
    style: Style,
    /// Recipients of the first message (replies go back to the previous sender).
    to: &'static [&'static str],
    cc: &'static [&'static str],
}

const MD: M = M {
    who: "me",
    gap: 60,
    body: "",
    att: &[],
    style: Style::Plain,
    to: &[],
    cc: &[],
};

#[derive(Clone, Copy, Debug)]
struct T {
    subject: &'static str,
    /// Local (Los Angeles) start: year, month, day, hour, minute.
    start: (i32, u32, u32, u32, u32),
    labels: &'static [&'static str],
    cat: &'static str,
    star: bool,
    important: bool,
    enc: SubjectEnc,
    /// Messages are archived (no INBOX) once read.
    archived: bool,
    /// Also in Bob's mailbox.
    shared_with_bob: bool,
    msgs: &'static [M],
}

const TD: T = T {
    subject: "",
    start: (2026, 1, 1, 9, 0),
    labels: &[],
    cat: "CATEGORY_PERSONAL",
    star: false,
    important: false,
    enc: SubjectEnc::Utf8(HdrEnc::B),
    archived: false,
    shared_with_bob: false,
    msgs: &[],
};

const THREADS: &[T] = &[
    T {
        subject: "Q4 roadmap review",
        start: (2025, 9, 15, 9, 12),
        labels: &["Work"],
        important: true,
        star: true,
        msgs: &[
            M {
                who: "alice",
                style: Style::Alt,
                to: &["me"],
                cc: &["raj"],
                body: "Hi Demo,\n\nAhead of Thursday's review, here is where the Q4 roadmap stands:\n\n- Notifications v2: design done, build starts next sprint\n- Billing export: blocked on the finance API\n- Mobile offline mode: moved to Q1\n\nCould you sanity-check the staffing numbers before I send this to leadership? The deadline is Wednesday noon.\n\nThanks,\nAlice",
                ..MD
            },
            M {
                gap: 95,
                body: "Hi Alice,\n\nThe staffing numbers look right to me, with one caveat: Raj's team is only at 60% for notifications until the billing export is unblocked. I'd call that out explicitly.\n\nI can present the mobile slip if you'd like.\n\nBest,\nDemo",
                ..MD
            },
            M {
                who: "raj",
                gap: 40,
                body: "Agree with Demo. The finance API should land on Oct 6 according to their tracker, so we could recover most of the time. I'll add a risk line to the slide.\n\nRaj",
                ..MD
            },
            M {
                who: "alice",
                gap: 180,
                style: Style::Alt,
                body: "Perfect, thank you both. Updated deck is in the shared folder. Demo, yes please take the mobile slip section.\n\nAlice",
                ..MD
            },
        ],
        ..TD
    },
    T {
        subject: "Project Alpha kickoff",
        start: (2025, 10, 6, 8, 30),
        labels: &["Projects/Alpha"],
        important: true,
        msgs: &[
            M {
                who: "lena",
                to: &["me"],
                cc: &["kenji"],
                style: Style::Alt,
                att: &[Att::Pdf("Alpha-kickoff-agenda.pdf", "Project Alpha - Kickoff Agenda")],
                body: "Hello Demo, hello Kenji,\n\nWelcome to Project Alpha! Attached is the agenda for our kickoff on Monday, October 13 at 9:00 PT. We will cover scope, the sensor rollout plan and the data pipeline.\n\nPlease send me any topics you want to add by Friday.\n\nKind regards,\nLena Kowalski\nAlpha Vendor Sp. z o.o.",
                ..MD
            },
            M {
                gap: 120,
                body: "Hi Lena,\n\nThanks, the agenda looks great. Could we add 15 minutes on data retention? Our legal team wants to understand where raw sensor data is stored.\n\nBest,\nDemo",
                ..MD
            },
            M {
                who: "kenji",
                gap: 35,
                body: "+1 to retention. I'd also like to see the proposed ingestion architecture before the meeting if possible.\n\nKenji",
                ..MD
            },
            M {
                who: "lena",
                gap: 900,
                att: &[Att::Png("alpha-architecture.png")],
                style: Style::Alt,
                body: "Both added. The architecture diagram is attached: sensors push to regional gateways, which batch into the ingestion service every 60 seconds.\n\nSee you Monday,\nLena",
                ..MD
            },
            M {
                gap: 45,
                body: "Thanks Lena, see you Monday.\n\nDemo",
                ..MD
            },
        ],
        ..TD
    },
    T {
        subject: "Alpha sensor data export (Q1)",
        start: (2026, 4, 8, 10, 5),
        labels: &["Projects/Alpha"],
        msgs: &[
            M {
                who: "kenji",
                to: &["me"],
                att: &[Att::BigCsv("alpha-sensor-data-2026-q1.csv")],
                body: "Hi Demo,\n\nHere is the full Q1 export from the Alpha sensors (all four sites, one reading per sensor per minute). It's a big file, about 5.6 MB, sorry about that.\n\nThe WARN rows are the ones I'd like us to look at together.\n\nKenji",
                ..MD
            },
            M {
                gap: 75,
                body: "Got it, thanks Kenji. The north site has noticeably more warnings in February. Let's go through it on Thursday.\n\nDemo",
                ..MD
            },
            M {
                who: "kenji",
                gap: 20,
                body: "Sounds good. I'll bring the gateway logs.\n\nKenji",
                ..MD
            },
        ],
        ..TD
    },
    T {
        subject: "Lunch on Thursday?",
        start: (2026, 2, 10, 11, 20),
        shared_with_bob: true,
        msgs: &[
            M {
                who: "bob",
                to: &["me"],
                body: "Hey,\n\nWant to grab lunch on Thursday? The new ramen place on 3rd just opened.\n\nBob",
                ..MD
            },
            M {
                gap: 25,
                body: "Yes! 12:15 works for me. Should we ask Alice too?\n\nDemo",
                ..MD
            },
            M {
                who: "bob",
                gap: 40,
                body: "Sure, I'll ping her. Meet in the lobby at 12:10.\n\nBob",
                ..MD
            },
            M {
                gap: 10,
                body: "See you then.",
                ..MD
            },
        ],
        ..TD
    },
    T {
        subject: "Q3 offsite planning",
        start: (2026, 5, 19, 14, 0),
        labels: &["Work", "Travel"],
        shared_with_bob: true,
        important: true,
        msgs: &[
            M {
                who: "me",
                to: &["bob"],
                cc: &["alice"],
                style: Style::Alt,
                body: "Hi Bob,\n\nAlice asked us to organise the Q3 offsite. Proposal:\n\n- Dates: September 16-18\n- Location: Lisbon (flights are cheapest then)\n- Budget: about $1,800 per person\n\nCan you check hotel options near the river? I'll draft the agenda.\n\nThanks,\nDemo",
                ..MD
            },
            M {
                who: "bob",
                gap: 160,
                body: "Found three hotels in Baixa under budget. Harborview has a meeting room for 20 people, I've asked for a quote.\n\nBob",
                ..MD
            },
            M {
                who: "alice",
                gap: 300,
                style: Style::Alt,
                body: "Lisbon works. Please make sure there's a vegetarian option for the team dinner. Approved budget: $1,750 per person.\n\nAlice",
                ..MD
            },
        ],
        ..TD
    },
    T {
        subject: "Встреча на следующей неделе",
        start: (2025, 11, 12, 6, 40),
        labels: &["Work"],
        msgs: &[
            M {
                who: "dmitry",
                to: &["me"],
                body: "Здравствуйте, Demo!\n\nМожем ли мы встретиться во вторник в 18:00 по московскому времени (7:00 по тихоокеанскому)? Хочу обсудить интеграцию платёжного шлюза.\n\n(In English: can we meet on Tuesday at 7:00 PT to discuss the payment gateway integration?)\n\nС уважением,\nДмитрий Иванов",
                ..MD
            },
            M {
                gap: 150,
                body: "Hi Dmitry,\n\nTuesday at 7:00 PT works. I'll send an invite. Спасибо!\n\nDemo",
                ..MD
            },
            M {
                who: "dmitry",
                gap: 60,
                body: "Отлично, до вторника! Great, see you on Tuesday.\n\nДмитрий",
                ..MD
            },
        ],
        ..TD
    },
    T {
        subject: "来週の打ち合わせについて",
        start: (2026, 1, 20, 17, 30),
        labels: &["Work"],
        msgs: &[
            M {
                who: "hanako",
                to: &["me"],
                style: Style::B64,
                body: "Demo様\n\nいつもお世話になっております。田中です。\n来週の打ち合わせですが、1月28日（水）の午前10時（日本時間）でいかがでしょうか。\n議題は東京オフィスでのパイロット導入についてです。\n\nよろしくお願いいたします。\n田中 花子",
                ..MD
            },
            M {
                gap: 240,
                body: "Tanaka-san,\n\nThank you. January 28 at 10:00 JST (January 27, 17:00 PT) works for me. I'll prepare the pilot rollout plan for the Tokyo office.\n\nBest regards,\nDemo",
                ..MD
            },
            M {
                who: "hanako",
                gap: 600,
                style: Style::B64,
                body: "ありがとうございます。\nそれでは1月28日にお会いしましょう。資料を事前にお送りします。\n\n田中",
                ..MD
            },
        ],
        ..TD
    },
    T {
        subject: "Angebot für Wartungsvertrag 2026",
        start: (2025, 12, 3, 1, 15),
        enc: SubjectEnc::Latin1Q,
        labels: &["Work"],
        msgs: &[
            M {
                who: "jurgen",
                to: &["me"],
                style: Style::Latin1,
                body: "Sehr geehrte Damen und Herren,\n\nvielen Dank für Ihre Anfrage. Gerne übersenden wir Ihnen bis Freitag unser Angebot für den Wartungsvertrag 2026. Die Preise bleiben gegenüber dem Vorjahr unverändert; die Reaktionszeit verkürzt sich auf vier Stunden.\n\nMit freundlichen Grüßen\nJürgen Müller\nFabrikam GmbH, München",
                ..MD
            },
            M {
                gap: 500,
                body: "Hallo Herr Müller,\n\nvielen Dank! We look forward to the offer. Could you also include an option for weekend support?\n\nBest regards,\nDemo",
                ..MD
            },
            M {
                who: "jurgen",
                gap: 2900,
                style: Style::Latin1,
                att: &[Att::Pdf("Angebot-Wartung-2026.pdf", "Angebot Wartungsvertrag 2026")],
                body: "Guten Tag,\n\nanbei unser Angebot inklusive Wochenend-Support (Option B). Für Rückfragen stehe ich Ihnen gerne zur Verfügung.\n\nMit freundlichen Grüßen\nJürgen Müller",
                ..MD
            },
        ],
        ..TD
    },
    T {
        subject: "Trip to Lisbon 🇵🇹✈️",
        start: (2026, 3, 2, 19, 45),
        labels: &["Travel"],
        star: true,
        msgs: &[
            M {
                who: "tom",
                to: &["me"],
                body: "Dude! Flights to Lisbon are $480 round trip in May 🎉 Are we doing this?\n\nTom",
                ..MD
            },
            M {
                gap: 30,
                body: "YES. May 14-21? I can take that week off.",
                ..MD
            },
            M {
                who: "tom",
                gap: 55,
                body: "Booked! 🛫 Confirmation is SKY-7QX2P. Can you look for an apartment in Alfama?",
                ..MD
            },
            M {
                gap: 1400,
                body: "Found one with a terrace 🌅 $95/night, sleeps 3. Sending you the link tonight.",
                ..MD
            },
            M {
                who: "tom",
                gap: 120,
                body: "Looks amazing. Book it! I'll handle the day trip to Sintra.",
                ..MD
            },
            M {
                gap: 45,
                body: "Done ✅ Obrigado!",
                ..MD
            },
        ],
        ..TD
    },
    T {
        subject: "Thanksgiving plans",
        start: (2025, 11, 5, 16, 10),
        msgs: &[
            M {
                who: "mom",
                to: &["me"],
                body: "Hi sweetie,\n\nAre you coming home for Thanksgiving? Your aunt is bringing the pie again, so please don't bring another one this year :)\n\nLove,\nMom",
                ..MD
            },
            M {
                gap: 200,
                body: "Hi Mom! Yes, I'm flying in on Wednesday evening. I'll bring the cranberry sauce instead.\n\nLove you",
                ..MD
            },
            M {
                who: "mom",
                gap: 90,
                body: "Wonderful! Dad will pick you up from the airport. Send me your flight number.\n\nMom",
                ..MD
            },
            M {
                gap: 30,
                body: "It's SK 1182, landing at 7:40 PM.",
                ..MD
            },
            M {
                who: "mom",
                gap: 15,
                body: "Got it. Safe travels!",
                ..MD
            },
        ],
        ..TD
    },
    T {
        subject: "Family photos from the weekend",
        start: (2025, 12, 1, 18, 30),
        star: true,
        msgs: &[
            M {
                who: "mom",
                to: &["me"],
                style: Style::Related,
                att: &[Att::Png("thanksgiving-table.png")],
                body: "Here are a few photos from Thanksgiving. The one with the pie is my favourite!\n\nLove,\nMom",
                ..MD
            },
            M {
                gap: 60,
                body: "These are great, thank you! Printing the pie one for the fridge.",
                ..MD
            },
        ],
        ..TD
    },
    T {
        subject: "Lease renewal for 2026",
        start: (2025, 10, 20, 10, 0),
        important: true,
        msgs: &[
            M {
                who: "landlord",
                to: &["me"],
                att: &[Att::Pdf("lease-renewal-2026.pdf", "Residential Lease Renewal 2026")],
                body: "Hello,\n\nYour lease at 214 Pine St, Apt 5 ends on December 31. Attached is the renewal for 2026; the monthly rent increases by 3% to $2,318. Please sign and return it by November 30.\n\nRegards,\nGreg Hollis",
                ..MD
            },
            M {
                gap: 1500,
                body: "Hi Greg,\n\nThanks for sending this. Is the increase negotiable if I sign for 18 months instead of 12?\n\nBest,\nDemo",
                ..MD
            },
            M {
                who: "landlord",
                gap: 1300,
                body: "For an 18-month lease I can keep the rent at the current $2,250. I'll send an updated document.\n\nGreg",
                ..MD
            },
        ],
        ..TD
    },
    T {
        subject: "Interview loop for Senior Backend Engineer",
        start: (2026, 6, 9, 8, 0),
        msgs: &[
            M {
                who: "nora",
                to: &["me"],
                style: Style::Alt,
                body: "Hi Demo,\n\nThanks for your time on the phone yesterday! The team would love to move you to the interview loop. It consists of a system design session, a coding session and a conversation with the hiring manager.\n\nCould you share your availability for the week of June 22?\n\nBest,\nNora Lindqvist\nTalentBridge",
                ..MD
            },
            M {
                gap: 240,
                body: "Hi Nora,\n\nThanks! I'm available June 23 and 24, any time between 9:00 and 15:00 PT.\n\nBest,\nDemo",
                ..MD
            },
            M {
                who: "nora",
                gap: 1400,
                style: Style::Alt,
                body: "Great, you're confirmed for Tuesday June 23, 10:00-13:00 PT. Video links will follow.\n\nNora",
                ..MD
            },
            M {
                gap: 30,
                body: "Perfect, thank you Nora.",
                ..MD
            },
        ],
        ..TD
    },
    T {
        subject: "Visite de Zoë à Seattle",
        start: (2026, 7, 14, 2, 30),
        enc: SubjectEnc::Utf8(HdrEnc::Q),
        labels: &["Work"],
        msgs: &[
            M {
                who: "zoe",
                to: &["me"],
                cc: &["sam"],
                body: "Bonjour Demo,\n\nJe serai à Seattle du 3 au 5 août. Serait-il possible de visiter vos bureaux et de faire une démo de la plateforme ? Sam m'accompagnera.\n\n(Short version: I'm in Seattle Aug 3-5, could we visit your office for a demo? Sam will join.)\n\nÀ bientôt,\nZoë",
                ..MD
            },
            M {
                gap: 420,
                body: "Bonjour Zoë,\n\nAvec plaisir ! August 4 at 14:00 works best. I'll book a room and arrange visitor badges for you and Sam.\n\nDemo",
                ..MD
            },
            M {
                who: "sam",
                gap: 200,
                body: "Thanks Demo, we'll see you on the 4th. I'll send our names for the badges.\n\nSam",
                ..MD
            },
        ],
        ..TD
    },
    T {
        subject: "Laptop refresh ticket #48213",
        start: (2026, 8, 4, 9, 15),
        labels: &["Work"],
        archived: true,
        msgs: &[
            M {
                who: "it",
                to: &["me"],
                body: "Hello,\n\nYour laptop is due for a refresh. Please pick a model by August 15:\n\n  1. 14\" ultralight (16 GB RAM)\n  2. 16\" performance (32 GB RAM)\n\nReply to this email with your choice.\n\nNorthwind IT Helpdesk",
                ..MD
            },
            M {
                gap: 50,
                body: "Hi, option 2 please. Thanks!",
                ..MD
            },
            M {
                who: "it",
                gap: 2800,
                body: "Your new laptop is ready for pickup at the 4th floor helpdesk. Please bring your old device.\n\nNorthwind IT Helpdesk",
                ..MD
            },
        ],
        ..TD
    },
    T {
        subject: "H1 budget spreadsheet",
        start: (2026, 1, 8, 13, 0),
        labels: &["Work"],
        msgs: &[
            M {
                who: "raj",
                to: &["me"],
                cc: &["alice"],
                att: &[Att::Csv("h1-2026-budget.csv")],
                body: "Hi Demo,\n\nAttached is the H1 budget broken down by team. Cloud spend is up 12% because of the Alpha pilot; everything else is flat.\n\nCan you review the engineering lines by Monday?\n\nRaj",
                ..MD
            },
            M {
                gap: 1700,
                body: "Hi Raj,\n\nEngineering lines look right. One question: is the Alpha pilot cost shared with the vendor or fully on us?\n\nDemo",
                ..MD
            },
            M {
                who: "raj",
                gap: 90,
                body: "Fully on us for H1, shared from H2 per the contract.\n\nRaj",
                ..MD
            },
            M {
                who: "alice",
                gap: 240,
                style: Style::Alt,
                body: "Thanks both, approved. Raj, please submit it to finance.\n\nAlice",
                ..MD
            },
        ],
        ..TD
    },
    T {
        subject: "Open enrollment closes Friday",
        start: (2025, 10, 28, 9, 0),
        msgs: &[
            M {
                who: "hr",
                to: &["me"],
                style: Style::Alt,
                body: "Hi Demo,\n\nA reminder that benefits open enrollment closes this Friday, October 31. If you don't make changes, your current elections roll over.\n\nThe People Team",
                ..MD
            },
            M {
                gap: 300,
                body: "Hi, quick question: can I add a dependent to dental coverage after the deadline if I get married in December?\n\nThanks,\nDemo",
                ..MD
            },
            M {
                who: "hr",
                gap: 1200,
                style: Style::Alt,
                body: "Yes, marriage is a qualifying life event: you'll have 30 days from the date of marriage to add your spouse. Congratulations in advance!\n\nThe People Team",
                ..MD
            },
        ],
        ..TD
    },
    T {
        subject: "Code review: scheduler retry logic",
        start: (2026, 9, 15, 10, 0),
        labels: &["Projects/Alpha"],
        msgs: &[
            M {
                who: "carlos",
                to: &["me"],
                body: "Hi Demo,\n\nCould you review my change to the scheduler retry logic? It replaces the fixed 5s delay with exponential backoff capped at 2 minutes.",
                ..MD
            },
            M {
                gap: 90,
                body: "Looks good overall. Two things: add jitter so gateways don't retry in lockstep, and log the attempt number.",
                ..MD
            },
            M {
                who: "carlos",
                gap: 60,
                body: "Good call on jitter. Full jitter or equal jitter?",
                ..MD
            },
            M {
                gap: 20,
                body: "Full jitter is fine here. The cap protects us anyway.",
                ..MD
            },
            M {
                who: "carlos",
                gap: 140,
                body: "Pushed. Also added a test that fakes the clock.",
                ..MD
            },
            M {
                gap: 45,
                body: "The test is flaky on my machine: it assumes the retry happens within 10 ms.",
                ..MD
            },
            M {
                who: "carlos",
                gap: 70,
                body: "Fixed, the test now advances the fake clock explicitly instead of sleeping.",
                ..MD
            },
            M {
                gap: 15,
                body: "Approved. Ship it! 🚀",
                ..MD
            },
        ],
        ..TD
    },
    T {
        subject: "Fwd: Contoso contract questions",
        start: (2026, 3, 16, 9, 40),
        labels: &["Work"],
        msgs: &[
            M {
                who: "alice",
                to: &["me"],
                style: Style::Alt,
                body: "Demo, can you answer Sam's questions below? You know the SLA details better than I do.\n\nThanks,\nAlice\n\n---------- Forwarded message ---------\nFrom: Sam Okafor <sam.okafor@contoso.example>\nDate: Mon, Mar 16, 2026 at 8:02 AM\nSubject: Contoso contract questions\nTo: Alice Chen <alice.chen@northwind.example>\n\nHi Alice,\n\nBefore we sign the renewal, two questions:\n1. Does the 99.9% uptime SLA include scheduled maintenance?\n2. Can we get monthly instead of quarterly invoicing?\n\nThanks,\nSam",
                ..MD
            },
            M {
                gap: 110,
                body: "Hi Alice,\n\n1. No, scheduled maintenance is excluded, but it is capped at 4 hours per month and announced 7 days ahead.\n2. Monthly invoicing is fine, finance just needs a PO number.\n\nHappy to reply to Sam directly if you prefer.\n\nDemo",
                ..MD
            },
            M {
                who: "alice",
                gap: 30,
                body: "Perfect, please reply to him directly and cc me.\n\nAlice",
                ..MD
            },
        ],
        ..TD
    },
];
// ---------------------------------------------------------------------------------------
// Building mail
// ---------------------------------------------------------------------------------------

const KIND_PDF: &str = "application/pdf";
const KIND_PNG: &str = "image/png";
const KIND_CSV: &str = "text/csv";

/// Size of the one big attachment (bytes, before base64).
pub const BIG_ATTACHMENT_BYTES: usize = 5_600_000;

fn str_seed(s: &str) -> u64 {
    // FNV-1a: a stable per-name seed.
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in s.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

fn small_csv(name: &str) -> Vec<u8> {
    let mut rng = Rng::new(str_seed(name));
    let mut s = String::from("team,category,jan,feb,mar,apr,may,jun,total\r\n");
    for team in ["Platform", "Mobile", "Data", "Alpha pilot", "Support"] {
        for cat in ["people", "cloud", "tools"] {
            let months: Vec<u64> = (0..6).map(|_| 2_000 + rng.below(18_000)).collect();
            let total: u64 = months.iter().sum();
            let cells: Vec<String> = months.iter().map(u64::to_string).collect();
            s.push_str(&format!("{team},{cat},{},{total}\r\n", cells.join(",")));
        }
    }
    s.into_bytes()
}

fn att_part(att: &Att, subject: &str, date_ms: i64) -> Part {
    let date = chrono::DateTime::from_timestamp_millis(date_ms)
        .unwrap_or_default()
        .with_timezone(&LA)
        .format("%B %-d, %Y")
        .to_string();
    match *att {
        Att::Pdf(name, title) => attachment(
            KIND_PDF,
            name,
            pdf(
                title,
                &[
                    format!("Date: {date}"),
                    format!("Re: {subject}"),
                    String::new(),
                    "This document was generated for the gmail-sandbox demo mailbox.".into(),
                    "It is a valid one-page PDF with a correct cross-reference table.".into(),
                ],
            ),
        ),
        Att::Png(name) => attachment(KIND_PNG, name, chart_png(str_seed(name))),
        Att::Csv(name) => attachment(KIND_CSV, name, small_csv(name)),
        Att::BigCsv(name) => attachment(KIND_CSV, name, big_csv(BIG_ATTACHMENT_BYTES)),
    }
}

/// The body part for `text` in `style`.
fn body_part(text: &str, style: Style) -> Part {
    let wrapped = wrap(text, 76);
    match style {
        Style::Plain => text_plain(&wrapped),
        Style::Alt => multi(
            "alternative",
            vec![text_plain(&wrapped), text_html(&text_to_html(text))],
        ),
        Style::B64 => text_plain_b64(text),
        Style::Latin1 => text_plain_latin1(&wrapped),
        Style::Related => {
            let html = format!(
                "<div dir=\"ltr\"><img src=\"cid:logo-family@example.net\" alt=\"Family\" width=\"120\" height=\"32\">{}</div>",
                text_to_html(text)
            );
            multi(
                "alternative",
                vec![
                    text_plain(&wrapped),
                    Part::Multi {
                        subtype: "related",
                        params: "; type=\"text/html\"",
                        parts: vec![
                            text_html(&html),
                            inline_image("logo.png", "logo-family@example.net", logo_png()),
                        ],
                    },
                ],
            )
        }
    }
}

fn with_attachments(body: Part, atts: Vec<Part>) -> Part {
    if atts.is_empty() {
        body
    } else {
        let mut parts = vec![body];
        parts.extend(atts);
        multi("mixed", parts)
    }
}

fn re(subject: &str) -> String {
    if subject.starts_with("Re: ") {
        subject.to_string()
    } else {
        format!("Re: {subject}")
    }
}

struct Builder {
    rng: Rng,
    mails: Vec<Mail>,
    counter: u32,
    threads: usize,
    /// Mail that also belongs in Bob's mailbox.
    shared: Vec<usize>,
    /// The mailbox owner (recipient of newsletters, receipts, …).
    owner: Person,
}

impl Builder {
    fn new(seed: u64, owner: Person) -> Self {
        Builder {
            rng: Rng::new(seed),
            mails: Vec::new(),
            counter: 0,
            threads: 0,
            shared: Vec::new(),
            owner,
        }
    }

    fn new_thread(&mut self) -> usize {
        self.threads += 1;
        self.threads
    }

    fn message_id(&mut self, from: &Person) -> String {
        self.counter += 1;
        let domain = match from.key {
            "me" | "bob" => "mail.example.com",
            _ => from.email.split('@').nth(1).unwrap_or("example.com"),
        };
        format!(
            "<{:016x}.{:05}@{}>",
            self.rng.next_u64(),
            self.counter,
            domain
        )
    }

    /// Seconds of jitter so timestamps look natural.
    fn secs(&mut self) -> i64 {
        self.rng.range(0, 59) * 1000
    }

    #[allow(clippy::too_many_arguments)]
    fn mail(
        &mut self,
        thread: usize,
        from: Person,
        to: Vec<Person>,
        cc: Vec<Person>,
        date_ms: i64,
        subject: &str,
        text: &str,
        body: Part,
    ) -> Mail {
        Mail {
            message_id: self.message_id(&from),
            from,
            to,
            cc,
            date_ms,
            subject: subject.to_string(),
            subject_enc: SubjectEnc::Utf8(HdrEnc::B),
            in_reply_to: None,
            references: Vec::new(),
            extra_headers: Vec::new(),
            body,
            system_labels: Vec::new(),
            user_labels: Vec::new(),
            text: text.to_string(),
            thread,
        }
    }

    /// A conversation from a [`T`] spec.
    fn thread(&mut self, t: &T) {
        let tid = self.new_thread();
        let (y, mo, d, h, mi) = t.start;
        let mut time = la_ms(y, mo, d, h, mi) + self.secs();
        let first = &t.msgs[0];
        let origin = who(first.who);
        let first_to: Vec<Person> = first.to.iter().map(|k| who(k)).collect();
        let first_cc: Vec<Person> = first.cc.iter().map(|k| who(k)).collect();
        let mut participants = vec![origin];
        participants.extend(first_to.iter().copied());
        participants.extend(first_cc.iter().copied());
        let mut refs: Vec<String> = Vec::new();
        let mut prev: Option<Mail> = None;
        let mut starred = false;
        for (i, m) in t.msgs.iter().enumerate() {
            if i > 0 {
                time += m.gap * 60_000 + self.secs();
            }
            let from = who(m.who);
            let (to, cc) = match &prev {
                None => (first_to.clone(), first_cc.clone()),
                Some(p) => {
                    let to = if p.from.key != from.key {
                        vec![p.from]
                    } else {
                        first_to.clone()
                    };
                    let cc: Vec<Person> = participants
                        .iter()
                        .filter(|x| x.key != from.key && !to.iter().any(|t| t.key == x.key))
                        .copied()
                        .collect();
                    (to, cc)
                }
            };
            let subject = if i == 0 {
                t.subject.to_string()
            } else {
                re(t.subject)
            };
            let mut text = m.body.to_string();
            if let Some(p) = &prev {
                if m.style != Style::B64 {
                    text = format!(
                        "{}\n\n{}\n{}",
                        m.body,
                        attribution(p.date_ms, &p.from),
                        quote(&p.text)
                    );
                }
            }
            let atts: Vec<Part> = m.att.iter().map(|a| att_part(a, t.subject, time)).collect();
            let body = with_attachments(body_part(&text, m.style), atts);
            let mut mail = self.mail(tid, from, to, cc, time, &subject, m.body, body);
            mail.subject_enc = t.enc;
            if let Some(p) = &prev {
                mail.in_reply_to = Some(p.message_id.clone());
                refs.push(p.message_id.clone());
                mail.references = refs.clone();
            }
            if from.key == "me" {
                mail.system_labels.push("SENT".into());
            } else {
                if !t.archived {
                    mail.system_labels.push("INBOX".into());
                }
                mail.system_labels.push(t.cat.into());
                if t.star && !starred {
                    mail.system_labels.push("STARRED".into());
                    starred = true;
                }
            }
            if t.important {
                mail.system_labels.push("IMPORTANT".into());
            }
            mail.user_labels = t.labels.iter().map(|s| s.to_string()).collect();
            if t.shared_with_bob {
                self.shared.push(self.mails.len());
            }
            prev = Some(mail.clone());
            self.mails.push(mail);
        }
    }

    /// A conversation generated from sentence pools.
    fn generated_thread(&mut self, g: &G) {
        let tid = self.new_thread();
        let (y, mo, d) = g.date;
        let hour = if g.personal { 18 } else { 9 } + self.rng.range(0, 3) as u32;
        let mut time = la_ms(y, mo, d, hour, self.rng.range(0, 59) as u32) + self.secs();
        let others: Vec<Person> = g.people.iter().map(|k| who(k)).collect();
        let me = who("me");
        let n = 2 + self.rng.below(5) as usize; // 2..=6
        let mut prev: Option<Mail> = None;
        let mut refs: Vec<String> = Vec::new();
        let first_from = if self.rng.chance(30) { me } else { others[0] };
        for i in 0..n {
            let from = match &prev {
                None => first_from,
                Some(p) if p.from.key == "me" => *self.rng.pick(&others),
                Some(_) => {
                    if others.len() > 1 && self.rng.chance(30) {
                        let p = prev.as_ref().map(|p| p.from.key).unwrap_or_default();
                        *others.iter().find(|o| o.key != p).unwrap_or(&others[0])
                    } else {
                        me
                    }
                }
            };
            let mut everyone = vec![me];
            everyone.extend(others.iter().copied());
            let to: Vec<Person> = match &prev {
                Some(p) if p.from.key != from.key => vec![p.from],
                _ => everyone
                    .iter()
                    .filter(|x| x.key != from.key)
                    .take(1)
                    .copied()
                    .collect(),
            };
            let cc: Vec<Person> = everyone
                .iter()
                .filter(|x| x.key != from.key && !to.iter().any(|t| t.key == x.key))
                .copied()
                .collect();
            let other_name = first_name(to.first().unwrap_or(&me));
            let pool = if g.personal { PERSONAL } else { WORK };
            let line = if i == 0 {
                self.rng.pick(pool.open).to_string()
            } else if i + 1 == n {
                self.rng.pick(pool.close).to_string()
            } else {
                self.rng.pick(pool.reply).to_string()
            };
            let third = others
                .iter()
                .find(|o| o.key != from.key)
                .map(first_name)
                .unwrap_or("Alice");
            let line = line.replace("{topic}", g.topic).replace("{other}", third);
            let greeting = self.rng.pick(pool.greet).replace("{name}", other_name);
            let sign = self.rng.pick(pool.sign).replace("{me}", first_name(&from));
            let own = format!("{greeting}\n\n{line}\n\n{sign}");
            let mut text = own.clone();
            if let Some(p) = &prev {
                text = format!(
                    "{own}\n\n{}\n{}",
                    attribution(p.date_ms, &p.from),
                    quote(&p.text)
                );
            }
            let style = if !g.personal && from.key != "me" && self.rng.chance(50) {
                Style::Alt
            } else {
                Style::Plain
            };
            let subject = if i == 0 {
                g.subject.to_string()
            } else {
                re(g.subject)
            };
            let body = body_part(&text, style);
            let mut mail = self.mail(tid, from, to, cc, time, &subject, &own, body);
            if let Some(p) = &prev {
                mail.in_reply_to = Some(p.message_id.clone());
                refs.push(p.message_id.clone());
                mail.references = refs.clone();
            }
            if from.key == "me" {
                mail.system_labels.push("SENT".into());
            } else {
                mail.system_labels.push("INBOX".into());
                mail.system_labels.push("CATEGORY_PERSONAL".into());
                if g.important {
                    mail.system_labels.push("IMPORTANT".into());
                }
            }
            mail.user_labels = g.labels.iter().map(|s| s.to_string()).collect();
            prev = Some(mail.clone());
            self.mails.push(mail);
            time += (20 + self.rng.below(600) as i64) * 60_000 + self.secs();
        }
    }

    /// A single message from `from` to `to` (the mailbox owner unless said otherwise).
    #[allow(clippy::too_many_arguments)]
    fn single(
        &mut self,
        from: &str,
        to: Person,
        date_ms: i64,
        subject: &str,
        text: &str,
        body: Part,
        system: &[&str],
        user: &[&str],
    ) -> usize {
        let tid = self.new_thread();
        let date_ms = date_ms + self.secs();
        let mut mail = self.mail(
            tid,
            who(from),
            vec![to],
            vec![],
            date_ms,
            subject,
            text,
            body,
        );
        mail.system_labels = system.iter().map(|s| s.to_string()).collect();
        mail.user_labels = user.iter().map(|s| s.to_string()).collect();
        self.mails.push(mail);
        self.mails.len() - 1
    }

    fn list_headers(&mut self, idx: usize, list_id: &str, unsubscribe: &str) {
        let m = &mut self.mails[idx];
        m.extra_headers.push(("List-Id".into(), list_id.into()));
        m.extra_headers
            .push(("List-Unsubscribe".into(), unsubscribe.into()));
        m.extra_headers.push((
            "List-Unsubscribe-Post".into(),
            "List-Unsubscribe=One-Click".into(),
        ));
        m.extra_headers.push(("Precedence".into(), "bulk".into()));
    }
}

// ---------------------------------------------------------------------------------------
// Generated conversations
// ---------------------------------------------------------------------------------------

struct Pool {
    greet: &'static [&'static str],
    open: &'static [&'static str],
    reply: &'static [&'static str],
    close: &'static [&'static str],
    sign: &'static [&'static str],
}

const WORK: Pool = Pool {
    greet: &["Hi {name},", "Hey {name},", "Hello {name},", "{name},"],
    open: &[
        "I've put together a first draft of the {topic}. Could you take a look before Thursday's sync? Comments directly in the doc are easiest.",
        "Quick heads-up on the {topic}: we're about a week behind, mostly because of the review backlog. I'd like to agree on a new date today.",
        "Can we find 30 minutes this week to go over the {topic}? I have a few open questions about scope and ownership.",
        "Sharing my notes on the {topic}. The main open item is who owns the follow-ups; everything else is on track.",
    ],
    reply: &[
        "Thanks for pulling this together. I left a few comments, mostly small wording changes. The overall direction makes sense to me.",
        "Looks good to me. One question: do we have an owner for the rollout? I'd rather not leave that implicit.",
        "Could we push this to next week? I'm heads-down on the release until Wednesday.",
        "I talked to {other} and they're fine with option B, as long as we keep the old endpoint around for one more release.",
        "Thursday at 2pm works for me. I'll send an invite and book a room.",
        "I updated the tracker with the new dates. The only risk I see is the dependency on the platform team.",
    ],
    close: &[
        "Great, closing the loop on my side. Thanks everyone!",
        "Agreed, let's go with that. I'll update the tracker.",
        "Sounds good. I'll take the follow-ups and report back on Friday.",
        "Thanks, that answers my question.",
    ],
    sign: &["Thanks,\n{me}", "Best,\n{me}", "Cheers,\n{me}", "{me}"],
};

const PERSONAL: Pool = Pool {
    greet: &["Hey {name}!", "Hi {name},", "{name}!"],
    open: &[
        "Are you free for {topic}? Let me know what works for you!",
        "Quick question about {topic}: are we still on? I can't remember what we agreed.",
        "I was thinking about {topic} again. Want to plan it properly this time?",
    ],
    reply: &[
        "Count me in! Saturday works better for me than Sunday though.",
        "Let me check with {other} and get back to you tonight.",
        "Sounds perfect 😊 I'll bring snacks.",
        "Could we do a bit later? I have a dentist appointment in the morning.",
    ],
    close: &[
        "Perfect, see you then!",
        "Great, it's a plan 🎉",
        "Thanks, talk soon!",
    ],
    sign: &["{me}", "Cheers,\n{me}", "xx {me}", "— {me}"],
};

/// A generated conversation.
struct G {
    subject: &'static str,
    topic: &'static str,
    people: &'static [&'static str],
    labels: &'static [&'static str],
    date: (i32, u32, u32),
    personal: bool,
    important: bool,
}

const GD: G = G {
    subject: "",
    topic: "",
    people: &[],
    labels: &["Work"],
    date: (2026, 1, 1),
    personal: false,
    important: false,
};

const GENERATED: &[G] = &[
    G {
        subject: "Design review: notifications service",
        topic: "notifications design doc",
        people: &["alice", "kenji"],
        date: (2025, 9, 22),
        important: true,
        ..GD
    },
    G {
        subject: "Onboarding buddy for Carlos",
        topic: "onboarding checklist",
        people: &["alice", "carlos"],
        date: (2025, 9, 29),
        ..GD
    },
    G {
        subject: "Customer escalation: Contoso invoices",
        topic: "invoice escalation",
        people: &["sam"],
        date: (2025, 10, 2),
        important: true,
        ..GD
    },
    G {
        subject: "Hiring plan for Q1",
        topic: "hiring plan",
        people: &["alice"],
        date: (2025, 12, 10),
        ..GD
    },
    G {
        subject: "Team dinner next Friday",
        topic: "the team dinner",
        people: &["kenji", "maria"],
        date: (2025, 12, 12),
        labels: &[],
        personal: true,
        ..GD
    },
    G {
        subject: "Book club: next pick",
        topic: "book club next month",
        people: &["priya"],
        date: (2026, 1, 29),
        labels: &[],
        personal: true,
        ..GD
    },
    G {
        subject: "Release 2.4 go/no-go",
        topic: "release checklist",
        people: &["raj", "carlos"],
        date: (2026, 2, 24),
        important: true,
        ..GD
    },
    G {
        subject: "Incident follow-up: API latency spike",
        topic: "incident postmortem",
        people: &["kenji", "raj"],
        date: (2026, 3, 18),
        ..GD
    },
    G {
        subject: "Conference talk proposal",
        topic: "talk proposal",
        people: &["priya"],
        date: (2026, 4, 14),
        labels: &[],
        ..GD
    },
    G {
        subject: "Weekend hike?",
        topic: "a hike on Saturday",
        people: &["tom"],
        date: (2026, 4, 23),
        labels: &[],
        personal: true,
        ..GD
    },
    G {
        subject: "Vendor security questionnaire",
        topic: "security questionnaire",
        people: &["lena"],
        date: (2026, 5, 5),
        labels: &["Projects/Alpha"],
        ..GD
    },
    G {
        subject: "Draft OKRs for Q3",
        topic: "OKR draft",
        people: &["alice"],
        date: (2026, 6, 1),
        ..GD
    },
    G {
        subject: "Postgres 17 migration plan",
        topic: "migration plan",
        people: &["carlos", "kenji"],
        date: (2026, 7, 21),
        labels: &["Projects"],
        ..GD
    },
    G {
        subject: "Soccer league signup",
        topic: "the fall soccer league",
        people: &["tom"],
        date: (2026, 8, 10),
        labels: &[],
        personal: true,
        ..GD
    },
    G {
        subject: "On-call handoff notes",
        topic: "on-call handoff",
        people: &["raj"],
        date: (2026, 8, 18),
        ..GD
    },
    G {
        subject: "Birthday dinner for Dad",
        topic: "Dad's birthday dinner",
        people: &["mom"],
        date: (2026, 8, 26),
        labels: &[],
        personal: true,
        ..GD
    },
    G {
        subject: "Moving help on Saturday",
        topic: "helping Priya move",
        people: &["priya"],
        date: (2026, 9, 24),
        labels: &[],
        personal: true,
        ..GD
    },
    G {
        subject: "Docs site redesign",
        topic: "docs redesign mockups",
        people: &["maria"],
        date: (2026, 10, 6),
        ..GD
    },
    G {
        subject: "Recipe you asked for",
        topic: "the lasagna recipe",
        people: &["mom"],
        date: (2026, 10, 15),
        labels: &[],
        personal: true,
        ..GD
    },
    G {
        subject: "Data retention policy update",
        topic: "retention policy",
        people: &["maria", "lena"],
        date: (2026, 10, 27),
        labels: &["Projects/Alpha"],
        important: true,
        ..GD
    },
    G {
        subject: "Alpha dashboard feedback",
        topic: "Alpha dashboard",
        people: &["lena", "kenji"],
        date: (2026, 11, 10),
        labels: &["Projects/Alpha"],
        ..GD
    },
    G {
        subject: "Coffee next week?",
        topic: "coffee next week",
        people: &["maria"],
        date: (2026, 11, 17),
        labels: &[],
        personal: true,
        ..GD
    },
];
// ---------------------------------------------------------------------------------------
// Newsletters, receipts, notifications, spam, …
// ---------------------------------------------------------------------------------------

const RUST_HEADLINES: &[&str] = &[
    "Async closures are stable",
    "A tour of the new trait solver",
    "Faster incremental builds in Cargo",
    "Inside the borrow checker",
    "Error handling patterns in 2026",
    "Embedded Rust on RISC-V",
    "Writing a database in Rust, part 3",
    "Zero-copy parsing in practice",
    "What's new in the 2027 edition plans",
    "Profiling async code",
    "Rust in the Linux kernel: an update",
    "Designing ergonomic builder APIs",
];

const BRIEF_HEADLINES: &[&str] = &[
    "Markets rally as rates hold steady",
    "The quiet comeback of trains",
    "Why everyone is talking about heat pumps",
    "Five charts that explain the housing market",
    "The week in science: fusion, frogs and fungi",
    "How cities are redesigning streets",
    "What the new chip export rules mean",
    "A guide to the best autumn hikes",
];

fn ms_date(ms: i64, fmt: &str) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .unwrap_or_default()
        .with_timezone(&LA)
        .format(fmt)
        .to_string()
}

/// Every `step_days` from a local date until `end` (exclusive), at `h:mi` local.
fn schedule(start: (i32, u32, u32), h: u32, mi: u32, step_days: i64, end: i64) -> Vec<i64> {
    let mut out = Vec::new();
    let mut t = la_ms(start.0, start.1, start.2, h, mi);
    while t < end {
        out.push(t);
        t += step_days * 86_400_000;
    }
    out
}

/// The latest timestamp any seeded message may have (2026-11-21, Los Angeles).
fn seed_end() -> i64 {
    la_ms(2026, 11, 21, 0, 0)
}

impl Builder {
    fn rust_weekly(&mut self, to: Person, issue: u64, t: i64, inbox: bool) {
        let headline = RUST_HEADLINES[(issue as usize) % RUST_HEADLINES.len()];
        let items: Vec<(String, String)> = (1..=4)
            .map(|k| {
                let h = RUST_HEADLINES[(issue as usize + k * 5) % RUST_HEADLINES.len()];
                (
                    h.to_string(),
                    format!("https://rustweekly.example.org/{issue}/{k}"),
                )
            })
            .collect();
        let mut text = format!(
            "Rust Weekly #{issue}\n\nThis week: {headline}.\n\nUpdates from the community:\n"
        );
        for (h, url) in &items {
            text.push_str(&format!("- {h} ({url})\n"));
        }
        text.push_str("\nYou are receiving this because you subscribed at rustweekly.example.org.\nUnsubscribe: https://rustweekly.example.org/unsubscribe");
        let mut html = format!(
            "<!DOCTYPE html><html><body style=\"font-family:sans-serif\"><h1>Rust Weekly #{issue}</h1><p>This week: <strong>{headline}</strong>.</p><h2>Updates from the community</h2><ul>"
        );
        for (h, url) in &items {
            html.push_str(&format!("<li><a href=\"{url}\">{h}</a></li>"));
        }
        html.push_str("</ul><p style=\"color:#888\"><a href=\"https://rustweekly.example.org/unsubscribe\">Unsubscribe</a></p></body></html>");
        let body = multi("alternative", vec![text_plain(&text), text_html(&html)]);
        let subject = format!("Rust Weekly #{issue}: {headline}");
        let mut labels = vec!["CATEGORY_UPDATES"];
        if inbox {
            labels.insert(0, "INBOX");
        }
        let i = self.single(
            "rustweekly",
            to,
            t,
            &subject,
            &text,
            body,
            &labels,
            &["Newsletters"],
        );
        self.list_headers(
            i,
            "Rust Weekly <rust-weekly.lists.example.org>",
            "<mailto:unsubscribe@rustweekly.example.org?subject=unsubscribe>, <https://rustweekly.example.org/unsubscribe?u=1234>",
        );
    }

    /// HTML-only newsletter with links, a list and a table.
    fn morning_brief(&mut self, to: Person, n: usize, t: i64) {
        let headline = BRIEF_HEADLINES[n % BRIEF_HEADLINES.len()];
        let mut rng = Rng::new(9_000 + n as u64);
        let mut rows = String::new();
        for (name, base) in [
            ("S&amp;P 500", 5800u64),
            ("Nasdaq", 19_000),
            ("10-yr Treasury", 4),
        ] {
            let chg = rng.below(300) as i64 - 150;
            rows.push_str(&format!(
                "<tr><td>{name}</td><td style=\"text-align:right\">{}.{:02}</td><td style=\"text-align:right;color:{}\">{:+}.{:02}%</td></tr>",
                base + rng.below(400),
                rng.below(100),
                if chg < 0 { "#c5221f" } else { "#188038" },
                chg / 100,
                chg.abs() % 100
            ));
        }
        let html = format!(
            "<!DOCTYPE html>\n<html>\n<head><meta charset=\"utf-8\"><title>The Morning Brief</title></head>\n<body style=\"font-family:Georgia,serif;max-width:600px\">\n<h1>{headline}</h1>\n<p>Good morning! Here is what you need to know today, {}.</p>\n<ol>\n<li><a href=\"https://morningbrief.example.com/s/{n}/1\">{headline}</a></li>\n<li><a href=\"https://morningbrief.example.com/s/{n}/2\">{}</a></li>\n<li><a href=\"https://morningbrief.example.com/s/{n}/3\">{}</a></li>\n</ol>\n<h2>Markets</h2>\n<table border=\"0\" cellpadding=\"4\" style=\"border-collapse:collapse\">\n<tr><th>Index</th><th>Close</th><th>Change</th></tr>\n{rows}\n</table>\n<p>Enjoying the Brief? <a href=\"https://morningbrief.example.com/refer\">Share it with a friend</a>.</p>\n<p style=\"font-size:11px;color:#777\">The Morning Brief, 100 Example Ave, New York, NY. <a href=\"https://morningbrief.example.com/unsubscribe\">Unsubscribe</a></p>\n</body>\n</html>",
            ms_date(t, "%A, %B %-d"),
            BRIEF_HEADLINES[(n + 3) % BRIEF_HEADLINES.len()],
            BRIEF_HEADLINES[(n + 5) % BRIEF_HEADLINES.len()],
        );
        let subject = format!("The Morning Brief: {headline}");
        let i = self.single(
            "brief",
            to,
            t,
            &subject,
            headline,
            text_html(&html),
            &["INBOX", "CATEGORY_PROMOTIONS"],
            &["Newsletters"],
        );
        self.list_headers(
            i,
            "<daily.morningbrief.example.com>",
            "<https://morningbrief.example.com/unsubscribe?id=5678>",
        );
    }

    /// A conversation on the rust-users mailing list (forums category).
    fn list_thread(&mut self, subject: &str, t0: i64, posts: &[(&str, &str)]) {
        let tid = self.new_thread();
        let list = who("rustusers");
        let mut prev: Option<Mail> = None;
        let mut refs = Vec::new();
        let mut t = t0;
        for (i, (from, text)) in posts.iter().enumerate() {
            let from = who(from);
            let subj = if i == 0 {
                format!("[rust-users] {subject}")
            } else {
                format!("Re: [rust-users] {subject}")
            };
            let body = text_plain(&wrap(
                &format!("{text}\n\n--\nrust-users mailing list\nrust-users@lists.example.org\nhttps://lists.example.org/rust-users"),
                76,
            ));
            let mut mail = self.mail(tid, from, vec![list], vec![], t, &subj, text, body);
            if let Some(p) = &prev {
                mail.in_reply_to = Some(p.message_id.clone());
                refs.push(p.message_id.clone());
                mail.references = refs.clone();
            }
            mail.extra_headers = vec![
                ("List-Id".into(), "Rust users discussion <rust-users.lists.example.org>".into()),
                ("List-Post".into(), "<mailto:rust-users@lists.example.org>".into()),
                ("List-Unsubscribe".into(), "<mailto:rust-users-leave@lists.example.org>, <https://lists.example.org/rust-users/unsubscribe>".into()),
                ("List-Archive".into(), "<https://lists.example.org/rust-users/archive>".into()),
                ("Precedence".into(), "list".into()),
            ];
            mail.system_labels = if from.key == "me" {
                vec!["SENT".into()]
            } else {
                vec!["INBOX".into(), "CATEGORY_FORUMS".into()]
            };
            prev = Some(mail.clone());
            self.mails.push(mail);
            t += (45 + self.rng.below(400) as i64) * 60_000 + self.secs();
        }
    }

    /// Code-hosting notifications about one issue, threaded like the real ones.
    fn codehub_thread(&mut self, number: u32, title: &str, t0: i64, events: &[&str]) {
        let tid = self.new_thread();
        let bot = who("github");
        let me = self.owner;
        let mut t = t0;
        let mut root: Option<String> = None;
        for (i, ev) in events.iter().enumerate() {
            let subject = if i == 0 {
                format!("[northwind/alpha] {title} (#{number})")
            } else {
                format!("Re: [northwind/alpha] {title} (#{number})")
            };
            let text = format!(
                "{ev}\n\n--\nReply to this email directly or view it on CodeHub:\nhttps://codehub.example.com/northwind/alpha/issues/{number}\nYou are receiving this because you are subscribed to this thread."
            );
            let html = format!(
                "<p>{ev}</p><p style=\"font-size:small;color:#666\">&mdash;<br>Reply to this email directly, <a href=\"https://codehub.example.com/northwind/alpha/issues/{number}\">view it on CodeHub</a>.</p>"
            );
            let body = multi(
                "alternative",
                vec![text_plain(&wrap(&text, 76)), text_html(&html)],
            );
            let mut mail = self.mail(tid, bot, vec![me], vec![], t, &subject, ev, body);
            if let Some(r) = &root {
                mail.in_reply_to = Some(r.clone());
                mail.references = vec![r.clone()];
            } else {
                root = Some(mail.message_id.clone());
            }
            mail.extra_headers = vec![
                (
                    "List-Id".into(),
                    "northwind/alpha <alpha.northwind.codehub.example.com>".into(),
                ),
                (
                    "List-Unsubscribe".into(),
                    "<https://codehub.example.com/notifications/unsubscribe/alpha>".into(),
                ),
                ("X-CodeHub-Reason".into(), "subscribed".into()),
            ];
            mail.system_labels = vec!["INBOX".into(), "CATEGORY_UPDATES".into()];
            mail.user_labels = vec!["Projects/Alpha".into()];
            self.mails.push(mail);
            t += (30 + self.rng.below(1500) as i64) * 60_000 + self.secs();
        }
    }

    fn order_shipped(&mut self, to: Person, n: u64, t: i64, with_invoice: bool) {
        let items = [
            ("USB-C charging cable (2 m)", 1299u64),
            ("Noise-cancelling headphones", 19_900),
            ("Cast iron skillet, 12\"", 3_495),
            ("Paperback: The Pragmatic Gardener", 1_850),
            ("Desk lamp with dimmer", 4_299),
            ("Running socks, 3-pack", 1_499),
        ];
        let (item, cents) = items[(n % items.len() as u64) as usize];
        let order = format!(
            "112-{:07}-{:07}",
            4_839_201 + n * 7_919,
            1_000_003 + n * 104_729
        );
        let text = format!(
            "Hello,\n\nYour ShopMart order #{order} has shipped!\n\n  {item}    ${}.{:02}\n\nEstimated delivery: {}.\nTrack your package: https://shopmart.example.com/track/{order}\n\nThanks for shopping with us,\nShopMart",
            cents / 100,
            cents % 100,
            ms_date(t + 3 * 86_400_000, "%A, %B %-d")
        );
        let html = format!(
            "<html><body><h2>Your order has shipped</h2><p>Order <b>#{order}</b></p><table cellpadding=\"6\"><tr><th align=\"left\">Item</th><th align=\"right\">Price</th></tr><tr><td>{}</td><td align=\"right\">${}.{:02}</td></tr></table><p><a href=\"https://shopmart.example.com/track/{order}\">Track your package</a></p></body></html>",
            item.replace('"', "&quot;"),
            cents / 100,
            cents % 100
        );
        let mut body = multi("alternative", vec![text_plain(&text), text_html(&html)]);
        if with_invoice {
            body = with_attachments(
                body,
                vec![attachment(
                    KIND_PDF,
                    &format!("invoice-{order}.pdf"),
                    pdf(
                        &format!("ShopMart Invoice {order}"),
                        &[
                            format!("Date: {}", ms_date(t, "%Y-%m-%d")),
                            format!("Item: {item}"),
                            format!("Total: USD {}.{:02}", cents / 100, cents % 100),
                        ],
                    ),
                )],
            );
        }
        let archived = t < la_ms(2026, 6, 1, 0, 0);
        let labels: &[&str] = if archived {
            &["CATEGORY_UPDATES"]
        } else {
            &["INBOX", "CATEGORY_UPDATES"]
        };
        self.single(
            "shop",
            to,
            t,
            &format!("Your ShopMart order #{order} has shipped"),
            &text,
            body,
            labels,
            &["Receipts"],
        );
    }

    fn ride_receipt(&mut self, n: u64, t: i64) {
        let me = self.owner;
        let fare = 1_150 + (n * 733) % 2_400;
        let part = ms_date(t, "%A");
        let when = if ms_date(t, "%H").parse::<u32>().unwrap_or(12) >= 17 {
            "evening"
        } else {
            "morning"
        };
        let html = format!(
            "<html><body style=\"font-family:Helvetica,Arial,sans-serif\"><h1>Thanks for riding, Demo</h1><p>Your {part} {when} trip</p><table width=\"100%\" cellpadding=\"4\"><tr><td>Trip fare</td><td align=\"right\">${}.{:02}</td></tr><tr><td>Booking fee</td><td align=\"right\">$2.50</td></tr><tr><td><b>Total</b></td><td align=\"right\"><b>${}.{:02}</b></td></tr></table><ul><li>Pickup: 214 Pine St</li><li>Drop-off: SEA Airport, Departures</li></ul><p><a href=\"https://zoomrides.example.com/trips/{n}\">View trip details</a></p></body></html>",
            fare / 100,
            fare % 100,
            (fare + 250) / 100,
            (fare + 250) % 100
        );
        self.single(
            "rides",
            me,
            t,
            &format!("Your {part} {when} trip with Zoom Rides"),
            "Thanks for riding",
            text_html(&html),
            &["CATEGORY_UPDATES"],
            &["Receipts", "Travel"],
        );
    }

    fn bank_statement(&mut self, t: i64) {
        let me = self.owner;
        let month = ms_date(t - 5 * 86_400_000, "%B %Y");
        let text = format!(
            "Hello Demo,\n\nYour Evergreen Bank statement for {month} is ready. Log in to online banking to view it.\n\nAccount ending in 4821\n\nFor your security, we never ask for your password by email.\n\nEvergreen Bank"
        );
        self.single(
            "bank",
            me,
            t,
            &format!("Your {month} statement is ready"),
            &text,
            text_plain(&wrap(&text, 76)),
            &["INBOX", "CATEGORY_UPDATES", "IMPORTANT"],
            &[],
        );
    }

    fn cloudbox_receipt(&mut self, n: u64, t: i64) {
        let me = self.owner;
        let month = ms_date(t, "%B %Y");
        let number = format!("CB-{:06}", 210_044 + n * 17);
        let text = format!(
            "Hi Demo,\n\nThanks for your payment. Your receipt {number} for Cloudbox Pro ({month}) is attached.\n\nAmount: $9.99\nPayment method: Visa ending in 4242\n\nCloudbox Billing"
        );
        let body = with_attachments(
            multi(
                "alternative",
                vec![text_plain(&text), text_html(&text_to_html(&text))],
            ),
            vec![attachment(
                KIND_PDF,
                &format!("receipt-{number}.pdf"),
                pdf(
                    &format!("Cloudbox receipt {number}"),
                    &[format!("Period: {month}"), "Cloudbox Pro: USD 9.99".into()],
                ),
            )],
        );
        self.single(
            "cloudbox",
            me,
            t,
            &format!("Your Cloudbox Pro receipt for {month}"),
            &text,
            body,
            &["CATEGORY_UPDATES"],
            &["Receipts"],
        );
    }

    fn invite(&mut self, title: &str, t: i64, start: (i32, u32, u32, u32, u32)) {
        let me = self.owner;
        let (y, mo, d, h, mi) = start;
        let begin = la_ms(y, mo, d, h, mi);
        let fmt = |ms: i64| {
            chrono::DateTime::from_timestamp_millis(ms)
                .unwrap_or_default()
                .format("%Y%m%dT%H%M%SZ")
                .to_string()
        };
        let uid = format!("{:016x}@northwind.example", str_seed(title));
        let ics = format!(
            "BEGIN:VCALENDAR\nPRODID:-//Northwind//Calendar//EN\nVERSION:2.0\nMETHOD:REQUEST\nBEGIN:VEVENT\nDTSTART:{}\nDTEND:{}\nDTSTAMP:{}\nORGANIZER;CN=Alice Chen:mailto:alice.chen@northwind.example\nUID:{uid}\nATTENDEE;CUTYPE=INDIVIDUAL;ROLE=REQ-PARTICIPANT;PARTSTAT=NEEDS-ACTION;CN=Demo User:mailto:demo@example.com\nSUMMARY:{title}\nLOCATION:Room 4.12 / video call\nSTATUS:CONFIRMED\nEND:VEVENT\nEND:VCALENDAR",
            fmt(begin),
            fmt(begin + 30 * 60_000),
            fmt(t)
        );
        let when = ms_date(begin, "%a %b %-d, %Y %-I:%M %p (PT)");
        let text = format!(
            "Alice Chen has invited you to: {title}\n\nWhen: {when}\nWhere: Room 4.12 / video call\n\nYes / Maybe / No: https://calendar.northwind.example/rsvp/{uid}"
        );
        let html = format!(
            "<div><h3>{title}</h3><p><b>When:</b> {when}<br><b>Where:</b> Room 4.12 / video call</p><p><a href=\"https://calendar.northwind.example/rsvp/{uid}\">RSVP</a></p></div>"
        );
        let body = multi(
            "alternative",
            vec![text_plain(&text), text_html(&html), text_calendar(&ics)],
        );
        self.single(
            "calendar",
            me,
            t,
            &format!("Invitation: {title} @ {when}"),
            &text,
            body,
            &["INBOX", "CATEGORY_PERSONAL"],
            &["Work"],
        );
    }

    fn social(&mut self, n: usize, t: i64) {
        let me = self.owner;
        let events = [
            (
                "Priya Nair endorsed you for Rust",
                "Priya Nair endorsed you for Rust.",
            ),
            (
                "You appeared in 14 searches this week",
                "You appeared in 14 searches this week.",
            ),
            (
                "Kenji Watanabe commented on your post",
                "Kenji Watanabe commented: \"Great write-up on retries!\"",
            ),
            (
                "Congratulate Maria on her work anniversary 🎉",
                "María García is celebrating 3 years at Northwind.",
            ),
            (
                "Nora Lindqvist wants to connect",
                "Nora Lindqvist (TalentBridge) wants to connect.",
            ),
            (
                "Your post reached 1,000 views",
                "Your post about backoff and jitter reached 1,000 views.",
            ),
        ];
        let (subject, line) = events[n % events.len()];
        let text = format!("{line}\n\nSee it on LinkUp: https://linkup.example.com/n/{n}\n\nUnsubscribe: https://linkup.example.com/settings");
        let html = format!(
            "<table width=\"100%\"><tr><td><p>{}</p><p><a href=\"https://linkup.example.com/n/{n}\">See it on LinkUp</a></p></td></tr></table>",
            line.replace('"', "&quot;")
        );
        let i = self.single(
            "linkup",
            me,
            t,
            subject,
            &text,
            multi("alternative", vec![text_plain(&text), text_html(&html)]),
            &["INBOX", "CATEGORY_SOCIAL"],
            &[],
        );
        self.mails[i].extra_headers.push((
            "List-Unsubscribe".into(),
            "<https://linkup.example.com/settings/unsubscribe>".into(),
        ));
    }

    fn promo(&mut self, from: &str, n: usize, t: i64, system: &[&str], related: bool) {
        let me = self.owner;
        let offers = [
            "🎁 48-hour sale: up to 40% off kitchen",
            "Your weekend deals are here ☀️",
            "Last chance: free shipping ends tonight",
            "New arrivals picked for you",
            "☕ Buy one, get one on all lattes",
            "Members save an extra 15% this week",
        ];
        let subject = offers[n % offers.len()];
        let shop = if from == "coffee" {
            "Bean There Coffee"
        } else {
            "ShopMart"
        };
        let html = format!(
            "<html><body style=\"text-align:center;font-family:sans-serif\">{}<h1>{subject}</h1><p>Hand-picked offers from {shop}.</p><ul style=\"list-style:none\"><li><a href=\"https://deals.example.com/{n}/1\">Shop the sale</a></li><li><a href=\"https://deals.example.com/{n}/2\">Browse new arrivals</a></li></ul><p style=\"font-size:10px\"><a href=\"https://deals.example.com/unsubscribe\">Unsubscribe</a></p></body></html>",
            if related {
                "<img src=\"cid:promo-logo@beanthere.example.com\" alt=\"logo\" width=\"120\" height=\"32\">"
            } else {
                ""
            }
        );
        let body = if related {
            Part::Multi {
                subtype: "related",
                params: "; type=\"text/html\"",
                parts: vec![
                    text_html(&html),
                    inline_image(
                        "beanthere-logo.png",
                        "promo-logo@beanthere.example.com",
                        logo_png(),
                    ),
                ],
            }
        } else {
            text_html(&html)
        };
        let i = self.single(from, me, t, subject, subject, body, system, &[]);
        self.mails[i].extra_headers.push((
            "List-Unsubscribe".into(),
            "<mailto:unsubscribe@deals.example.com>, <https://deals.example.com/unsubscribe>"
                .into(),
        ));
    }

    fn spam(&mut self, n: usize, t: i64) {
        let me = self.owner;
        let spam = [
            ("spam1", "CONGRATULATIONS!!! You have WON a $1,000 gift card", "Dear Winner,\n\nYou have been selected to receive a $1,000 gift card. Click here to claim your prize within 24 hours: http://lucky-prizes.example.biz/claim\n\nPrize Department"),
            ("spam2", "Turn $250 into $25,000 in 30 days 💰", "Our VIP crypto signals made members 100x returns. Limited seats! Join now: http://crypto-gains.example.biz/vip"),
            ("spam3", "Action required: your account has been suspended", "We detected unusual activity. Verify your account within 12 hours or it will be closed: http://paypai-verify.example.biz/login"),
            ("spam4", "URGENT BUSINESS PROPOSAL", "Dear Friend,\n\nI am Dr. Harold Bello, attorney to the late Mr. John Example, who left an inheritance of $14.5 million with no next of kin. I seek your assistance to transfer the funds. Reply with your full name and bank details.\n\nDr. Harold Bello"),
        ];
        let (from, subject, text) = spam[n % spam.len()];
        let body = if n.is_multiple_of(2) {
            text_plain(&wrap(text, 76))
        } else {
            multi(
                "alternative",
                vec![text_plain(&wrap(text, 76)), text_html(&text_to_html(text))],
            )
        };
        let mut labels = vec!["SPAM"];
        if !n.is_multiple_of(3) {
            labels.push("UNREAD");
        }
        self.single(from, me, t, subject, text, body, &labels, &[]);
    }

    fn sent(&mut self, to: &str, t: i64, subject: &str, text: &str, atts: Vec<Part>) {
        let body = with_attachments(text_plain(&wrap(text, 76)), atts);
        let tid = self.new_thread();
        let mail_to = vec![who(to)];
        let mut mail = self.mail(tid, who("me"), mail_to, vec![], t, subject, text, body);
        mail.system_labels = vec!["SENT".into()];
        self.mails.push(mail);
    }
}

// ---------------------------------------------------------------------------------------
// Mailboxes
// ---------------------------------------------------------------------------------------

fn demo_mail(b: &mut Builder) {
    let me = who("me");
    let end = seed_end();
    for t in THREADS {
        b.thread(t);
    }
    for g in GENERATED {
        b.generated_thread(g);
    }
    // Newsletters.
    for (i, t) in schedule((2025, 9, 4), 6, 30, 21, end)
        .into_iter()
        .enumerate()
    {
        let inbox = t >= la_ms(2026, 3, 1, 0, 0);
        b.rust_weekly(me, 590 + i as u64, t, inbox);
    }
    for (i, t) in schedule((2025, 9, 8), 5, 0, 30, end)
        .into_iter()
        .enumerate()
    {
        b.morning_brief(me, i, t);
    }
    // Mailing list.
    b.list_thread(
        "How do I share state between async tasks?",
        la_ms(2025, 10, 14, 8, 12),
        &[
            ("priya", "Hi all,\n\nI have a counter that several tokio tasks update. Arc<Mutex<u64>> works but feels heavy. Is there a better pattern?"),
            ("dmitry", "For a plain counter, use Arc<AtomicU64>. A Mutex only pays off when you update several fields together."),
            ("me", "+1 to atomics. If the tasks also need to read a consistent snapshot of several values, a channel to a single owner task is often the cleanest."),
        ],
    );
    b.list_thread(
        "Cargo workspace with shared dependency versions",
        la_ms(2026, 6, 2, 13, 40),
        &[
            ("kenji", "Is there a way to declare dependency versions once for a whole workspace?"),
            ("carlos", "Yes: [workspace.dependencies] in the root manifest, then `foo.workspace = true` in each member."),
            ("kenji", "Perfect, that removed 40 lines of duplication. Thanks!"),
        ],
    );
    b.list_thread(
        "ANN: tiny-mime 0.3 released",
        la_ms(2026, 9, 9, 7, 5),
        &[("priya", "tiny-mime 0.3 is out: RFC 2047 encoded-word support, a streaming base64 decoder and 30% faster header parsing. Feedback welcome!")],
    );
    // Code-hosting notifications.
    b.codehub_thread(
        412,
        "Gateway retries flood the ingestion service",
        la_ms(2026, 2, 3, 11, 0),
        &[
            "kenji opened this issue: during the outage on Feb 2 all gateways retried every 5 seconds and the ingestion service never recovered.",
            "carlos: I can take this. Exponential backoff with jitter should fix it.",
            "carlos linked a pull request that will close this issue: #418.",
        ],
    );
    b.codehub_thread(
        418,
        "Exponential backoff with jitter for gateway retries",
        la_ms(2026, 2, 9, 15, 30),
        &[
            "carlos requested your review on this pull request.",
            "kenji approved these changes.",
            "Merged #418 into main.",
        ],
    );
    b.codehub_thread(
        455,
        "Dashboard shows UTC instead of local time",
        la_ms(2026, 10, 19, 9, 45),
        &[
            "lena opened this issue: timestamps on the Alpha dashboard are in UTC; site operators expect local time.",
            "kenji added the label good-first-issue.",
        ],
    );
    b.codehub_thread(
        461,
        "Release v1.4.0",
        la_ms(2026, 11, 12, 16, 20),
        &["Alpha v1.4.0 was released: backoff with jitter, local-time dashboard, CSV export."],
    );
    // Receipts.
    for (i, t) in schedule((2025, 9, 19), 14, 5, 43, end)
        .into_iter()
        .enumerate()
    {
        b.order_shipped(me, i as u64, t, i % 2 == 0);
    }
    for (i, t) in schedule((2025, 9, 26), 18, 40, 67, end)
        .into_iter()
        .enumerate()
    {
        b.ride_receipt(i as u64, t);
    }
    for t in schedule((2025, 10, 3), 4, 0, 30, end) {
        b.bank_statement(t);
    }
    for (i, t) in schedule((2025, 9, 12), 2, 15, 61, end)
        .into_iter()
        .enumerate()
    {
        b.cloudbox_receipt(i as u64, t);
    }
    // Calendar invitations.
    b.invite(
        "Alpha weekly sync",
        la_ms(2025, 10, 8, 11, 0),
        (2025, 10, 14, 10, 0),
    );
    b.invite(
        "Q4 planning",
        la_ms(2025, 11, 20, 9, 30),
        (2025, 12, 2, 13, 0),
    );
    b.invite(
        "Offsite logistics",
        la_ms(2026, 8, 20, 15, 0),
        (2026, 8, 27, 11, 0),
    );
    b.invite(
        "1:1 Alice / Demo",
        la_ms(2026, 11, 2, 8, 0),
        (2026, 11, 4, 14, 30),
    );
    // Social.
    for (i, t) in schedule((2025, 9, 18), 12, 0, 53, end)
        .into_iter()
        .enumerate()
    {
        b.social(i, t);
    }
    // Travel.
    let e_ticket = |code: &str, route: &str, date: &str| {
        attachment(
            KIND_PDF,
            &format!("e-ticket-{code}.pdf"),
            pdf(
                &format!("Skyways e-ticket {code}"),
                &[
                    "Passenger: DEMO USER".to_string(),
                    format!("Route: {route}"),
                    format!("Date: {date}"),
                ],
            ),
        )
    };
    let flights = [
        (
            "SKY-4MTR8",
            "SEA -> ORD, flight SK 1182",
            "Wed, Nov 26, 2025",
            la_ms(2025, 11, 10, 20, 5),
            true,
        ),
        (
            "SKY-7QX2P",
            "SEA -> LIS, flight SK 214",
            "Thu, May 14, 2026",
            la_ms(2026, 3, 3, 21, 10),
            false,
        ),
        (
            "SKY-9LKD3",
            "SEA -> LIS, flight SK 214",
            "Wed, Sep 16, 2026",
            la_ms(2026, 7, 1, 10, 25),
            false,
        ),
    ];
    for (code, route, date, t, star) in flights {
        let text = format!(
            "Your trip is confirmed!\n\nConfirmation code: {code}\n{route}\nDeparting: {date}\n\nYour e-ticket is attached. Check in online 24 hours before departure.\n\nSkyways Airlines"
        );
        let body = with_attachments(
            multi(
                "alternative",
                vec![text_plain(&text), text_html(&text_to_html(&text))],
            ),
            vec![e_ticket(code, route, date)],
        );
        let mut labels = vec!["INBOX", "CATEGORY_UPDATES", "IMPORTANT"];
        if star {
            labels.push("STARRED");
        }
        b.single(
            "skyways",
            me,
            t,
            &format!("Your Skyways trip is confirmed: {code}"),
            &text,
            body,
            &labels,
            &["Travel"],
        );
    }
    let bp_text = "Your boarding pass for flight SK 214 (SEA -> LIS) is attached. Gate closes 20 minutes before departure.";
    b.single(
        "skyways",
        me,
        la_ms(2026, 5, 13, 9, 0),
        "Boarding pass: SK 214 Seattle to Lisbon",
        bp_text,
        with_attachments(
            text_plain(bp_text),
            vec![attachment(
                KIND_PNG,
                "boarding-pass-SK214.png",
                chart_png(214),
            )],
        ),
        &["INBOX", "CATEGORY_UPDATES"],
        &["Travel"],
    );
    for (t, city, nights) in [
        (la_ms(2026, 3, 5, 12, 0), "Lisbon", 7),
        (la_ms(2026, 6, 2, 16, 45), "Lisbon (team offsite)", 3),
    ] {
        let text = format!(
            "Thank you for booking with Harborview Hotels.\n\nDestination: {city}\nNights: {nights}\nCancellation: free until 48 hours before arrival.\n\nWe look forward to welcoming you!"
        );
        b.single(
            "hotel",
            me,
            t,
            &format!("Booking confirmation: Harborview {city}"),
            &text,
            multi(
                "alternative",
                vec![text_plain(&text), text_html(&text_to_html(&text))],
            ),
            &["INBOX", "CATEGORY_UPDATES"],
            &["Travel"],
        );
    }
    // Promotions (some already deleted).
    for (i, t) in schedule((2025, 9, 6), 7, 0, 47, end)
        .into_iter()
        .enumerate()
    {
        let (from, related) = if i % 3 == 2 {
            ("coffee", i == 5)
        } else {
            ("shoppromo", false)
        };
        let labels: &[&str] = if i < 3 {
            &["TRASH", "CATEGORY_PROMOTIONS"]
        } else {
            &["INBOX", "CATEGORY_PROMOTIONS"]
        };
        b.promo(from, i, t, labels, related);
    }
    // Spam.
    for (i, t) in schedule((2025, 9, 10), 3, 33, 53, end)
        .into_iter()
        .enumerate()
    {
        b.spam(i, t);
    }
    // Things the user sent that got no reply.
    b.sent(
        "landlord",
        la_ms(2025, 12, 1, 8, 10),
        "Rent for December",
        "Hi Greg,\n\nI've sent December's rent via bank transfer, reference PINE-5-DEC.\n\nBest,\nDemo",
        vec![],
    );
    b.sent(
        "raj",
        la_ms(2026, 2, 27, 16, 30),
        "Expense report February",
        "Hi Raj,\n\nAttached are my February expenses for the Alpha site visit.\n\nThanks,\nDemo",
        vec![attachment(
            KIND_CSV,
            "expenses-2026-02.csv",
            small_csv("expenses-2026-02.csv"),
        )],
    );
    b.sent(
        "tom",
        la_ms(2026, 5, 24, 20, 15),
        "Lisbon photos 📸",
        "Tom! Here's the sunset from the terrace. Best trip ever.",
        vec![attachment(KIND_PNG, "lisbon-sunset.png", chart_png(77))],
    );
    b.sent(
        "it",
        la_ms(2026, 9, 2, 9, 5),
        "VPN not connecting from home",
        "Hello,\n\nSince yesterday the VPN client fails with \"TLS handshake timeout\" from my home network. Other sites work fine.\n\nThanks,\nDemo",
        vec![],
    );
    b.sent(
        "hanako",
        la_ms(2026, 2, 2, 16, 0),
        "Pilot rollout plan for the Tokyo office",
        "Tanaka-san,\n\nAs promised, the pilot rollout plan is attached.\n\nBest regards,\nDemo",
        vec![attachment(
            KIND_PDF,
            "tokyo-pilot-plan.pdf",
            pdf(
                "Tokyo pilot rollout plan",
                &[
                    "Phase 1: 20 users, February".into(),
                    "Phase 2: whole office, April".into(),
                ],
            ),
        )],
    );
}

fn bob_mail(b: &mut Builder, shared: Vec<Mail>) {
    let bob = who("bob");
    for mut m in shared {
        m.system_labels = if m.from.key == "bob" {
            vec!["SENT".into()]
        } else {
            vec!["INBOX".into(), "CATEGORY_PERSONAL".into()]
        };
        m.user_labels = m
            .user_labels
            .iter()
            .filter(|l| *l == "Work")
            .cloned()
            .collect();
        b.mails.push(m);
    }
    let end = seed_end();
    for (i, t) in schedule((2026, 8, 6), 6, 30, 21, end)
        .into_iter()
        .take(3)
        .enumerate()
    {
        b.rust_weekly(bob, 638 + i as u64, t, true);
    }
    b.order_shipped(bob, 7, la_ms(2026, 9, 14, 10, 0), true);
    b.order_shipped(bob, 3, la_ms(2026, 3, 2, 10, 0), false);
    let agenda = "Hi Bob,\n\nAgenda for our 1:1 on Thursday:\n\n- Offsite budget\n- Your promotion packet\n- On-call rotation\n\nAlice";
    b.single(
        "alice",
        bob,
        la_ms(2026, 10, 13, 8, 45),
        "1:1 agenda",
        agenda,
        text_plain(agenda),
        &["INBOX", "CATEGORY_PERSONAL", "IMPORTANT"],
        &["Work"],
    );
    let tid = b.new_thread();
    let text = "Hi Raj,\n\nQuick question: do offsite flights go on the team budget or the travel budget?\n\nThanks,\nBob";
    let mut m = b.mail(
        tid,
        bob,
        vec![who("raj")],
        vec![],
        la_ms(2026, 6, 3, 11, 0),
        "Offsite flights budget",
        text,
        text_plain(text),
    );
    m.system_labels = vec!["SENT".into()];
    m.user_labels = vec!["Work".into()];
    b.mails.push(m);
    b.spam(1, la_ms(2026, 7, 7, 3, 0));
    for (i, t) in [la_ms(2026, 4, 2, 9, 0), la_ms(2026, 10, 30, 9, 0)]
        .into_iter()
        .enumerate()
    {
        b.morning_brief(bob, i + 2, t);
    }
    b.social(4, la_ms(2026, 11, 3, 12, 0));
}

/// Demo drafts: a reply draft, two new messages and one with an attachment.
fn demo_drafts(b: &mut Builder, mails: &[Mail]) -> Vec<Mail> {
    let me = who("me");
    let mut drafts = Vec::new();
    // A reply to the latest message of the newest generated conversation.
    if let Some(last) = mails
        .iter()
        .filter(|m| m.subject.ends_with("Coffee next week?") && m.from.key != "me")
        .max_by_key(|m| m.date_ms)
    {
        let text = format!(
            "Hi María,\n\nThursday at 10 works, see you at Bean There!\n\n{}\n{}",
            attribution(last.date_ms, &last.from),
            quote(&last.text)
        );
        let mut d = b.mail(
            0,
            me,
            vec![last.from],
            vec![],
            last.date_ms + 3_600_000,
            &re(&last.subject),
            &text,
            text_plain(&wrap(&text, 76)),
        );
        d.in_reply_to = Some(last.message_id.clone());
        d.references = last.references.clone();
        d.references.push(last.message_id.clone());
        drafts.push(d);
    }
    let t = la_ms(2026, 11, 19, 21, 0);
    let text = "Hi Alice,\n\nHere is a first outline for the 2027 roadmap:\n\n1. Alpha general availability\n2. Notifications v3\n3. Cost reduction\n\nMore soon.";
    drafts.push(b.mail(
        0,
        me,
        vec![who("alice")],
        vec![who("raj")],
        t,
        "2027 roadmap outline",
        text,
        multi(
            "alternative",
            vec![text_plain(text), text_html(&text_to_html(text))],
        ),
    ));
    let text = "Liebe Grüße aus Seattle! Ich freue mich auf unser Treffen in München. 🍺";
    let mut d = b.mail(
        0,
        me,
        vec![who("jurgen")],
        vec![],
        t + 600_000,
        "Grüße aus Seattle",
        text,
        text_plain(text),
    );
    d.subject_enc = SubjectEnc::Utf8(HdrEnc::Q);
    drafts.push(d);
    let text = "Mom, here is the photo I promised.";
    drafts.push(b.mail(
        0,
        me,
        vec![who("mom")],
        vec![],
        t + 1_200_000,
        "Photo from the hike",
        text,
        with_attachments(
            text_plain(text),
            vec![attachment(KIND_PNG, "hike.png", chart_png(5))],
        ),
    ));
    drafts
}

/// Orders mail by time and makes every timestamp unique (Date headers follow).
fn finalize_times(mails: &mut [Mail]) {
    mails.sort_by_key(|m| m.date_ms);
    let mut last = i64::MIN;
    for m in mails.iter_mut() {
        if m.date_ms <= last {
            m.date_ms = last + 1000;
        }
        last = m.date_ms;
    }
}

/// Marks about a third of inbox mail UNREAD: recent mail the user has not answered.
fn mark_unread(mails: &mut [Mail], rng: &mut Rng, owner: &str) {
    let inbox: Vec<usize> = (0..mails.len())
        .filter(|&i| mails[i].system_labels.iter().any(|l| l == "INBOX"))
        .collect();
    let target = inbox.len() / 3;
    let answered = |i: usize, mails: &[Mail]| {
        mails.iter().any(|m| {
            m.thread == mails[i].thread && m.from.email == owner && m.date_ms > mails[i].date_ms
        })
    };
    let mut chosen = 0;
    let mut round = 0;
    while chosen < target && round < 10 {
        for &i in inbox.iter().rev() {
            if chosen >= target {
                break;
            }
            if mails[i].system_labels.iter().any(|l| l == "UNREAD") || answered(i, mails) {
                continue;
            }
            if rng.chance(45) {
                mails[i].system_labels.push("UNREAD".into());
                chosen += 1;
            }
        }
        round += 1;
    }
}

fn render_all(mails: &[Mail], owner: &str) -> Vec<SeedMessage> {
    mails
        .iter()
        .map(|m| {
            let delivered = (m.from.email != owner).then_some(owner);
            let mut rng = Rng::new(str_seed(&m.message_id));
            SeedMessage {
                raw: m.render(delivered, &mut rng),
                system_labels: m.system_labels.clone(),
                user_labels: m.user_labels.clone(),
                internal_date_ms: m.date_ms,
            }
        })
        .collect()
}

fn seed_labels(names: &[(&str, Option<(&str, &str)>)]) -> Vec<SeedLabel> {
    names
        .iter()
        .map(|(n, c)| SeedLabel {
            name: n.to_string(),
            color: c.map(|(t, b)| (t.to_string(), b.to_string())),
        })
        .collect()
}

/// Everything generated, with the pre-render mail kept alongside (for tests).
#[cfg_attr(not(test), allow(dead_code))]
struct Generated {
    mailbox: SeedMailbox,
    mails: Vec<Mail>,
    drafts: Vec<Mail>,
}

fn generate() -> Vec<Generated> {
    let mut b = Builder::new(0x00D3_3D5E_ED00_2026, who("me"));
    demo_mail(&mut b);
    let shared: Vec<Mail> = b.shared.iter().map(|&i| b.mails[i].clone()).collect();
    let mut mails = std::mem::take(&mut b.mails);
    finalize_times(&mut mails);
    mark_unread(&mut mails, &mut b.rng, DEMO_EMAIL);
    let drafts = demo_drafts(&mut b, &mails);
    let demo = SeedMailbox {
        email: DEMO_EMAIL.to_string(),
        display_name: "Demo User".to_string(),
        labels: seed_labels(&[
            ("Work", Some(("#ffffff", "#4a86e8"))),
            ("Receipts", None),
            ("Travel", Some(("#ffffff", "#16a766"))),
            ("Projects", None),
            ("Projects/Alpha", Some(("#ffffff", "#fb4c2f"))),
            ("Newsletters", None),
        ]),
        messages: render_all(&mails, DEMO_EMAIL),
        drafts: drafts
            .iter()
            .map(|d| d.render(None, &mut Rng::new(str_seed(&d.message_id))))
            .collect(),
    };

    let mut bb = Builder::new(0x0B0B_5EED, who("bob"));
    bb.counter = 90_000;
    // Keep Bob's thread keys apart from the shared ones (which come from the demo builder).
    bb.threads = 100_000;
    bob_mail(&mut bb, shared);
    let mut bob_mails = std::mem::take(&mut bb.mails);
    finalize_times(&mut bob_mails);
    mark_unread(&mut bob_mails, &mut bb.rng, SECOND_EMAIL);
    let bob_draft_text = "Alice, attached is my promotion packet draft. Feedback welcome!";
    let bob_drafts = vec![bb.mail(
        0,
        who("bob"),
        vec![who("alice")],
        vec![],
        la_ms(2026, 11, 18, 17, 0),
        "Promotion packet draft",
        bob_draft_text,
        text_plain(bob_draft_text),
    )];
    let bob = SeedMailbox {
        email: SECOND_EMAIL.to_string(),
        display_name: "Bob Example".to_string(),
        labels: seed_labels(&[
            ("Work", Some(("#000000", "#fad165"))),
            ("Receipts", None),
            ("Newsletters", None),
        ]),
        messages: render_all(&bob_mails, SECOND_EMAIL),
        drafts: bob_drafts
            .iter()
            .map(|d| d.render(None, &mut Rng::new(str_seed(&d.message_id))))
            .collect(),
    };
    vec![
        Generated {
            mailbox: demo,
            mails,
            drafts,
        },
        Generated {
            mailbox: bob,
            mails: bob_mails,
            drafts: bob_drafts,
        },
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use mail_parser::{MessageParser, MimeHeaders, PartType};
    use std::collections::{HashMap, HashSet};
    use std::sync::OnceLock;

    fn generated() -> &'static [Generated] {
        static G: OnceLock<Vec<Generated>> = OnceLock::new();
        G.get_or_init(generate)
    }

    fn demo() -> &'static Generated {
        &generated()[0]
    }

    fn bob() -> &'static Generated {
        &generated()[1]
    }

    fn parse(raw: &[u8]) -> mail_parser::Message<'_> {
        MessageParser::default()
            .parse(raw)
            .expect("seeded message parses")
    }

    fn has(m: &SeedMessage, l: &str) -> bool {
        m.system_labels.iter().any(|x| x == l)
    }

    /// Groups messages into threads through In-Reply-To (which must point inside the
    /// mailbox) and checks the References chain and the subject on the way.
    fn threads(mb: &SeedMailbox) -> Vec<Vec<usize>> {
        let parsed: Vec<_> = mb.messages.iter().map(|m| parse(&m.raw)).collect();
        let ids: HashMap<String, usize> = parsed
            .iter()
            .enumerate()
            .map(|(i, p)| (p.message_id().expect("Message-ID").to_string(), i))
            .collect();
        let mut parent: Vec<usize> = (0..parsed.len()).collect();
        fn root(parent: &mut [usize], mut i: usize) -> usize {
            while parent[i] != i {
                parent[i] = parent[parent[i]];
                i = parent[i];
            }
            i
        }
        for (i, p) in parsed.iter().enumerate() {
            let Some(irt) = p.in_reply_to().as_text() else {
                continue;
            };
            let &j = ids
                .get(irt)
                .unwrap_or_else(|| panic!("In-Reply-To {irt} is not in the mailbox"));
            assert!(j < i, "a reply comes after its parent");
            // Full References chain: the parent's references plus the parent.
            let mut expected: Vec<String> = parsed[j]
                .references()
                .as_text_list()
                .map(|l| l.iter().map(|s| s.to_string()).collect())
                .unwrap_or_default();
            expected.push(irt.to_string());
            let refs: Vec<String> = p
                .references()
                .as_text_list()
                .expect("References")
                .iter()
                .map(|s| s.to_string())
                .collect();
            assert_eq!(refs, expected, "References chain of {irt}");
            // Same subject with "Re: ".
            let ps = parsed[j].subject().unwrap_or_default();
            let s = p.subject().unwrap_or_default();
            assert!(
                s == ps || s == format!("Re: {ps}"),
                "subject {s:?} does not continue {ps:?}"
            );
            let (a, b) = (root(&mut parent, i), root(&mut parent, j));
            parent[a] = b;
        }
        let mut groups: HashMap<usize, Vec<usize>> = HashMap::new();
        for i in 0..parsed.len() {
            let r = root(&mut parent, i);
            groups.entry(r).or_default().push(i);
        }
        let mut out: Vec<Vec<usize>> = groups.into_values().collect();
        out.sort();
        out
    }

    #[test]
    fn output_is_deterministic() {
        let a = demo_mailboxes();
        let b = demo_mailboxes();
        assert_eq!(a.len(), 2);
        for (x, y) in a.iter().zip(&b) {
            assert_eq!(x.email, y.email);
            assert_eq!(x.messages.len(), y.messages.len());
            for (m, n) in x.messages.iter().zip(&y.messages) {
                assert!(m.raw == n.raw, "raw differs");
                assert_eq!(m.system_labels, n.system_labels);
                assert_eq!(m.user_labels, n.user_labels);
                assert_eq!(m.internal_date_ms, n.internal_date_ms);
            }
            assert_eq!(x.drafts, y.drafts);
        }
    }

    #[test]
    fn demo_mailbox_counts() {
        let mb = &demo().mailbox;
        assert_eq!(mb.email, DEMO_EMAIL);
        assert_eq!(mb.display_name, "Demo User");
        assert!(mb.messages.len() >= 220, "{} messages", mb.messages.len());
        let threads = threads(mb);
        let multi: Vec<&Vec<usize>> = threads.iter().filter(|t| t.len() >= 2).collect();
        assert!(multi.len() >= 35, "{} conversations", multi.len());
        assert!(multi.iter().all(|t| t.len() <= 8));
        assert!(multi.iter().any(|t| t.len() == 8));
        // Some conversations contain the user's own replies.
        let with_sent = multi
            .iter()
            .filter(|t| t.iter().any(|&i| has(&mb.messages[i], "SENT")))
            .count();
        assert!(with_sent >= 20, "{with_sent}");
        assert!((3..=5).contains(&mb.drafts.len()));
    }

    #[test]
    fn messages_are_time_ordered_and_in_range() {
        for g in generated() {
            let msgs = &g.mailbox.messages;
            assert!(msgs
                .windows(2)
                .all(|w| w[0].internal_date_ms < w[1].internal_date_ms));
            let lo = chrono::NaiveDate::from_ymd_opt(2025, 9, 1)
                .unwrap()
                .and_hms_opt(0, 0, 0)
                .unwrap()
                .and_utc()
                .timestamp_millis();
            let hi = la_ms(2026, 11, 22, 0, 0);
            for m in msgs {
                assert!(m.internal_date_ms >= lo && m.internal_date_ms < hi);
                assert_eq!(m.internal_date_ms % 1000, 0);
            }
        }
        let first = demo().mailbox.messages.first().unwrap().internal_date_ms;
        let last = demo().mailbox.messages.last().unwrap().internal_date_ms;
        assert!(first < la_ms(2025, 9, 10, 0, 0));
        assert!(last > la_ms(2026, 11, 1, 0, 0));
    }

    #[test]
    fn every_raw_is_well_formed_and_parses() {
        for g in generated() {
            let mut seen = HashSet::new();
            let raws = g
                .mailbox
                .messages
                .iter()
                .map(|m| (&m.raw, Some(m.internal_date_ms)))
                .chain(g.mailbox.drafts.iter().map(|d| (d, None)));
            for (raw, date) in raws {
                // CRLF only, lines ≤ 998.
                for (i, &b) in raw.iter().enumerate() {
                    if b == b'\n' {
                        assert!(i > 0 && raw[i - 1] == b'\r', "bare LF");
                    }
                    if b == b'\r' {
                        assert_eq!(raw.get(i + 1), Some(&b'\n'), "bare CR");
                    }
                }
                assert!(raw.split(|&b| b == b'\n').all(|l| l.len() <= 999));
                let head_end = raw
                    .windows(4)
                    .position(|w| w == b"\r\n\r\n")
                    .expect("header/body separator");
                let head = std::str::from_utf8(&raw[..head_end]).expect("ASCII headers");
                assert!(head.is_ascii(), "non-ASCII header: {head}");
                assert!(head.contains("\r\nMIME-Version: 1.0\r\n"));
                assert!(head.contains("\r\nContent-Type: "));
                let p = parse(raw);
                let id = p.message_id().expect("Message-ID").to_string();
                assert!(seen.insert(id.clone()), "duplicate Message-ID {id}");
                assert!(p.subject().is_some_and(|s| !s.is_empty()));
                assert!(p.from().and_then(|a| a.first()).is_some());
                let ts = p.date().expect("Date").to_timestamp();
                if let Some(ms) = date {
                    assert_eq!(ts * 1000, ms, "Date header of {id}");
                }
            }
        }
    }

    /// The leaves a MIME parser sees, decoded, in order.
    fn parsed_leaves(p: &mail_parser::Message<'_>) -> Vec<Vec<u8>> {
        p.parts
            .iter()
            .filter_map(|part| match &part.body {
                PartType::Text(t) | PartType::Html(t) => Some(t.as_bytes().to_vec()),
                PartType::Binary(b) | PartType::InlineBinary(b) => Some(b.to_vec()),
                PartType::Message(_) | PartType::Multipart(_) => None,
            })
            .collect()
    }

    fn norm(b: &[u8]) -> Vec<u8> {
        let s = String::from_utf8_lossy(b).replace("\r\n", "\n");
        s.trim_end().as_bytes().to_vec()
    }

    #[test]
    fn bodies_and_attachments_decode_to_what_was_put_in() {
        for g in generated() {
            let pairs = g
                .mailbox
                .messages
                .iter()
                .map(|m| &m.raw)
                .zip(&g.mails)
                .chain(g.mailbox.drafts.iter().zip(&g.drafts));
            for (raw, mail) in pairs {
                let p = parse(raw);
                let got = parsed_leaves(&p);
                let want = mail.body.leaves();
                assert_eq!(got.len(), want.len(), "leaf count of {}", mail.subject);
                for (g, w) in got.iter().zip(want) {
                    if w.content_type.starts_with("text/") {
                        assert_eq!(
                            norm(g),
                            norm(&w.expect),
                            "text of {} ({})",
                            mail.subject,
                            w.content_type
                        );
                    } else {
                        assert!(
                            *g == w.expect,
                            "bytes of {} ({})",
                            mail.subject,
                            w.content_type
                        );
                    }
                }
                // Attachment names survive.
                let names: Vec<String> = p
                    .attachments()
                    .filter_map(|a| a.attachment_name().map(str::to_string))
                    .collect();
                let want_names: Vec<String> = mail
                    .body
                    .leaves()
                    .iter()
                    .filter_map(|l| l.filename.clone())
                    .collect();
                for n in want_names {
                    assert!(names.contains(&n), "{n} missing in {}", mail.subject);
                }
                // The subject decodes back.
                assert_eq!(p.subject(), Some(mail.subject.as_str()));
            }
        }
    }

    #[test]
    fn every_kind_is_present() {
        let g = demo();
        let mut kinds: HashSet<String> = HashSet::new();
        let mut top: HashSet<String> = HashSet::new();
        for m in &g.mails {
            let mut k = Vec::new();
            m.body.kinds(&mut k);
            top.insert(k[0].clone());
            kinds.extend(k);
        }
        for k in [
            "text/plain",
            "text/html",
            "text/calendar",
            "text/csv",
            "image/png",
            "application/pdf",
            "multipart/alternative",
            "multipart/mixed",
            "multipart/related",
        ] {
            assert!(kinds.contains(k), "{k}");
        }
        for k in [
            "text/plain",
            "text/html",
            "multipart/alternative",
            "multipart/mixed",
        ] {
            assert!(top.contains(k), "top-level {k}");
        }
        let raws: Vec<String> = g
            .mailbox
            .messages
            .iter()
            .map(|m| String::from_utf8_lossy(&m.raw[..m.raw.len().min(20_000)]).into_owned())
            .collect();
        let any = |pat: &str| raws.iter().any(|r| r.contains(pat));
        assert!(any("Subject: =?UTF-8?B?"));
        assert!(any("Subject: =?UTF-8?Q?"));
        assert!(any("Subject: =?ISO-8859-1?Q?"));
        assert!(any("charset=\"ISO-8859-1\""));
        assert!(any("Content-Transfer-Encoding: quoted-printable"));
        assert!(any("Content-ID: <"));
        assert!(any("\r\nList-Id: "));
        assert!(any("\r\nList-Unsubscribe: "));
        assert!(any("\r\nIn-Reply-To: "));
        // UTF-8 text in base64 and in quoted-printable.
        let leaves: Vec<&Leaf> = g.mails.iter().flat_map(|m| m.body.leaves()).collect();
        assert!(leaves.iter().any(|l| l.cte == Cte::Base64
            && l.content_type.starts_with("text/plain; charset=\"UTF-8\"")
            && !l.expect.is_ascii()));
        assert!(leaves.iter().any(|l| l.cte == Cte::QuotedPrintable
            && l.content_type.starts_with("text/plain; charset=\"UTF-8\"")
            && !l.expect.is_ascii()));
        // Emoji, CJK, Cyrillic display name, forward.
        let subjects: Vec<&str> = g.mails.iter().map(|m| m.subject.as_str()).collect();
        assert!(subjects
            .iter()
            .any(|s| s.chars().any(|c| c as u32 >= 0x1F300)));
        assert!(subjects
            .iter()
            .any(|s| s.chars().any(|c| ('\u{4E00}'..='\u{9FFF}').contains(&c))));
        assert!(subjects.iter().any(|s| s.starts_with("Fwd: ")));
        assert!(g.mailbox.messages.iter().any(|m| {
            parse(&m.raw)
                .from()
                .and_then(|a| a.first())
                .and_then(|a| a.name())
                == Some("Дмитрий Иванов")
        }));
    }

    #[test]
    fn labels_are_realistic() {
        let mb = &demo().mailbox;
        let count = |l: &str| mb.messages.iter().filter(|m| has(m, l)).count();
        for l in [
            "SPAM",
            "TRASH",
            "STARRED",
            "IMPORTANT",
            "SENT",
            "CATEGORY_PERSONAL",
            "CATEGORY_SOCIAL",
            "CATEGORY_PROMOTIONS",
            "CATEGORY_UPDATES",
            "CATEGORY_FORUMS",
        ] {
            assert!(count(l) >= 2, "{l}: {}", count(l));
        }
        // Unread: about a third of inbox mail.
        let inbox = count("INBOX");
        let unread_inbox = mb
            .messages
            .iter()
            .filter(|m| has(m, "INBOX") && has(m, "UNREAD"))
            .count();
        let ratio = unread_inbox as f64 / inbox as f64;
        assert!((0.28..=0.38).contains(&ratio), "{unread_inbox}/{inbox}");
        // Inbox mail has a category; spam/trash are not in the inbox; sent mail is ours.
        for m in &mb.messages {
            if has(m, "INBOX") {
                assert!(m.system_labels.iter().any(|l| l.starts_with("CATEGORY_")));
            }
            assert!(!(has(m, "INBOX") && (has(m, "SPAM") || has(m, "TRASH"))));
            if has(m, "SENT") {
                let p = parse(&m.raw);
                let from = p.from().and_then(|a| a.first()).and_then(|a| a.address());
                assert_eq!(from, Some(DEMO_EMAIL));
                assert!(!has(m, "INBOX") && !has(m, "UNREAD"));
            }
        }
        // Archived mail exists (neither INBOX nor SENT/SPAM/TRASH).
        assert!(mb.messages.iter().any(|m| {
            !has(m, "INBOX") && !has(m, "SENT") && !has(m, "SPAM") && !has(m, "TRASH")
        }));
    }

    #[test]
    fn user_labels_are_declared() {
        for g in generated() {
            let declared: HashSet<&str> =
                g.mailbox.labels.iter().map(|l| l.name.as_str()).collect();
            for m in &g.mailbox.messages {
                for l in &m.user_labels {
                    assert!(declared.contains(l.as_str()), "{l} not declared");
                }
            }
            for l in &declared {
                if let Some((parent, _)) = l.rsplit_once('/') {
                    assert!(declared.contains(parent), "parent of {l}");
                }
            }
        }
        let demo_labels: Vec<&str> = demo()
            .mailbox
            .labels
            .iter()
            .map(|l| l.name.as_str())
            .collect();
        for l in [
            "Work",
            "Receipts",
            "Travel",
            "Projects",
            "Projects/Alpha",
            "Newsletters",
        ] {
            assert!(demo_labels.contains(&l), "{l}");
        }
        assert!(demo()
            .mailbox
            .labels
            .iter()
            .any(|l| { l.color == Some(("#ffffff".to_string(), "#fb4c2f".to_string())) }));
        // Every declared label is used.
        for l in &demo_labels {
            assert!(
                demo()
                    .mailbox
                    .messages
                    .iter()
                    .any(|m| m.user_labels.iter().any(|u| u == l))
                    || *l == "Projects",
                "{l} unused"
            );
        }
    }

    #[test]
    fn one_attachment_over_five_megabytes() {
        let big: Vec<&Leaf> = demo()
            .mails
            .iter()
            .flat_map(|m| m.body.leaves())
            .filter(|l| l.bytes.len() > 5 * 1024 * 1024)
            .collect();
        assert_eq!(big.len(), 1);
        assert!(big[0].bytes.len() >= BIG_ATTACHMENT_BYTES);
        assert!(big[0]
            .filename
            .as_deref()
            .is_some_and(|f| f.ends_with(".csv")));
        // Everything else is small.
        let others = demo()
            .mailbox
            .messages
            .iter()
            .filter(|m| m.raw.len() > 1_000_000)
            .count();
        assert_eq!(others, 1);
    }

    #[test]
    fn drafts_include_a_reply() {
        let g = demo();
        let ids: HashSet<String> = g
            .mailbox
            .messages
            .iter()
            .map(|m| parse(&m.raw).message_id().unwrap().to_string())
            .collect();
        let mut replies = 0;
        for d in &g.mailbox.drafts {
            let p = parse(d);
            assert_eq!(
                p.from().and_then(|a| a.first()).and_then(|a| a.address()),
                Some(DEMO_EMAIL)
            );
            if let Some(irt) = p.in_reply_to().as_text() {
                assert!(ids.contains(irt));
                assert!(p.subject().unwrap().starts_with("Re: "));
                replies += 1;
            }
        }
        assert_eq!(replies, 1);
    }

    #[test]
    fn second_mailbox_shares_a_conversation() {
        let b = &bob().mailbox;
        assert_eq!(b.email, SECOND_EMAIL);
        assert!(
            (12..=20).contains(&b.messages.len()),
            "{}",
            b.messages.len()
        );
        let ids = |mb: &SeedMailbox| -> HashSet<String> {
            mb.messages
                .iter()
                .map(|m| parse(&m.raw).message_id().unwrap().to_string())
                .collect()
        };
        let shared = ids(b).intersection(&ids(&demo().mailbox)).count();
        assert!(shared >= 4, "{shared}");
        assert!(b.messages.iter().any(|m| has(m, "SENT")));
        assert!(b.messages.iter().any(|m| has(m, "INBOX")));
        assert!(!b.drafts.is_empty());
        assert!(threads(b).iter().any(|t| t.len() >= 3));
        // Bob's copies are delivered to Bob.
        for m in &b.messages {
            let raw = String::from_utf8_lossy(&m.raw[..m.raw.len().min(300)]).into_owned();
            if has(m, "INBOX") {
                assert!(
                    raw.starts_with("Delivered-To: bob@example.com\r\n"),
                    "{raw}"
                );
            }
        }
    }

    // ---- building blocks ----------------------------------------------------------

    #[test]
    fn checksums_match_known_vectors() {
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
        assert_eq!(adler32(b"Wikipedia"), 0x11E6_0398);
        assert_eq!(base64(b"Man"), "TWFu");
        assert_eq!(base64(b"Ma"), "TWE=");
        assert_eq!(base64(b"M"), "TQ==");
    }

    #[test]
    fn png_is_valid() {
        let img = chart_png(1);
        assert_eq!(&img[..8], b"\x89PNG\r\n\x1a\n");
        let mut pos = 8;
        let mut kinds = Vec::new();
        let mut idat = Vec::new();
        while pos < img.len() {
            let len = u32::from_be_bytes(img[pos..pos + 4].try_into().unwrap()) as usize;
            let kind = &img[pos + 4..pos + 8];
            let data = &img[pos + 8..pos + 8 + len];
            let crc = u32::from_be_bytes(img[pos + 8 + len..pos + 12 + len].try_into().unwrap());
            assert_eq!(crc, crc32(&img[pos + 4..pos + 8 + len]));
            kinds.push(String::from_utf8_lossy(kind).into_owned());
            if kind == b"IDAT" {
                idat.extend_from_slice(data);
            }
            pos += 12 + len;
        }
        assert_eq!(kinds, ["IHDR", "IDAT", "IEND"]);
        // zlib header, stored blocks, adler32.
        assert_eq!((u16::from(idat[0]) * 256 + u16::from(idat[1])) % 31, 0);
        let mut raw = Vec::new();
        let mut p = 2;
        loop {
            let last = idat[p] & 1 == 1;
            assert_eq!(idat[p] & 6, 0, "stored block");
            let len = u16::from_le_bytes([idat[p + 1], idat[p + 2]]) as usize;
            let nlen = u16::from_le_bytes([idat[p + 3], idat[p + 4]]);
            assert_eq!(nlen, !(len as u16));
            raw.extend_from_slice(&idat[p + 5..p + 5 + len]);
            p += 5 + len;
            if last {
                break;
            }
        }
        assert_eq!(
            u32::from_be_bytes(idat[p..p + 4].try_into().unwrap()),
            adler32(&raw)
        );
        assert_eq!(raw.len(), (96 * 3 + 1) * 56);
        assert_eq!(
            zlib_stored(&vec![7u8; 70_000]).len(),
            2 + 5 + 65_535 + 5 + 4_465 + 4
        );
    }

    #[test]
    fn pdf_xref_points_at_objects() {
        let doc = pdf("Test (1)", &["Hello \\ world".to_string()]);
        // Lossy decoding would shift offsets (the binary comment line): keep bytes exact.
        let text: String = doc
            .iter()
            .map(|&b| if b < 128 { b as char } else { '?' })
            .collect();
        assert!(doc.starts_with(b"%PDF-1.4\n"));
        assert!(text.ends_with("%%EOF\n"));
        let startxref: usize = text
            .rsplit("startxref\n")
            .next()
            .unwrap()
            .lines()
            .next()
            .unwrap()
            .parse()
            .unwrap();
        assert!(doc[startxref..].starts_with(b"xref\n"));
        let xref = &text[startxref..];
        for (n, line) in xref.lines().skip(3).take(6).enumerate() {
            let off: usize = line[..10].parse().unwrap();
            assert!(doc[off..].starts_with(format!("{} 0 obj", n + 1).as_bytes()));
            assert_eq!(line.len() + 1, 20, "xref entries are 20 bytes");
        }
        assert!(text.contains("(Test \\(1\\)) Tj"));
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

    #[test]
    fn rng_is_stable() {
        let mut r = Rng::new(42);
        let a: Vec<u64> = (0..3).map(|_| r.next_u64()).collect();
        let mut r = Rng::new(42);
        let b: Vec<u64> = (0..3).map(|_| r.next_u64()).collect();
        assert_eq!(a, b);
        assert_ne!(a[0], a[1]);
    }
}
