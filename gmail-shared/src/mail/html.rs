//! HTML to readable plain text for agents. Hand-written (a small tolerant tokenizer) rather than
//! a browser-grade parser: email HTML is mostly layout tables and inline styles, and what matters
//! is the words, the links and the paragraph breaks, with no script/style/hidden preheader noise.
//! mail-parser's `html_to_text` (what the sandbox uses for Gmail's snippets, which are plain
//! too) drops links and keeps hidden preheaders; `html2text` would bring html5ever's full
//! parser into every build for layout this output does not keep.

/// Quote and list nesting shown at most: every line repeats its prefix, so hostile mail
/// nested thousands deep would otherwise turn a megabyte of HTML into gigabytes of text.
const MAX_DEPTH: usize = 8;

/// Elements whose content is never text.
const SKIP_CONTENT: &[&str] = &[
    "script", "style", "head", "title", "template", "noscript", "svg", "object", "iframe",
];
/// Elements that end a line.
const LINE_BLOCKS: &[&str] = &[
    "div",
    "tr",
    "dt",
    "dd",
    "section",
    "article",
    "header",
    "footer",
    "nav",
    "aside",
    "main",
    "address",
    "form",
    "fieldset",
    "figure",
    "figcaption",
    "center",
    "details",
    "summary",
    "caption",
    "tbody",
    "thead",
    "tfoot",
    "dl",
];
/// Elements that stand apart as a paragraph (blank line around them).
const PARA_BLOCKS: &[&str] = &[
    "p",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "table",
    "pre",
    "blockquote",
    "ul",
    "ol",
];
/// Elements with no content or closing tag.
const VOID: &[&str] = &[
    "br", "img", "hr", "meta", "link", "input", "col", "area", "base", "wbr", "source", "track",
    "embed", "param",
];

/// Converts HTML to plain text: paragraphs and line breaks kept, lists as `- ` / `1. ` items,
/// links as `text (url)`, images as their alt text, blockquotes as `> ` lines, entities decoded,
/// whitespace collapsed, `<script>`/`<style>`/hidden elements dropped.
pub fn html_to_text(html: &str) -> String {
    let mut conv = Converter::default();
    let mut rest = html;
    while !rest.is_empty() {
        if let Some(skip) = conv.skip_until.take() {
            // Inside <script> etc.: jump to the matching close tag.
            match find_ci(rest, &format!("</{skip}")) {
                Some(pos) => {
                    rest = &rest[pos..];
                    match rest.find('>') {
                        Some(end) => rest = &rest[end + 1..],
                        None => rest = "",
                    }
                }
                None => rest = "",
            }
            continue;
        }
        if let Some(tail) = rest.strip_prefix("<!--") {
            rest = tail.find("-->").map_or("", |e| &tail[e + 3..]);
            continue;
        }
        if rest.starts_with("<![CDATA[") {
            let tail = &rest[9..];
            let end = tail.find("]]>").unwrap_or(tail.len());
            conv.text(&tail[..end]);
            rest = tail.get(end + 3..).unwrap_or("");
            continue;
        }
        if rest.starts_with("<!") || rest.starts_with("<?") {
            rest = rest.find('>').map_or("", |e| &rest[e + 1..]);
            continue;
        }
        if rest.starts_with('<') {
            let next = rest[1..].chars().next();
            if next.is_some_and(|c| c.is_ascii_alphabetic() || c == '/') {
                let end = tag_end(rest);
                let inner = &rest[1..end];
                conv.tag(inner.strip_suffix('>').unwrap_or(inner));
                rest = &rest[end..];
                continue;
            }
            conv.text("<");
            rest = &rest[1..];
            continue;
        }
        let end = rest.find('<').unwrap_or(rest.len());
        conv.text(&rest[..end]);
        rest = &rest[end..];
    }
    conv.finish()
}

/// Byte index just past the `>` ending the tag at the start of `s`, honouring quoted attributes.
fn tag_end(s: &str) -> usize {
    let mut quote: Option<char> = None;
    for (i, c) in s.char_indices().skip(1) {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '"' | '\'') => quote = Some(c),
            (None, '>') => return i + 1,
            _ => {}
        }
    }
    // An unclosed quote would swallow the rest of the document; end at the first `>` instead.
    s.find('>').map_or(s.len(), |i| i + 1)
}

