//! Header and charset decoding: RFC 2047 words, address lists, charsets, header parameters.

use mail_parser::MessageParser;

use super::AddressInfo;

/// Decodes RFC 2047 encoded words (`=?utf-8?B?...?=`) in an unstructured header value.
pub fn decode_header_text(value: &str) -> String {
    let flat = flatten(value);
    if !flat.contains("=?") {
        return flat.trim().to_string();
    }
    let raw = format!("Subject: {flat}\r\n\r\n");
    MessageParser::default()
        .parse_headers(raw.as_bytes())
        .and_then(|m| m.subject().map(str::to_string))
        .unwrap_or_else(|| flat.trim().to_string())
}

/// Parses an address header value (`To`, `Cc`, …), decoding encoded names; groups flattened.
pub fn parse_address_header(value: &str) -> Vec<AddressInfo> {
    let raw = format!("To: {}\r\n\r\n", flatten(value));
    let Some(parsed) = MessageParser::default().parse_headers(raw.as_bytes()) else {
        return Vec::new();
    };
    parsed.to().map(addresses_of).unwrap_or_default()
}

pub(super) fn addresses_of(address: &mail_parser::Address<'_>) -> Vec<AddressInfo> {
    address
        .iter()
        .filter_map(|a| {
            let email = a.address()?.trim().to_string();
            if email.is_empty() {
                return None;
            }
            let name = a
                .name()
                .map(|n| n.trim().to_string())
                .filter(|n| !n.is_empty() && !n.eq_ignore_ascii_case(&email));
            Some(AddressInfo { name, email })
        })
        .collect()
}

/// Header values never carry line breaks onward (unfolded; a stray CR/LF becomes a space).
pub(super) fn flatten(value: &str) -> String {
    if value.contains(['\r', '\n']) {
        value.replace("\r\n", " ").replace(['\r', '\n'], " ")
    } else {
        value.to_string()
    }
}

/// Decodes body bytes in `charset` (utf-8 when absent). Bytes that are valid multi-byte UTF-8
/// are taken as UTF-8 whatever the label says, since mislabelled mail is far more common than
/// legacy text that happens to form valid UTF-8.
pub fn decode_charset(bytes: &[u8], charset: Option<&str>) -> String {
    let cs = charset
        .map(|c| c.trim().trim_matches('"').to_ascii_lowercase())
        .unwrap_or_default();
    let wide =
        cs.starts_with("utf-16") || cs.starts_with("utf-32") || cs == "utf-7" || cs == "ucs-2";
    if !wide {
        if let Ok(s) = std::str::from_utf8(bytes) {
            return s.to_string();
        }
    }
    let label = match cs.as_str() {
        "" | "utf-8" | "utf8" | "us-ascii" | "ascii" | "unknown-8bit" | "x-unknown" => {
            // Invalid UTF-8 with no usable label: windows-1252 is the usual culprit.
            "windows-1252"
        }
        "latin1" | "latin-1" | "l1" => "iso-8859-1",
        other => other,
    };
    match mail_parser::decoders::charsets::map::charset_decoder(label.as_bytes()) {
        Some(decode) => decode(bytes),
        None => String::from_utf8_lossy(bytes).into_owned(),
    }
}

/// A parameter of a `Content-Type`/`Content-Disposition` value (`charset`, `name`, …).
pub fn header_param(value: &str, param: &str) -> Option<String> {
    let mut rest = value.split_once(';')?.1;
    loop {
        rest = rest.trim_start_matches([';', ' ', '\t']);
        if rest.is_empty() {
            return None;
        }
        let eq = rest.find('=')?;
        let key = rest[..eq].trim().to_ascii_lowercase();
        let after = rest[eq + 1..].trim_start();
        let (val, next) = if let Some(q) = after.strip_prefix('"') {
            let end = q.find('"').unwrap_or(q.len());
            (q[..end].to_string(), q.get(end + 1..).unwrap_or(""))
        } else {
            let end = after.find(';').unwrap_or(after.len());
            (after[..end].trim().to_string(), &after[end..])
        };
        if key == param {
            return Some(val);
        }
        rest = next;
    }
}
