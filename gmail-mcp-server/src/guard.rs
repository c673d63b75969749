//! Streamable HTTP sessions belong to the user who initialized them (multi-user mode). The
//! browser guard in front of every MCP endpoint is gmail-shared's `server::guard`.

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::web;
use gmail_shared::server::problem::Problem;
use rmcp::transport::common::http_header::HEADER_SESSION_ID;

use crate::app::AppState;

/// The initialize response binds the new session to its caller, and a request that names
/// another user's session is refused, as a post into another user's SSE session is.
pub async fn session_owner_guard(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody + 'static>>, actix_web::Error> {
    let Some((sessions, cluster)) = req
        .app_data::<web::Data<AppState>>()
        .map(|state| (state.sessions.clone(), state.cluster.clone()))
    else {
        return next.call(req).await.map(|r| r.map_into_left_body());
    };
    let caller = gmail_shared::auth::caller_key(req.request());
    let named = req
        .headers()
        .get(HEADER_SESSION_ID)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let caller_user = caller.as_ref().map(|(u, _)| u.as_str());
    // A session made on another instance is restored here, for its own user only, one
    // restore at a time: rmcp checks for the session and restores it in two steps, and a
    // request between them would find it restored already and fail. Only an id with a
    // record takes the lock: a made-up one must not hold every restore up for as long as
    // its request runs.
    let recorded = match (&named, &cluster) {
        (Some(id), Some(cluster)) if sessions.get(id).is_none() => match cluster.owner(id).await {
            Ok(owner) => owner.is_some(),
            Err(problem) => return Ok(req.into_response(problem.response()).map_into_right_body()),
        },
        _ => false,
    };
    let serial = match (&cluster, recorded) {
        (Some(cluster), true) => Some(cluster.restoring.lock().await),
        _ => None,
    };
    let restoring = match (&named, &cluster, &serial) {
        (Some(id), Some(cluster), Some(_)) if sessions.get(id).is_none() => {
            match cluster.settled_owner(id).await {
                Ok(owner) => Some(owner),
                Err(problem) => {
                    return Ok(req.into_response(problem.response()).map_into_right_body())
                }
            }
        }
        _ => None,
    };
    let mut admitted = None;
    if let Some(id) = &named {
        let foreign = match &restoring {
            Some(owner) => owner
                .as_ref()
                .is_some_and(|o| o.user_id.as_deref() != caller_user),
            None => match sessions.get(id) {
                Some(session) => {
                    if cluster.is_some() {
                        owner_settled(&session).await;
                    }
                    !session.belongs_to(caller_user)
                }
                None => false,
            },
        };
        if foreign {
            let reason = format!("MCP session {id} belongs to another caller");
            tracing::warn!(session_id = %id, "refused request for another caller's session");
            let response = Problem::forbidden(reason).jsonrpc(-32600).response();
            return Ok(req.into_response(response).map_into_right_body());
        }
        // A session restored here counts against this instance's caps like a new one (held
        // until it has its owner, below).
        if matches!(restoring, Some(Some(_))) {
            match sessions.admit(caller_user) {
                Ok(held) => admitted = Some(held),
                Err(refusal) => {
                    tracing::warn!(?refusal, session_id = %id, "refused to restore a session");
                    return Ok(req
                        .into_response(refusal.problem().response())
                        .map_into_right_body());
                }
            }
        }
    }
    let res = next.call(req).await?;
    let Some((user_id, key_id)) = caller else {
        return Ok(res.map_into_left_body());
    };
    // The session this request created (or restored here) belongs to its caller.
    let new_id = match (&named, &restoring) {
        (None, _) => res
            .headers()
            .get(HEADER_SESSION_ID)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned),
        (Some(id), Some(_)) => Some(id.clone()),
        (Some(_), None) => None,
    };
    if let Some(session) = new_id.as_deref().and_then(|id| sessions.get(id)) {
        if let (Some(cluster), None) = (&cluster, &named) {
            cluster
                .register(&session.id, "streamable_http", Some((&user_id, &key_id)))
                .await;
        }
        session.set_owner(crate::sessions::Owner { user_id, key_id });
    }
    // Released only now: the next request for a session restored here finds its owner.
    drop(serial);
    drop(admitted);
    Ok(res.map_into_left_body())
}

/// A session restored here by a request still in flight gets its owner when that request
/// returns; a concurrent request for it waits for that (briefly) rather than being refused.
async fn owner_settled(session: &crate::sessions::Session) {
    for _ in 0..100 {
        if session.owner().is_some() {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
}