fn find_ci(haystack: &str, needle: &str) -> Option<usize> {
    let h = haystack.as_bytes();
    let n = needle.as_bytes();
    (0..h.len().saturating_sub(n.len() - 1)).find(|&i| h[i..i + n.len()].eq_ignore_ascii_case(n))
}

struct Tag {
    name: String,
    closing: bool,
    self_closing: bool,
    attrs: Vec<(String, String)>,
}

impl Tag {
    fn attr(&self, name: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

fn parse_tag(inner: &str) -> Tag {
    let (closing, inner) = match inner.strip_prefix('/') {
        Some(r) => (true, r),
        None => (false, inner),
    };
    let self_closing = inner.trim_end().ends_with('/');
    let name_end = inner
        .find(|c: char| c.is_whitespace() || c == '/' || c == '>')
        .unwrap_or(inner.len());
    let name = inner[..name_end].to_ascii_lowercase();
    let mut attrs = Vec::new();
    let mut rest = &inner[name_end..];
    loop {
        rest = rest.trim_start_matches(|c: char| c.is_whitespace() || c == '/');
        if rest.is_empty() {
            break;
        }
        let key_end = rest
            .find(|c: char| c.is_whitespace() || c == '=' || c == '/')
            .unwrap_or(rest.len());
        let key = rest[..key_end].to_ascii_lowercase();
        rest = rest[key_end..].trim_start();
        let mut value = String::new();
        if let Some(r) = rest.strip_prefix('=') {
            let r = r.trim_start();
            if let Some(q) = r.chars().next().filter(|c| *c == '"' || *c == '\'') {
                let body = &r[1..];
                let end = body.find(q).unwrap_or(body.len());
                value = decode_entities(&body[..end]);
                rest = body.get(end + 1..).unwrap_or("");
            } else {
                let end = r.find(char::is_whitespace).unwrap_or(r.len());
                value = decode_entities(&r[..end]);
                rest = &r[end..];
            }
        }
        if key.is_empty() {
            // Garbage such as a lone `=`; skip a character to make progress.
            let mut chars = rest.chars();
            chars.next();
            rest = chars.as_str();
            continue;
        }
        attrs.push((key, value));
    }
    Tag {
        name,
        closing,
        self_closing,
        attrs,
    }
}

/// Decodes `&name;`, `&#NN;` and `&#xHH;` references (the HTML5 named set via mail-parser).
pub fn decode_entities(s: &str) -> String {
    if !s.contains('&') {
        return s.to_string();
    }
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(amp) = rest.find('&') {
        out.push_str(&rest[..amp]);
        rest = &rest[amp..];
        let body_end = rest[1..]
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '#'))
            .map_or(rest.len(), |e| e + 1);
        let name = &rest[1..body_end];
        let has_semi = rest[body_end..].starts_with(';');
        if let Some(num) = name.strip_prefix('#') {
            let code = match num.strip_prefix(['x', 'X']) {
                Some(hex) => u32::from_str_radix(hex, 16).ok(),
                None => num.parse::<u32>().ok(),
            };
            if let Some(code) = code {
                out.push(numeric_char(code));
                rest = &rest[body_end + usize::from(has_semi)..];
                continue;
            }
        } else if !name.is_empty() && has_semi {
            let token = &rest[..=body_end];
            let before = out.len();
            mail_parser::decoders::html::add_html_token(&mut out, token.as_bytes(), false);
            if &out[before..] != token {
                rest = &rest[body_end + 1..];
                continue;
            }
            out.truncate(before);
        } else if let Some(c) = legacy_entity(name) {
            // A few entities are common without the `;` (e.g. `&nbsp` in sloppy HTML).
            out.push(c);
            rest = &rest[body_end..];
            continue;
        }
        out.push('&');
        rest = &rest[1..];
    }
    out.push_str(rest);
    out
}

fn legacy_entity(name: &str) -> Option<char> {
    Some(match name {
        "amp" => '&',
        "lt" => '<',
        "gt" => '>',
        "quot" => '"',
        "nbsp" => '\u{a0}',
        "copy" => '©',
        "reg" => '®',
        _ => return None,
    })
}

