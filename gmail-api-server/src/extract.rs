//! What a handler acts for, resolved once at the edge (as zero2prod reads its caller with
//! `web::ReqData`): the caller's tool context, and the mailbox `?account=` picks among theirs.

use std::future::Future;
use std::ops::Deref;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::{web, FromRequest, HttpRequest};
use gmail_shared::ops::Mailbox;
use gmail_shared::tools::ToolContext;
use gmail_shared::GmailError;

use crate::app::AppState;
use crate::routes::AccountQuery;

fn state(req: &HttpRequest) -> Result<web::Data<AppState>, GmailError> {
    req.app_data::<web::Data<AppState>>()
        .cloned()
        .ok_or_else(|| GmailError::internal("application state missing"))
}

/// The caller's tool context for this request: who, through which endpoint, under which
/// request id, with which rules.
pub struct Caller(pub ToolContext);

impl Deref for Caller {
    type Target = ToolContext;
    fn deref(&self) -> &ToolContext {
        &self.0
    }
}

impl FromRequest for Caller {
    type Error = GmailError;
    type Future = std::future::Ready<Result<Self, GmailError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        std::future::ready(state(req).map(|s| Caller(s.tool_context(req))))
    }
}

/// The caller's mailbox `?account=` picks (their primary one by default).
pub struct CallerMailbox(pub Mailbox);

impl Deref for CallerMailbox {
    type Target = Mailbox;
    fn deref(&self) -> &Mailbox {
        &self.0
    }
}

impl FromRequest for CallerMailbox {
    type Error = GmailError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, GmailError>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let ctx = state(req).map(|s| s.tool_context(req));
        // `account` only; the handler's own query type checks the rest.
        let account = web::Query::<AccountQuery>::from_query(req.query_string())
            .ok()
            .and_then(|q| q.into_inner().account);
        Box::pin(async move { Ok(CallerMailbox(ctx?.mailbox(account.as_deref()).await?)) })
    }
}
