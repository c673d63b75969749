//! What a handler acts for, resolved once at the edge (as zero2prod reads its caller with
//! `web::ReqData`): the caller's tool context, and the mailbox `?account=` picks among theirs.

use std::ops::Deref;
use std::sync::Arc;

use actix_web::dev::Payload;
use actix_web::{web, FromRequest, HttpRequest};
use futures_util::future::LocalBoxFuture;
use gmail_shared::oauth::accounts::Accounts;
use gmail_shared::ops::Mailbox;
use gmail_shared::tools::ToolContext;
use gmail_shared::GmailError;

use crate::app::AppState;
use crate::routes::AccountQuery;

pub(crate) fn state(req: &HttpRequest) -> Result<web::Data<AppState>, GmailError> {
    req.app_data::<web::Data<AppState>>()
        .cloned()
        .ok_or_else(|| GmailError::internal("application state missing"))
}

fn caller(req: &HttpRequest) -> Result<Caller, GmailError> {
    state(req).map(|s| Caller(s.tool_context(req)))
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
        std::future::ready(caller(req))
    }
}

impl Caller {
    /// This caller as a member of a multi-user server; `what` names, in the refusal, the
    /// endpoints that need one.
    pub fn member(&self, what: &str) -> Result<Member, GmailError> {
        let (accounts, caller) = self.connections().ok_or_else(|| {
            GmailError::invalid(
                "Authorization",
                format!("{what} need multi-user mode (GMAIL_MULTI_USER=true) and an API key"),
            )
        })?;
        Ok(Member {
            accounts,
            user_id: caller.user_id.clone(),
            key_id: caller.key_id.clone(),
        })
    }
}

/// A caller of a multi-user server with an API key: who they are, and the account service
/// that keeps their keys, connected apps and Gmail connections.
pub struct Member {
    pub accounts: Arc<Accounts>,
    pub user_id: String,
    pub key_id: String,
}

/// As an extractor: the caller of the members and admin endpoints.
impl FromRequest for Member {
    type Error = GmailError;
    type Future = std::future::Ready<Result<Self, GmailError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        std::future::ready(caller(req).and_then(|c| c.member("members and keys")))
    }
}

/// The mailbox `?account=` asks for, if any.
pub fn requested_account(req: &HttpRequest) -> Result<Option<String>, GmailError> {
    web::Query::<AccountQuery>::from_query(req.query_string())
        .map(|q| q.into_inner().account)
        .map_err(|e| GmailError::invalid("query", e.to_string()))
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
    type Future = LocalBoxFuture<'static, Result<Self, GmailError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let caller = caller(req);
        // `account` only; the handler's own query type checks the rest.
        let account = requested_account(req).ok().flatten();
        Box::pin(async move { Ok(CallerMailbox(caller?.mailbox(account.as_deref()).await?)) })
    }
}