fn numeric_char(code: u32) -> char {
    // Numeric references in 0x80..0x9F mean windows-1252 in practice (HTML5 does the same).
    const CP1252: [char; 32] = [
        '€', '\u{81}', '‚', 'ƒ', '„', '…', '†', '‡', 'ˆ', '‰', 'Š', '‹', 'Œ', '\u{8d}', 'Ž',
        '\u{8f}', '\u{90}', '‘', '’', '“', '”', '•', '–', '—', '˜', '™', 'š', '›', 'œ', '\u{9d}',
        'ž', 'Ÿ',
    ];
    match code {
        0x80..=0x9f => CP1252[(code - 0x80) as usize],
        0 => '\u{fffd}',
        _ => char::from_u32(code).unwrap_or('\u{fffd}'),
    }
}

/// Characters that render as nothing and only pad preheaders.
fn is_invisible(c: char) -> bool {
    matches!(
        c,
        '\u{200b}' | '\u{200c}' | '\u{200d}' | '\u{2060}' | '\u{feff}' | '\u{ad}' | '\u{34f}'
    )
}

#[derive(Default)]
struct Converter {
    out: String,
    /// Raw-text element whose content is being skipped.
    skip_until: Option<String>,
    /// Name and nesting depth of a hidden (display:none) element being skipped.
    hidden: Option<(String, usize)>,
    pending_space: bool,
    pre_depth: usize,
    quote_depth: usize,
    /// One entry per open list: `None` for `ul`, `Some(next number)` for `ol`.
    lists: Vec<Option<u32>>,
    /// Open links: (href, output length where the link text starts).
    links: Vec<(Option<String>, usize)>,
    /// Whether the current table row already has a cell (to separate cells).
    cell_in_row: bool,
}

impl Converter {
    fn at_line_start(&self) -> bool {
        self.out.is_empty() || self.out.ends_with('\n')
    }

    fn push_prefix_if_needed(&mut self) {
        if self.at_line_start() && self.quote_depth > 0 {
            self.out
                .push_str(&"> ".repeat(self.quote_depth.min(MAX_DEPTH)));
        }
    }

    fn text(&mut self, raw: &str) {
        if self.hidden.is_some() {
            return;
        }
        let decoded = decode_entities(raw);
        if self.pre_depth > 0 {
            for c in decoded.chars().filter(|c| !is_invisible(*c)) {
                if c == '\n' {
                    self.out.push('\n');
                } else {
                    self.push_prefix_if_needed();
                    self.out.push(if c == '\u{a0}' { ' ' } else { c });
                }
            }
            return;
        }
        for c in decoded.chars() {
            if is_invisible(c) {
                continue;
            }
            if c.is_whitespace() {
                // Includes &nbsp;: email HTML uses it for spacing, never for meaning.
                self.pending_space = true;
                continue;
            }
            if self.pending_space && !self.at_line_start() && !self.out.ends_with(' ') {
                self.out.push(' ');
            }
            self.pending_space = false;
            self.push_prefix_if_needed();
            self.out.push(c);
        }
    }

    /// Ends the current line and makes sure `n` line breaks (1 = new line, 2 = blank line)
    /// separate what follows.
    fn breaks(&mut self, n: usize) {
        self.pending_space = false;
        while self.out.ends_with(' ') {
            self.out.pop();
        }
        if self.out.is_empty() {
            return;
        }
        // Only the last `n` bytes matter: a run of `<br>`s is not rescanned for every block.
        let have = self
            .out
            .bytes()
            .rev()
            .take(n)
            .take_while(|b| *b == b'\n')
            .count();
        for _ in have..n {
            self.out.push('\n');
        }
    }

    fn tag(&mut self, inner: &str) {
        let tag = parse_tag(inner);
        let name = tag.name.as_str();

        if let Some((hidden_name, depth)) = &mut self.hidden {
            if hidden_name == name && !VOID.contains(&name) && !tag.self_closing {
                if tag.closing {
                    *depth -= 1;
                    if *depth == 0 {
                        self.hidden = None;
                    }
                } else {
                    *depth += 1;
                }
            }
            return;
        }

        if tag.closing {
            self.close(name);
            return;
        }
        if SKIP_CONTENT.contains(&name) {
            if !tag.self_closing {
                self.skip_until = Some(name.to_string());
            }
            return;
        }
        if is_hidden(&tag) && !VOID.contains(&name) {
            if !tag.self_closing {
                self.hidden = Some((name.to_string(), 1));
            }
            return;
        }
        self.open(&tag);
    }

