//! Pure mail handling shared by both servers: addresses, building outgoing MIME messages,
//! reading Gmail/raw messages into text, HTML to text, reply/forward headers and quoting, and
//! paging long bodies. No I/O here: everything is a function over values, tested on fixtures.

pub mod address;
pub mod compose;
pub mod html;
pub mod ids;
pub mod read;
pub mod reply;
pub mod window;

pub use address::{
    format_display_name, format_mailbox, format_recipients, parse_recipient_items,
    parse_recipients, EmailAddress, Recipient,
};
pub use compose::{
    check_attachments_total, guess_content_type, new_message_id, sanitize_filename, BuiltMessage,
    OutgoingAttachment, OutgoingMessage, MAX_ATTACHMENTS_BYTES, MAX_MESSAGE_BYTES,
};
pub use html::{decode_entities, html_to_text};
pub use ids::{normalize_message_id, parse_message_ids, strip_brackets};
pub use read::{
    decode_charset, decode_header_text, format_address_list, parse_address_header, raw_attachments,
    readable_from_gmail, readable_from_raw, AddressInfo, AttachmentInfo, ReadableMessage,
};
pub use reply::{
    forward_body, forward_subject, quote_for_reply, reply_headers, reply_recipients,
    reply_recipients_excluding, reply_subject, trim_quoted_history,
};
pub use window::{window, Window};
