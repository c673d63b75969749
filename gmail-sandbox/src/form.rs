//! `application/x-www-form-urlencoded` pairs: query strings and form bodies.

pub fn parse_pairs(s: &str) -> Vec<(String, String)> {
    form_urlencoded::parse(s.as_bytes()).into_owned().collect()
}
