//! `GET /api/v1/events`: the caller's events as Server-Sent Events, resumable with
//! `Last-Event-ID`; and `POST /hooks/gmail/pubsub`, where Gmail's Pub/Sub pushes arrive.
//! The stream is framed by hand (an `id`/`event`/`data` record per event, a comment to keep
//! it alive), as the MCP server's SSE transport is; see there why not actix-web-lab's `Sse`.

use std::time::Duration;

use actix_web::{web, HttpRequest, HttpResponse};
use base64::Engine;
use gmail_shared::events::wait::{user_of, EventFilter};
use gmail_shared::events::EVENT_TYPES;
use gmail_shared::GmailError;
use serde::Deserialize;
use utoipa::IntoParams;

use super::{resource, split_list, Answer};
use crate::app::AppState;
use crate::extract::Caller;
use crate::routes::webhooks::events_of;

/// A comment line this often keeps proxies from closing a quiet stream.
const KEEP_ALIVE: Duration = Duration::from_secs(15);
/// How often a stream looks for events when nothing in this process woke it.
const TICK: Duration = Duration::from_millis(500);
/// How often a stream checks that its caller's key still works.
const REAUTH: Duration = Duration::from_secs(10);

pub fn configure(cfg: &mut web::ServiceConfig) {
    resource(cfg, "/events", [web::get().to(stream)]);
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct EventsQuery {
    /// Only this connected address's events.
    pub account: Option<String>,
    /// Comma-separated label ids: only events about messages with one of them.
    pub label_ids: Option<String>,
    /// Only new messages this Gmail search matches (other event types pass).
    pub query: Option<String>,
    /// Comma-separated event types (default all).
    pub types: Option<String>,
    /// Resume after this event number (as the `Last-Event-ID` header does).
    pub last_event_id: Option<i64>,
}

/// Your events as they happen, as Server-Sent Events: `id` is the event number, `event` its
/// type, `data` the event (JSON). Reconnect with `Last-Event-ID` to get exactly what you
/// missed (events are kept `events.retention_hours`).
#[utoipa::path(get, path = "/api/v1/events", tag = "events", params(EventsQuery),
    responses((status = 200, description = "text/event-stream of events", content_type = "text/event-stream", body = String)))]