    fn open(&mut self, tag: &Tag) {
        let name = tag.name.as_str();
        match name {
            "br" => {
                self.pending_space = false;
                while self.out.ends_with(' ') {
                    self.out.pop();
                }
                self.out.push('\n');
            }
            "hr" => {
                self.breaks(2);
                self.push_prefix_if_needed();
                self.out.push_str("---");
                self.breaks(2);
            }
            "img" => {
                if let Some(alt) = tag.attr("alt").map(str::trim).filter(|a| !a.is_empty()) {
                    self.text(&format!(" [{alt}] "));
                }
            }
            "a" => {
                let href = tag.attr("href").map(|h| h.trim().to_string());
                self.links.push((href, self.out.len()));
            }
            "li" => {
                self.breaks(1);
                let indent = "  ".repeat(self.lists.len().saturating_sub(1).min(MAX_DEPTH));
                let marker = match self.lists.last_mut() {
                    Some(Some(n)) => {
                        let m = format!("{n}. ");
                        *n = n.saturating_add(1);
                        m
                    }
                    _ => "- ".to_string(),
                };
                self.push_prefix_if_needed();
                self.out.push_str(&indent);
                self.out.push_str(&marker);
            }
            "ul" | "ol" => {
                self.breaks(if self.lists.is_empty() { 2 } else { 1 });
                let start = tag
                    .attr("start")
                    .and_then(|s| s.trim().parse().ok())
                    .unwrap_or(1);
                self.lists.push((name == "ol").then_some(start));
            }
            "blockquote" => {
                self.breaks(2);
                self.quote_depth += 1;
            }
            "pre" => {
                self.breaks(2);
                self.pre_depth += 1;
            }
            "tr" => {
                self.breaks(1);
                self.cell_in_row = false;
            }
            "td" | "th" => {
                if self.cell_in_row {
                    self.pending_space = true;
                }
                self.cell_in_row = true;
            }
            _ if PARA_BLOCKS.contains(&name) => self.breaks(2),
            _ if LINE_BLOCKS.contains(&name) => self.breaks(1),
            _ => {}
        }
    }

    fn close(&mut self, name: &str) {
        match name {
            "a" => {
                if let Some((href, start)) = self.links.pop() {
                    self.finish_link(href, start);
                }
            }
            "ul" | "ol" => {
                self.lists.pop();
                self.breaks(if self.lists.is_empty() { 2 } else { 1 });
            }
            "li" => self.breaks(1),
            "blockquote" => {
                self.breaks(2);
                self.quote_depth = self.quote_depth.saturating_sub(1);
            }
            "pre" => {
                self.pre_depth = self.pre_depth.saturating_sub(1);
                self.breaks(2);
            }
            _ if PARA_BLOCKS.contains(&name) => self.breaks(2),
            _ if LINE_BLOCKS.contains(&name) => self.breaks(1),
            _ => {}
        }
    }

    fn finish_link(&mut self, href: Option<String>, start: usize) {
        let Some(href) = href else { return };
        let lower = href.to_ascii_lowercase();
        if !(lower.starts_with("http://")
            || lower.starts_with("https://")
            || lower.starts_with("mailto:"))
        {
            return;
        }
        let text = self.out.get(start..).unwrap_or("").trim();
        let bare = href
            .strip_prefix("mailto:")
            .or_else(|| href.strip_prefix("https://"))
            .or_else(|| href.strip_prefix("http://"))
            .unwrap_or(&href);
        let bare = bare.trim_end_matches('/');
        if text.is_empty() || text == href || text.trim_end_matches('/') == bare {
            return;
        }
        let shown = href.strip_prefix("mailto:").unwrap_or(&href).to_string();
        self.text(&format!(" ({shown})"));
    }

    fn finish(self) -> String {
        // Trim each line's trailing spaces and keep at most one blank line in a row.
        let mut result = String::with_capacity(self.out.len());
        let mut blank_run = 0;
        for line in self.out.lines() {
            let line = line.trim_end();
            let blank = line.is_empty() || line.chars().all(|c| c == '>' || c == ' ');
            if blank {
                blank_run += 1;
                if blank_run > 1 {
                    continue;
                }
            } else {
                blank_run = 0;
            }
            result.push_str(line);
            result.push('\n');
        }
        result.trim_matches('\n').trim_end().to_string()
    }
}

