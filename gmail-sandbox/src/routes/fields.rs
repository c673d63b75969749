//! Partial responses (`fields=messages(id,threadId),nextPageToken`).

use std::collections::BTreeMap;

use serde_json::Value;

/// Selected fields; an empty selection keeps the whole value.
#[derive(Debug, Default, PartialEq)]
pub struct Selection(BTreeMap<String, Selection>);

/// Parse Google's field-mask syntax: comma lists, `/` paths and `( … )` sub-selections.
pub fn parse(s: &str) -> Option<Selection> {
    let chars: Vec<char> = s.chars().filter(|c| !c.is_whitespace()).collect();
    let mut pos = 0;
    let sel = parse_list(&chars, &mut pos, 0)?;
    (pos == chars.len()).then_some(sel)
}

fn parse_list(c: &[char], pos: &mut usize, depth: usize) -> Option<Selection> {
    if depth > 16 {
        return None;
    }
    let mut sel = Selection::default();
    loop {
        let mut path = Vec::new();
        loop {
            let start = *pos;
            while *pos < c.len() && !matches!(c[*pos], ',' | '/' | '(' | ')') {
                *pos += 1;
            }
            if *pos == start {
                return None;
            }
            path.push(c[start..*pos].iter().collect::<String>());
            if *pos < c.len() && c[*pos] == '/' {
                *pos += 1;
                continue;
            }
            break;
        }
        let sub = if *pos < c.len() && c[*pos] == '(' {
            *pos += 1;
            let sub = parse_list(c, pos, depth + 1)?;
            if *pos >= c.len() || c[*pos] != ')' {
                return None;
            }
            *pos += 1;
            sub
        } else {
            Selection::default()
        };
        insert(&mut sel, &path, sub);
        if *pos < c.len() && c[*pos] == ',' {
            *pos += 1;
            continue;
        }
        return Some(sel);
    }
}

fn insert(sel: &mut Selection, path: &[String], sub: Selection) {
    let Some((first, rest)) = path.split_first() else {
        return;
    };
    let entry = sel.0.entry(first.clone()).or_default();
    if rest.is_empty() {
        if sub.0.is_empty() {
            // The whole field wins over any narrower selection of it.
            entry.0.clear();
            entry.0.insert("*".into(), Selection::default());
        } else if !entry.0.contains_key("*") {
            for (k, v) in sub.0 {
                entry.0.insert(k, v);
            }
        }
    } else if !entry.0.contains_key("*") {
        insert(entry, rest, sub);
    }
}

pub fn apply(v: &Value, sel: &Selection) -> Value {
    if sel.0.is_empty() || sel.0.contains_key("*") {
        return v.clone();
    }
    match v {
        Value::Object(m) => Value::Object(
            m.iter()
                .filter_map(|(k, val)| sel.0.get(k).map(|s| (k.clone(), apply(val, s))))
                .collect(),
        ),
        Value::Array(a) => Value::Array(a.iter().map(|x| apply(x, sel)).collect()),
        other => other.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn selects_nested_fields() {
        let v = json!({"messages":[{"id":"a","threadId":"b"}],"nextPageToken":"1","resultSizeEstimate":3});
        let sel = parse("messages(id),nextPageToken").unwrap();
        assert_eq!(
            apply(&v, &sel),
            json!({"messages":[{"id":"a"}],"nextPageToken":"1"})
        );
        let sel = parse("messages/threadId").unwrap();
        assert_eq!(apply(&v, &sel), json!({"messages":[{"threadId":"b"}]}));
        assert!(parse("a(b").is_none());
        assert!(parse("").is_none());
    }
}
