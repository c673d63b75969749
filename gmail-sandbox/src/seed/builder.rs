//! Turning conversations into mail: who writes to whom, when, quoting what came before,
//! with which body and attachments.

use rand::rngs::StdRng;
use rand::seq::IndexedRandom;
use rand::Rng;

use super::data::{Attachment, Conversation, GeneratedConversation, Pools, Style, SubjectEncoding};
use super::encode::HdrEnc;
use super::files::{
    big_csv, chart_png, logo_png, pdf, small_csv, BIG_ATTACHMENT_BYTES, KIND_CSV, KIND_PDF,
    KIND_PNG,
};
use super::mime::{
    alternative, attachment, inline_image, multi, related, text_html, text_plain, text_plain_b64,
    text_plain_latin1, with_attachments, Mail, Part, SubjectEnc,
};
use super::people::{attribution, first_name, who, Person};
use super::random::{seeded, str_seed};
use super::text::{quote, text_to_html, wrap};
use super::time::{la_ms, la_ms_at, ms_date};

fn pick<'a, T>(rng: &mut StdRng, items: &'a [T]) -> &'a T {
    items.choose(rng).expect("seed: empty sentence pool")
}

fn att_part(att: &Attachment, subject: &str, date_ms: i64) -> Part {
    let date = ms_date(date_ms, "%B %-d, %Y");
    match att {
        Attachment::Pdf { name, title } => attachment(
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
        Attachment::Png { name } => attachment(KIND_PNG, name, chart_png(str_seed(name))),
        Attachment::Csv { name } => attachment(KIND_CSV, name, small_csv(name)),
        Attachment::BigCsv { name } => attachment(KIND_CSV, name, big_csv(BIG_ATTACHMENT_BYTES)),
    }
}

/// The body part for `text` in `style`.
pub fn body_part(text: &str, style: Style) -> Part {
    let wrapped = wrap(text, 76);
    match style {
        Style::Plain => text_plain(&wrapped),
        Style::Alternative => alternative(&wrapped, text),
        Style::Base64 => text_plain_b64(text),
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
                    related(vec![
                        text_html(&html),
                        inline_image("logo.png", "logo-family@example.net", logo_png()),
                    ]),
                ],
            )
        }
    }
}

/// A reply's subject.
pub fn re(subject: &str) -> String {
    if subject.starts_with("Re: ") {
        subject.to_string()
    } else {
        format!("Re: {subject}")
    }
}

/// One mailbox's mail as it is written; its generator decides every detail left to chance.
/// The subject of a thread's `i`th message: the first's as written, replies' with "Re: ".
fn nth_subject(i: usize, subject: &str) -> String {
    if i == 0 {
        subject.to_string()
    } else {
        re(subject)
    }
}

/// Threads a reply after `prev`: In-Reply-To names it, References lists the chain so far.
fn follow(mail: &mut Mail, prev: Option<&Mail>, refs: &mut Vec<String>) {
    if let Some(p) = prev {
        mail.in_reply_to = Some(p.message_id.clone());
        refs.push(p.message_id.clone());
        mail.references = refs.clone();
    }
}

pub struct Builder {
    pub rng: StdRng,
    pub mails: Vec<Mail>,
    /// Numbers Message-IDs.
    pub counter: u32,
    /// The last thread key handed out.
    pub threads: usize,
    /// Mail that also belongs in Bob's mailbox.
    pub shared: Vec<usize>,
    /// The mailbox owner (recipient of newsletters, receipts, …).
    pub owner: Person,
}

impl Builder {
    pub fn new(seed: u64, owner: Person) -> Self {
        Builder {
            rng: seeded(seed),
            mails: Vec::new(),
            counter: 0,
            threads: 0,
            shared: Vec::new(),
            owner,
        }
    }

