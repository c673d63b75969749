//! The two demo mailboxes: what each contains, drafts, unread state, and rendering.

use rand::rngs::StdRng;
use rand::Rng;

use super::builder::{re, Builder};
use super::data::data;
use super::encode::HdrEnc;
use super::files::{chart_png, pdf, small_csv, KIND_CSV, KIND_PDF, KIND_PNG};
use super::mime::{alternative, attachment, text_plain, with_attachments, Mail, SubjectEnc};
use super::output::{SeedLabel, SeedMailbox, SeedMessage, DEMO_EMAIL, SECOND_EMAIL};
use super::people::{attribution, who};
use super::random::{seeded, str_seed};
use super::text::{quote, wrap};
use super::time::{la_ms, schedule, seed_end};

/// The demo user's mail, oldest conversations first.
fn demo_mail(b: &mut Builder) {
    let me = who("me");
    let end = seed_end();
    let data = data();
    for t in &data.conversations {
        b.thread(t);
    }
    for g in &data.generated.conversations {
        b.generated_thread(g, &data.generated.pools);
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
    // Mailing list and code-hosting notifications.
    for t in &data.lists.mailing_lists {
        b.list_thread(t);
    }
    for t in &data.lists.codehub {
        b.codehub_thread(t);
    }
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
    let invites = [
        (
            "Alpha weekly sync",
            (2025, 10, 8, 11, 0),
            (2025, 10, 14, 10, 0),
        ),
        ("Q4 planning", (2025, 11, 20, 9, 30), (2025, 12, 2, 13, 0)),
        (
            "Offsite logistics",
            (2026, 8, 20, 15, 0),
            (2026, 8, 27, 11, 0),
        ),
        (
            "1:1 Alice / Demo",
            (2026, 11, 2, 8, 0),
            (2026, 11, 4, 14, 30),
        ),
    ];
    for (title, (y, mo, d, h, mi), at) in invites {
        b.invite(title, la_ms(y, mo, d, h, mi), at);
    }
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
        let body = with_attachments(alternative(&text, &text), vec![e_ticket(code, route, date)]);
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
            alternative(&text, &text),
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
        alternative(text, text),
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
fn mark_unread(mails: &mut [Mail], rng: &mut StdRng, owner: &str) {
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
            if rng.random_ratio(45, 100) {
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
            let mut rng = seeded(str_seed(&m.message_id));
            SeedMessage {
                raw: m.render(delivered, &mut rng),
                system_labels: m.system_labels.clone(),
                user_labels: m.user_labels.clone(),
                internal_date_ms: m.date_ms,
            }
        })
        .collect()
}

fn seed_labels(names: &[UserLabel]) -> Vec<SeedLabel> {
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
pub struct Generated {
    pub mailbox: SeedMailbox,
    pub mails: Vec<Mail>,
    pub drafts: Vec<Mail>,
}

/// The builder's mail, its times settled and some of it unread, as `owner` finds it.
fn finish_mails(b: &mut Builder, owner: &str) -> Vec<Mail> {
    let mut mails = std::mem::take(&mut b.mails);
    finalize_times(&mut mails);
    mark_unread(&mut mails, &mut b.rng, owner);
    mails
}

/// A user label: its name, and its (text, background) colours if it has them.
type UserLabel<'a> = (&'a str, Option<(&'a str, &'a str)>);

/// One mailbox, rendered: its labels, messages and drafts.
fn seed_mailbox(
    email: &str,
    display_name: &str,
    labels: &[UserLabel],
    mails: &[Mail],
    drafts: &[Mail],
) -> SeedMailbox {
    SeedMailbox {
        email: email.to_string(),
        display_name: display_name.to_string(),
        labels: seed_labels(labels),
        messages: render_all(mails, email),
        drafts: drafts
            .iter()
            .map(|d| d.render(None, &mut seeded(str_seed(&d.message_id))))
            .collect(),
    }
}

/// The demo mailbox and Bob's.
pub fn generate() -> Vec<Generated> {
    let mut b = Builder::new(0x00D3_3D5E_ED00_2026, who("me"));
    demo_mail(&mut b);
    let shared: Vec<Mail> = b.shared.iter().map(|&i| b.mails[i].clone()).collect();
    let mails = finish_mails(&mut b, DEMO_EMAIL);
    let drafts = demo_drafts(&mut b, &mails);
    let labels = [
        ("Work", Some(("#ffffff", "#4a86e8"))),
        ("Receipts", None),
        ("Travel", Some(("#ffffff", "#16a766"))),
        ("Projects", None),
        ("Projects/Alpha", Some(("#ffffff", "#fb4c2f"))),
        ("Newsletters", None),
    ];
    let demo = seed_mailbox(DEMO_EMAIL, "Demo User", &labels, &mails, &drafts);

    let mut bb = Builder::new(0x0B0B_5EED, who("bob"));
    bb.counter = 90_000;
    // Keep Bob's thread keys apart from the shared ones (which come from the demo builder).
    bb.threads = 100_000;
    bob_mail(&mut bb, shared);
    let bob_mails = finish_mails(&mut bb, SECOND_EMAIL);
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
    let labels = [
        ("Work", Some(("#000000", "#fad165"))),
        ("Receipts", None),
        ("Newsletters", None),
    ];
    let bob = seed_mailbox(
        SECOND_EMAIL,
        "Bob Example",
        &labels,
        &bob_mails,
        &bob_drafts,
    );
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
