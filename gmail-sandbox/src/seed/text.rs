//! Shaping plain text: line endings, word wrap, quoting, and the HTML twin of a text body.

/// Normalises any line endings to CRLF and ends the text with one.
pub fn crlf(text: &str) -> String {
    let mut s = text.replace("\r\n", "\n").replace('\n', "\r\n");
    if !s.ends_with("\r\n") {
        s.push_str("\r\n");
    }
    s
}

/// Word-wraps each paragraph of `text` at `width` columns (lines starting with `>` or
/// indentation, and list items, are kept as they are).
pub fn wrap(text: &str, width: usize) -> String {
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

/// `> `-quotes a message for a reply (already quoted lines get one more `>`).
pub fn quote(text: &str) -> String {
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

/// Plain text to simple HTML (paragraphs, quoted blocks).
pub fn text_to_html(text: &str) -> String {
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