fn is_hidden(tag: &Tag) -> bool {
    if tag.attrs.iter().any(|(k, _)| k == "hidden") {
        return true;
    }
    tag.attr("style").is_some_and(|style| {
        let compact: String = style
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect::<String>()
            .to_ascii_lowercase();
        compact.contains("display:none") || compact.contains("visibility:hidden")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Hostile nesting stays near the input's size: each line's prefix is capped.
    #[test]
    fn deep_nesting_is_shown_at_most_max_depth_deep() {
        let n = 3000;
        let lists = format!("{}{}", "<ul>".repeat(n), "<li>x".repeat(n));
        let quotes = format!("{}{}", "<blockquote>".repeat(n), "x<br>".repeat(n));
        for html in [lists, quotes] {
            let text = html_to_text(&html);
            assert!(
                text.len() < 30 * n,
                "{} bytes from {}",
                text.len(),
                html.len()
            );
        }
        let text = html_to_text("<ol start=\"4294967295\"><li>a<li>b</ol>");
        assert!(text.contains("4294967295. a"), "{text}");
    }

    #[test]
    fn paragraphs_breaks_and_whitespace() {
        let html = "<html><head><title>T</title><style>p{color:red}</style></head>\
            <body><p>Hello   <b>world</b>,\n  how are you?</p><p>Line one<br>Line two</p>\
            <div>In a div</div><div>Another</div></body></html>";
        assert_eq!(
            html_to_text(html),
            "Hello world, how are you?\n\nLine one\nLine two\n\nIn a div\nAnother"
        );
    }

    #[test]
    fn drops_script_style_comments_and_hidden_preheaders() {
        let html = "<div style=\"display: none; max-height:0\">Preheader <span>junk</span></div>\
            <script>var x = '<p>not text</p>';</script><!-- a <b>comment</b> -->\
            <STYLE type=\"text/css\">.a{}</STYLE><p>Visible</p>";
        assert_eq!(html_to_text(html), "Visible");
    }

    #[test]
    fn links_lists_images_and_entities() {
        let html = "<p>See <a href=\"https://example.com/docs?a=1&amp;b=2\">the docs</a> \
            or <a href=\"https://example.com\">https://example.com</a> or \
            <a href=\"mailto:help@example.com\">help@example.com</a>.</p>\
            <ul><li>One</li><li>Two<ol start=\"3\"><li>Three</li><li>Four</li></ol></li></ul>\
            <p><img src=\"logo.png\" alt=\"Logo\"> <img src=\"spacer.gif\" alt=\"\"></p>\
            <p>Caf&eacute; &amp; cr&egrave;me &mdash; 5 &lt; 6 &#8364;1 &#x263A; &#146;s&nbsp;ok &bogus;</p>";
        let text = html_to_text(html);
        assert_eq!(
            text,
            "See the docs (https://example.com/docs?a=1&b=2) or https://example.com or help@example.com.\n\n\
             - One\n- Two\n  3. Three\n  4. Four\n\n[Logo]\n\n\
             Café & crème — 5 < 6 €1 ☺ ’s ok &bogus;"
        );
    }

    #[test]
    fn blockquotes_pre_and_tables() {
        let html = "<p>Reply</p><blockquote><p>Quoted one</p><p>Quoted two</p></blockquote>\
            <pre>  code\n    indented</pre>\
            <table><tr><td>Name</td><td>Qty</td></tr><tr><td>Apple</td><td>3</td></tr></table>";
        assert_eq!(
            html_to_text(html),
            "Reply\n\n> Quoted one\n\n> Quoted two\n\n  code\n    indented\n\nName Qty\nApple 3"
        );
    }

    #[test]
    fn tolerates_broken_markup() {
        assert_eq!(html_to_text("a < b and c > d"), "a < b and c > d");
        assert_eq!(html_to_text("<p>unclosed <b>bold"), "unclosed bold");
        assert_eq!(
            html_to_text("<a href='x>y'>t</a> <img alt=\"a>b\">"),
            "t [a>b]"
        );
        assert_eq!(html_to_text("<script>never closed"), "");
        assert_eq!(
            html_to_text("<a href=\"oops>link</a> and <b>more</b>"),
            "link and more"
        );
        assert_eq!(html_to_text(""), "");
        assert_eq!(html_to_text("plain &amp text &#169"), "plain & text ©");
        assert_eq!(html_to_text("\u{200c}&zwnj;&nbsp;Hi\u{feff}"), "Hi");
    }
}
