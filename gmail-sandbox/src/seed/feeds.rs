//! Everything that is not a conversation between people: newsletters, mailing lists,
//! code-hosting notifications, receipts, invitations, social and promotional mail, spam,
//! and mail the user sent that got no answer.

use rand::Rng;

use super::builder::Builder;
use super::data::{data, CodehubThread, ListThread, ShopItem, SocialEvent, Spam};
use super::files::{logo_png, pdf, KIND_PDF};
use super::mime::{
    alternative, attachment, inline_image, multi, related, text_calendar, text_html, text_plain,
    with_attachments, Mail, Part,
};
use super::people::{who, Person};
use super::random::{seeded, str_seed};
use super::text::wrap;
use super::time::{la_ms, la_ms_at, ms_date};

impl Builder {
    pub fn rust_weekly(&mut self, to: Person, issue: u64, t: i64, inbox: bool) {
        let headlines = &data().notifications.rust_weekly_headlines;
        let headline = &headlines[(issue as usize) % headlines.len()];
        let items: Vec<(String, String)> = (1..=4)
            .map(|k| {
                let h = &headlines[(issue as usize + k * 5) % headlines.len()];
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
    pub fn morning_brief(&mut self, to: Person, n: usize, t: i64) {
        let headlines = &data().notifications.morning_brief_headlines;
        let headline = &headlines[n % headlines.len()];
        let mut rng = seeded(9_000 + n as u64);
        let mut rows = String::new();
        for (name, base) in [
            ("S&amp;P 500", 5800u64),
            ("Nasdaq", 19_000),
            ("10-yr Treasury", 4),
        ] {
            let chg = rng.random_range(0..300i64) - 150;
            rows.push_str(&format!(
                "<tr><td>{name}</td><td style=\"text-align:right\">{}.{:02}</td><td style=\"text-align:right;color:{}\">{:+}.{:02}%</td></tr>",
                base + rng.random_range(0..400u64),
                rng.random_range(0..100u64),
                if chg < 0 { "#c5221f" } else { "#188038" },
                chg / 100,
                chg.abs() % 100
            ));
        }
        let html = format!(
            "<!DOCTYPE html>\n<html>\n<head><meta charset=\"utf-8\"><title>The Morning Brief</title></head>\n<body style=\"font-family:Georgia,serif;max-width:600px\">\n<h1>{headline}</h1>\n<p>Good morning! Here is what you need to know today, {}.</p>\n<ol>\n<li><a href=\"https://morningbrief.example.com/s/{n}/1\">{headline}</a></li>\n<li><a href=\"https://morningbrief.example.com/s/{n}/2\">{}</a></li>\n<li><a href=\"https://morningbrief.example.com/s/{n}/3\">{}</a></li>\n</ol>\n<h2>Markets</h2>\n<table border=\"0\" cellpadding=\"4\" style=\"border-collapse:collapse\">\n<tr><th>Index</th><th>Close</th><th>Change</th></tr>\n{rows}\n</table>\n<p>Enjoying the Brief? <a href=\"https://morningbrief.example.com/refer\">Share it with a friend</a>.</p>\n<p style=\"font-size:11px;color:#777\">The Morning Brief, 100 Example Ave, New York, NY. <a href=\"https://morningbrief.example.com/unsubscribe\">Unsubscribe</a></p>\n</body>\n</html>",
            ms_date(t, "%A, %B %-d"),
            headlines[(n + 3) % headlines.len()],
            headlines[(n + 5) % headlines.len()],
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
    pub fn list_thread(&mut self, thread: &ListThread) {
        let tid = self.new_thread();
        let list = who("rustusers");
        let subject = &thread.subject;
        let mut prev: Option<Mail> = None;
        let mut refs = Vec::new();
        let mut t = la_ms_at(thread.start);
        for (i, post) in thread.posts.iter().enumerate() {
            let from = who(&post.from);
            let text = &post.body;
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
            t += (45 + self.rng.random_range(0..400)) * 60_000 + self.secs();
        }
    }

    /// Code-hosting notifications about one issue, threaded like the real ones.
    pub fn codehub_thread(&mut self, thread: &CodehubThread) {
        let tid = self.new_thread();
        let bot = who("github");
        let me = self.owner;
        let (number, title) = (thread.number, &thread.title);
        let mut t = la_ms_at(thread.start);
        let mut root: Option<String> = None;
        for (i, ev) in thread.events.iter().enumerate() {
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
            t += (30 + self.rng.random_range(0..1500)) * 60_000 + self.secs();
        }
    }

    pub fn order_shipped(&mut self, to: Person, n: u64, t: i64, with_invoice: bool) {
        let items = &data().notifications.shop_items;
        let ShopItem { name: item, cents } = &items[(n % items.len() as u64) as usize];
        let cents = *cents;
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

    pub fn ride_receipt(&mut self, n: u64, t: i64) {
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

    pub fn bank_statement(&mut self, t: i64) {
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

    pub fn cloudbox_receipt(&mut self, n: u64, t: i64) {
        let me = self.owner;
        let month = ms_date(t, "%B %Y");
        let number = format!("CB-{:06}", 210_044 + n * 17);
        let text = format!(
            "Hi Demo,\n\nThanks for your payment. Your receipt {number} for Cloudbox Pro ({month}) is attached.\n\nAmount: $9.99\nPayment method: Visa ending in 4242\n\nCloudbox Billing"
        );
        let body = with_attachments(
            alternative(&text, &text),
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

    pub fn invite(&mut self, title: &str, t: i64, start: (i32, u32, u32, u32, u32)) {
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

    pub fn social(&mut self, n: usize, t: i64) {
        let me = self.owner;
        let events = &data().notifications.social_events;
        let SocialEvent { subject, line } = &events[n % events.len()];
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

    pub fn promo(&mut self, from: &str, n: usize, t: i64, system: &[&str], with_logo: bool) {
        let me = self.owner;
        let offers = &data().notifications.promo_offers;
        let subject = &offers[n % offers.len()];
        let shop = if from == "coffee" {
            "Bean There Coffee"
        } else {
            "ShopMart"
        };
        let html = format!(
            "<html><body style=\"text-align:center;font-family:sans-serif\">{}<h1>{subject}</h1><p>Hand-picked offers from {shop}.</p><ul style=\"list-style:none\"><li><a href=\"https://deals.example.com/{n}/1\">Shop the sale</a></li><li><a href=\"https://deals.example.com/{n}/2\">Browse new arrivals</a></li></ul><p style=\"font-size:10px\"><a href=\"https://deals.example.com/unsubscribe\">Unsubscribe</a></p></body></html>",
            if with_logo {
                "<img src=\"cid:promo-logo@beanthere.example.com\" alt=\"logo\" width=\"120\" height=\"32\">"
            } else {
                ""
            }
        );
        let body = if with_logo {
            related(vec![
                text_html(&html),
                inline_image(
                    "beanthere-logo.png",
                    "promo-logo@beanthere.example.com",
                    logo_png(),
                ),
            ])
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

    pub fn spam(&mut self, n: usize, t: i64) {
        let me = self.owner;
        let spam = &data().notifications.spam;
        let Spam {
            from,
            subject,
            body: text,
        } = &spam[n % spam.len()];
        let body = if n.is_multiple_of(2) {
            text_plain(&wrap(text, 76))
        } else {
            alternative(&wrap(text, 76), text)
        };
        let mut labels = vec!["SPAM"];
        if !n.is_multiple_of(3) {
            labels.push("UNREAD");
        }
        self.single(from, me, t, subject, text, body, &labels, &[]);
    }

    pub fn sent(&mut self, to: &str, t: i64, subject: &str, text: &str, atts: Vec<Part>) {
        let body = with_attachments(text_plain(&wrap(text, 76)), atts);
        let tid = self.new_thread();
        let mail_to = vec![who(to)];
        let mut mail = self.mail(tid, who("me"), mail_to, vec![], t, subject, text, body);
        mail.system_labels = vec!["SENT".into()];
        self.mails.push(mail);
    }
}
