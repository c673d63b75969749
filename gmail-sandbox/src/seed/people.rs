//! Who writes the demo mail: the people in `data/seed/people.json`, by key.

use std::sync::OnceLock;

use chrono_tz::Tz;

use super::data::data;
use super::time::LA;

#[derive(Clone, Copy, Debug)]
pub struct Person {
    pub key: &'static str,
    pub name: &'static str,
    pub email: &'static str,
    pub tz: Tz,
}

fn people() -> &'static [Person] {
    static PEOPLE: OnceLock<Vec<Person>> = OnceLock::new();
    PEOPLE.get_or_init(|| {
        data()
            .people
            .iter()
            .map(|p| Person {
                key: &p.key,
                name: &p.name,
                email: &p.email,
                tz: p
                    .tz
                    .parse()
                    .unwrap_or_else(|e| panic!("seed: time zone of {}: {e}", p.key)),
            })
            .collect()
    })
}

pub fn who(key: &str) -> Person {
    *people()
        .iter()
        .find(|p| p.key == key)
        .unwrap_or_else(|| panic!("seed: unknown person {key}"))
}

pub fn first_name(p: &Person) -> &'static str {
    p.name.split(' ').next().unwrap_or(p.name)
}

/// Gmail-style quote attribution line.
pub fn attribution(ms: i64, p: &Person) -> String {
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