pub async fn stream(
    req: HttpRequest,
    caller: Caller,
    state: web::Data<AppState>,
    q: web::Query<EventsQuery>,
) -> Answer {
    let events = events_of(&caller)?.clone();
    let user = user_of(&caller)?;
    let types = split_list(q.types.as_deref());
    if let Some(bad) = types.iter().find(|t| !EVENT_TYPES.contains(&t.as_str())) {
        return Err(GmailError::invalid(
            "types",
            format!("{bad:?} is not one of {}", EVENT_TYPES.join(", ")),
        ));
    }
    let filter = EventFilter {
        account: q.account.clone(),
        label_ids: split_list(q.label_ids.as_deref()),
        query: q.query.clone().filter(|s| !s.trim().is_empty()),
        types,
    };
    let header = req
        .headers()
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .map(|v| {
            v.trim().parse::<i64>().map_err(|_| {
                GmailError::invalid("Last-Event-ID", format!("{v:?} is not an event number"))
            })
        })
        .transpose()?;
    let after = match header.or(q.last_event_id) {
        Some(n) => n,
        // A fresh stream hears of the next message even in a mailbox the change feed has not
        // started yet (the caller's default one, when none is named).
        None => match caller.0.mailbox(q.account.as_deref()).await {
            Ok(mailbox) => events.watch_from(&user, &mailbox).await?.0,
            Err(e) if q.account.is_some() => return Err(e),
            // No default mailbox: the stream still shows every account's.
            Err(_) => events.store().last_event_seq(&user).await?,
        },
    };
    let permit = events.open_stream(&user)?;
    let authorization = req
        .headers()
        .get(actix_web::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let ctx = caller.0.clone();
    let auth = state.auth.clone();
    let stored = events.stored_signal();
    struct Cursor {
        after: i64,
        pending: std::collections::VecDeque<String>,
        last_sent: tokio::time::Instant,
        last_auth: tokio::time::Instant,
        stored: tokio::sync::watch::Receiver<u64>,
        _permit: gmail_shared::events::StreamPermit,
    }
    let start = Cursor {
        after,
        // The first bytes go out at once, so clients see the stream is open.
        pending: [format!(": stream of events after {after}\nretry: 2000\n\n")].into(),
        last_sent: tokio::time::Instant::now(),
        last_auth: tokio::time::Instant::now(),
        stored,
        _permit: permit,
    };
    let body = futures_util::stream::unfold(Some(start), move |cursor| {
        let events = events.clone();
        let filter = filter.clone();
        let ctx = ctx.clone();
        let auth = auth.clone();
        let authorization = authorization.clone();
        let user = user.clone();
        async move {
            let mut c = cursor?;
            loop {
                if let Some(chunk) = c.pending.pop_front() {
                    c.last_sent = tokio::time::Instant::now();
                    return Some((Ok::<_, actix_web::Error>(web::Bytes::from(chunk)), Some(c)));
                }
                if c.last_auth.elapsed() >= REAUTH {
                    c.last_auth = tokio::time::Instant::now();
                    // A revoked key or disabled user ends the stream.
                    if auth.context(authorization.as_deref()).await.is_err() {
                        return None;
                    }
                }
                match events.read(&ctx, &user, c.after, &filter).await {
                    Ok((found, last)) => {
                        c.after = last;
                        for e in found {
                            let data = serde_json::to_string(&e).unwrap_or_default();
                            c.pending.push_back(format!(
                                "id: {}\nevent: {}\ndata: {data}\n\n",
                                e.seq, e.kind
                            ));
                        }
                        if !c.pending.is_empty() {
                            continue;
                        }
                    }
                    Err(e) => tracing::warn!(error = %e, "cannot read events for a stream"),
                }
                if c.last_sent.elapsed() >= KEEP_ALIVE {
                    c.pending.push_back(": keep-alive\n\n".into());
                    continue;
                }
                tokio::select! {
                    _ = c.stored.changed() => {}
                    _ = tokio::time::sleep(TICK) => {}
                }
            }
        }
    });
    Ok(HttpResponse::Ok()
        .content_type("text/event-stream")
        .insert_header(("cache-control", "no-store"))
        .insert_header(("x-accel-buffering", "no"))
        .streaming(body))
}

/// No `Debug`: it carries the Pub/Sub push token.
#[derive(Deserialize)]
pub struct PushQuery {
    token: Option<String>,
}

#[derive(Debug, Deserialize)]
struct PushEnvelope {
    message: PushMessage,
}

#[derive(Debug, Deserialize)]
struct PushMessage {
    data: String,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct GmailNotification {
    email_address: String,
}

/// Gmail's Pub/Sub push (`{message: {data: base64({emailAddress, historyId})}}`), verified by
/// the `?token=` the push subscription was made with. The hint is stored before the 204
/// acknowledges it; a sync from the stored cursor follows, so duplicates are harmless.
pub async fn pubsub(
    state: web::Data<AppState>,
    q: web::Query<PushQuery>,
    req: HttpRequest,
    body: web::Bytes,
) -> Answer {
    let Some(events) = state.auth.events() else {
        return Err(GmailError::not_found(
            "the Pub/Sub endpoint (events are off)",
        ));
    };
    if !q
        .token
        .as_deref()
        .is_some_and(|t| events.push_token_matches(t))
    {
        return Err(GmailError::Forbidden {
            message: "the push token is missing or wrong".into(),
        });
    }
    let json = req
        .headers()
        .get(actix_web::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if !json {
        return Err(GmailError::invalid(
            "Content-Type",
            "must be application/json",
        ));
    }
    let envelope: PushEnvelope = serde_json::from_slice(&body)
        .map_err(|e| GmailError::invalid("message", format!("not a Pub/Sub push: {e}")))?;
    let data = base64::engine::general_purpose::STANDARD
        .decode(envelope.message.data.trim())
        .or_else(|_| base64::engine::general_purpose::URL_SAFE.decode(envelope.message.data.trim()))
        .map_err(|e| GmailError::invalid("message.data", format!("not base64: {e}")))?;
    let note: GmailNotification = serde_json::from_slice(&data).map_err(|e| {
        GmailError::invalid("message.data", format!("not a Gmail notification: {e}"))
    })?;
    let hinted = events.push_hint(&note.email_address).await?;
    tracing::debug!(account = %note.email_address, hinted, "Gmail push");
    // Acknowledged even when no mailbox follows this address: Pub/Sub would retry forever.
    Ok(HttpResponse::NoContent().finish())
}