    pub fn new_thread(&mut self) -> usize {
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
            self.rng.random::<u64>(),
            self.counter,
            domain
        )
    }

    /// Seconds of jitter so timestamps look natural.
    pub fn secs(&mut self) -> i64 {
        self.rng.random_range(0..=59) * 1000
    }

    #[allow(clippy::too_many_arguments)]
    pub fn mail(
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

    /// A hand-written conversation.
    pub fn thread(&mut self, t: &Conversation) {
        let tid = self.new_thread();
        let mut time = la_ms_at(t.start) + self.secs();
        let first = &t.messages[0];
        let origin = who(&first.from);
        let first_to: Vec<Person> = first.to.iter().map(|k| who(k)).collect();
        let first_cc: Vec<Person> = first.cc.iter().map(|k| who(k)).collect();
        let mut participants = vec![origin];
        participants.extend(first_to.iter().copied());
        participants.extend(first_cc.iter().copied());
        let mut refs: Vec<String> = Vec::new();
        let mut prev: Option<Mail> = None;
        let mut starred = false;
        for (i, m) in t.messages.iter().enumerate() {
            if i > 0 {
                time += m.gap_minutes * 60_000 + self.secs();
            }
            let from = who(&m.from);
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
            let subject = nth_subject(i, &t.subject);
            let mut text = m.body.to_string();
            if let Some(p) = &prev {
                if m.style != Style::Base64 {
                    text = format!(
                        "{}\n\n{}\n{}",
                        m.body,
                        attribution(p.date_ms, &p.from),
                        quote(&p.text)
                    );
                }
            }
            let atts: Vec<Part> = m
                .attachments
                .iter()
                .map(|a| att_part(a, &t.subject, time))
                .collect();
            let body = with_attachments(body_part(&text, m.style), atts);
            let mut mail = self.mail(tid, from, to, cc, time, &subject, &m.body, body);
            mail.subject_enc = match t.subject_encoding {
                SubjectEncoding::B => SubjectEnc::Utf8(HdrEnc::B),
                SubjectEncoding::Q => SubjectEnc::Utf8(HdrEnc::Q),
                SubjectEncoding::Latin1Q => SubjectEnc::Latin1Q,
            };
            follow(&mut mail, prev.as_ref(), &mut refs);
            if from.key == "me" {
                mail.system_labels.push("SENT".into());
            } else {
                if !t.archived {
                    mail.system_labels.push("INBOX".into());
                }
                mail.system_labels.push(t.category.clone());
                if t.starred && !starred {
                    mail.system_labels.push("STARRED".into());
                    starred = true;
                }
            }
            if t.important {
                mail.system_labels.push("IMPORTANT".into());
            }
            mail.user_labels = t.labels.clone();
            if t.shared_with_bob {
                self.shared.push(self.mails.len());
            }
            prev = Some(mail.clone());
            self.mails.push(mail);
        }
    }

    /// A conversation written from sentence pools.
    pub fn generated_thread(&mut self, g: &GeneratedConversation, pools: &Pools) {
        let tid = self.new_thread();
        let (y, mo, d) = g.date;
        let hour = if g.personal { 18 } else { 9 } + self.rng.random_range(0..=3);
        let mut time = la_ms(y, mo, d, hour, self.rng.random_range(0..=59)) + self.secs();
        let others: Vec<Person> = g.people.iter().map(|k| who(k)).collect();
        let me = who("me");
        let n = g.messages;
        let mut prev: Option<Mail> = None;
        let mut refs: Vec<String> = Vec::new();
        let first_from = if self.rng.random_ratio(30, 100) {
            me
        } else {
            others[0]
        };
        for i in 0..n {
            let from = match &prev {
                None => first_from,
                Some(p) if p.from.key == "me" => *pick(&mut self.rng, &others),
                Some(_) => {
                    if others.len() > 1 && self.rng.random_ratio(30, 100) {
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
            let pool = if g.personal {
                &pools.personal
            } else {
                &pools.work
            };
            let line = if i == 0 {
                pick(&mut self.rng, &pool.open).clone()
            } else if i + 1 == n {
                pick(&mut self.rng, &pool.close).clone()
            } else {
                pick(&mut self.rng, &pool.reply).clone()
            };
            let third = others
                .iter()
                .find(|o| o.key != from.key)
                .map(first_name)
                .unwrap_or("Alice");
            let line = line.replace("{topic}", &g.topic).replace("{other}", third);
            let greeting = pick(&mut self.rng, &pool.greet).replace("{name}", other_name);
            let sign = pick(&mut self.rng, &pool.sign).replace("{me}", first_name(&from));
            let own = format!("{greeting}\n\n{line}\n\n{sign}");
            let mut text = own.clone();
            if let Some(p) = &prev {
                text = format!(
                    "{own}\n\n{}\n{}",
                    attribution(p.date_ms, &p.from),
                    quote(&p.text)
                );
            }
            let style = if !g.personal && from.key != "me" && self.rng.random_ratio(50, 100) {
                Style::Alternative
            } else {
                Style::Plain
            };
            let subject = nth_subject(i, &g.subject);
            let body = body_part(&text, style);
            let mut mail = self.mail(tid, from, to, cc, time, &subject, &own, body);
            follow(&mut mail, prev.as_ref(), &mut refs);
            if from.key == "me" {
                mail.system_labels.push("SENT".into());
            } else {
                mail.system_labels.push("INBOX".into());
                mail.system_labels.push("CATEGORY_PERSONAL".into());
                if g.important {
                    mail.system_labels.push("IMPORTANT".into());
                }
            }
            mail.user_labels = g.labels.clone();
            prev = Some(mail.clone());
            self.mails.push(mail);
            time += (20 + self.rng.random_range(0..600)) * 60_000 + self.secs();
        }
    }

    /// A single message from `from` to `to` (the mailbox owner unless said otherwise).
    #[allow(clippy::too_many_arguments)]
    pub fn single(
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

    pub fn list_headers(&mut self, idx: usize, list_id: &str, unsubscribe: &str) {
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
