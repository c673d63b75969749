//! The demo mailbox: deterministic, realistic mail for demos and tests.
//!
//! Everything here is generated from fixed data (`data/seed/*.json`) and fixed-seed
//! generators, so [`demo_mailboxes`] returns byte-identical output on every run. Each
//! part's encoding is chosen here (mail-builder assembles the message): plain text,
//! HTML-only, multipart/alternative,
//! multipart/mixed with PDF/PNG/CSV attachments (one over 5 MB), multipart/related with an
//! inline image, RFC 2047 B and Q headers, UTF-8 bodies in quoted-printable and base64, an
//! ISO-8859-1 body, calendar invitations, mailing-list mail, spam, trash and drafts.
//!
//! Threads are expressed only the way real mail expresses them: replies carry
//! `In-Reply-To` and the full `References` chain, and their subject is the original with
//! `Re: ` in front. Every message has CRLF line endings, a unique `Message-ID`, a `Date`
//! equal to its `internal_date_ms` (whole seconds) and lines of at most 998 characters
//! (base64 wrapped at 76).

mod builder;
mod data;
mod encode;
mod feeds;
mod files;
mod mailboxes;
mod mime;
mod output;
mod people;
mod random;
#[cfg(test)]
mod tests;
mod text;
mod time;

pub use files::BIG_ATTACHMENT_BYTES;
pub use output::{SeedLabel, SeedMailbox, SeedMessage, DEMO_EMAIL, SECOND_EMAIL};

/// The mailboxes `gmail-sandbox seed` creates: the demo mailbox and a small second one.
pub fn demo_mailboxes() -> Vec<SeedMailbox> {
    mailboxes::generate()
        .into_iter()
        .map(|g| g.mailbox)
        .collect()
}
