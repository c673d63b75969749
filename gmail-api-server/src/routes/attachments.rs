//! Attachments: the bytes, with the right Content-Type and Content-Disposition.

use actix_web::http::header::{
    Charset, ContentDisposition, DispositionParam, DispositionType, ExtendedValue,
};
use actix_web::{web, HttpResponse};
use gmail_shared::mail::{guess_content_type, sanitize_filename};
use gmail_shared::ops::attachments::{self, AttachmentHandle, Located};
use gmail_shared::ops::MessageId;
use serde::Deserialize;
use utoipa::IntoParams;

use super::{resource, Answer};
use crate::extract::CallerMailbox;

pub fn configure(cfg: &mut web::ServiceConfig) {
    resource(
        cfg,
        "/messages/{id}/attachments/{attachmentId}",
        [web::get().to(download)],
    );
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DownloadQuery {
    /// Answer `inline` instead of `attachment` in Content-Disposition (e.g. show an image).
    pub inline: Option<bool>,
    /// Connected Gmail address to act on; defaults to the primary account.
    pub account: Option<String>,
}

/// Download an attachment as a binary stream, named and typed as in the message.
#[utoipa::path(get, path = "/api/v1/messages/{id}/attachments/{attachmentId}", tag = "attachments",
    params(("id" = String, Path, description = "Gmail message id"),
        ("attachmentId" = String, Path, description = "Attachment id from the message's `attachments`, or its part id (`2`, `0.1`)"),
        DownloadQuery),
    responses((status = 200, description = "The attachment's bytes; Content-Type as in the message, Content-Disposition with its file name",
        content((String = "*/*")),
        headers(("Content-Disposition" = String, description = "attachment; filename=\"…\"")))))]
pub async fn download(
    path: web::Path<(MessageId, String)>,
    q: web::Query<DownloadQuery>,
    mailbox: CallerMailbox,
) -> Answer {
    let (id, handle) = path.into_inner();
    let handle = AttachmentHandle::parse("attachmentId", &handle)?;
    let Located {
        id: attachment_id,
        info,
    } = attachments::locate(&mailbox, &id, &handle).await?;
    let bytes = attachments::fetch(&mailbox, &id, &attachment_id).await?;
    let filename = info
        .as_ref()
        .map(|a| sanitize_filename(&a.filename))
        .unwrap_or_else(|| {
            format!(
                "attachment-{}",
                attachment_id.chars().take(12).collect::<String>()
            )
        });
    let content_type = info
        .map(|a| a.mime_type)
        .filter(|m| m.parse::<actix_web::mime::Mime>().is_ok())
        .unwrap_or_else(|| guess_content_type(&filename).to_string());
    // The sender chose the type: only types a browser shows without running anything open
    // inline; HTML or SVG on this origin could script the API (no key in single-user mode).
    let inline = q.inline.unwrap_or(false) && shown_safely(&content_type);
    let disposition = ContentDisposition {
        disposition: if inline {
            DispositionType::Inline
        } else {
            DispositionType::Attachment
        },
        parameters: filename_params(filename),
    };
    Ok(HttpResponse::Ok()
        .content_type(content_type)
        .insert_header(disposition)
        .insert_header(("X-Content-Type-Options", "nosniff"))
        .insert_header(("Content-Security-Policy", "sandbox; default-src 'none'"))
        .body(bytes))
}

/// Types a browser displays without running anything (and SVG is not one of them).
fn shown_safely(content_type: &str) -> bool {
    let essence = content_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    matches!(
        essence.as_str(),
        "image/png"
            | "image/jpeg"
            | "image/gif"
            | "image/webp"
            | "application/pdf"
            | "text/plain"
            | "audio/mpeg"
            | "video/mp4"
    )
}

/// `filename="…"`, plus RFC 5987 `filename*` when the name is not ASCII (with an ASCII
/// fallback for old clients).
fn filename_params(filename: String) -> Vec<DispositionParam> {
    if filename.is_ascii() {
        return vec![DispositionParam::Filename(filename)];
    }
    let fallback: String = filename
        .chars()
        .map(|c| if c.is_ascii() { c } else { '_' })
        .collect();
    vec![
        DispositionParam::Filename(fallback),
        DispositionParam::FilenameExt(ExtendedValue {
            charset: Charset::Ext("UTF-8".into()),
            language_tag: None,
            value: filename.into_bytes(),
        }),
    ]
}
