//! Attachment files made up on the spot: PNG pictures, one-page PDFs and CSV exports.
//!
//! Hand-written: the workspace has no PNG, zlib or PDF crate, and these files only need to
//! be valid and deterministic (stored deflate blocks, one Helvetica page).

use rand::Rng;

use super::random::{seeded, str_seed};

pub const KIND_PDF: &str = "application/pdf";
pub const KIND_PNG: &str = "image/png";
pub const KIND_CSV: &str = "text/csv";

/// Size of the one big attachment (bytes, before base64).
pub const BIG_ATTACHMENT_BYTES: usize = 5_600_000;

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
pub fn chart_png(seed: u64) -> Vec<u8> {
    let mut rng = seeded(seed);
    let bars: Vec<u32> = (0..8).map(|_| 8 + rng.random_range(0..36u32)).collect();
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
pub fn logo_png() -> Vec<u8> {
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
pub fn pdf(title: &str, lines: &[String]) -> Vec<u8> {
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
pub fn big_csv(min_bytes: usize) -> Vec<u8> {
    let mut rng = seeded(0x5EED_CAFE);
    let mut out = String::with_capacity(min_bytes + 128);
    out.push_str("timestamp_utc,sensor_id,site,temperature_c,humidity_pct,pressure_hpa,status\r\n");
    let sites = ["alpha-north", "alpha-south", "alpha-east", "alpha-west"];
    let mut t: i64 = 1_767_225_600; // 2026-01-01T00:00:00Z
    let mut i: u64 = 0;
    while out.len() < min_bytes {
        let dt = chrono::DateTime::from_timestamp(t, 0).unwrap_or_default();
        let temp = 180 + rng.random_range(0..90i64);
        let hum = 300 + rng.random_range(0..450u64);
        let pres = 99_000 + rng.random_range(0..3_500u64);
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
            if rng.random_ratio(2, 100) {
                "WARN"
            } else {
                "OK"
            }
        ));
        i += 1;
        if i.is_multiple_of(240) {
            t += 60;
        }
    }
    out.into_bytes()
}

/// A small budget spreadsheet, different per file name.
pub fn small_csv(name: &str) -> Vec<u8> {
    let mut rng = seeded(str_seed(name));
    let mut s = String::from("team,category,jan,feb,mar,apr,may,jun,total\r\n");
    for team in ["Platform", "Mobile", "Data", "Alpha pilot", "Support"] {
        for cat in ["people", "cloud", "tools"] {
            let months: Vec<u64> = (0..6)
                .map(|_| 2_000 + rng.random_range(0..18_000u64))
                .collect();
            let total: u64 = months.iter().sum();
            let cells: Vec<String> = months.iter().map(u64::to_string).collect();
            s.push_str(&format!("{team},{cat},{},{total}\r\n", cells.join(",")));
        }
    }
    s.into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checksums_match_known_vectors() {
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
        assert_eq!(adler32(b"Wikipedia"), 0x11E6_0398);
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
}
