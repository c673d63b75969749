//! Webhook subscriptions: who may point the server where, and how a delivery is signed and
//! sent (Standard Webhooks: `webhook-id`, `webhook-timestamp`, `webhook-signature`).

use std::net::IpAddr;
use std::time::Duration;

use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use schemars::JsonSchema;
use secrecy::{ExposeSecret, SecretString};
use serde::Serialize;

use super::{Event, Events, EVENT_TYPES};
use crate::error::GmailError;
use crate::gmail::http::is_public_address;
use crate::secret::ShownOnce;
use crate::store::DeliveryRow;
pub use crate::store::{NewWebhook, Webhook};

/// A delivery attempt gives up on an answer after this long.
const SEND_TIMEOUT: Duration = Duration::from_secs(10);
/// The longest webhook URL accepted.
const MAX_URL: usize = 2048;

/// An optional text without its surrounding white space; none when nothing is left.
fn trimmed(v: &Option<String>) -> Option<&str> {
    v.as_deref().map(str::trim).filter(|v| !v.is_empty())
}

/// A new webhook with its signing secret, shown this once.
#[derive(Debug, Serialize, JsonSchema)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct CreatedWebhook {
    #[serde(flatten)]
    pub webhook: Webhook,
    /// `whsec_…`: verify each delivery's `webhook-signature` with it. Not shown again.
    pub secret: ShownOnce,
}

/// One delivery, as its webhook's owner sees it.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct Delivery {
    pub id: String,
    /// The event's id: the `webhook-id` header of every attempt.
    pub event_id: String,
    pub event_type: String,
    /// `pending`, `delivered` or `failed`.
    pub status: String,
    pub attempts: i64,
    pub last_status: Option<i64>,
    pub last_error: Option<String>,
    pub created_at: i64,
    pub next_attempt_at: Option<i64>,
    pub delivered_at: Option<i64>,
}

impl From<DeliveryRow> for Delivery {
    fn from(d: DeliveryRow) -> Self {
        Delivery {
            next_attempt_at: (d.status == "pending").then_some(d.next_attempt_at),
            id: d.id,
            event_id: d.event_id,
            event_type: d.event_type,
            status: d.status,
            attempts: d.attempts,
            last_status: d.last_status,
            last_error: d.last_error,
            created_at: d.created_at,
            delivered_at: d.delivered_at,
        }
    }
}

fn not_found(id: &str) -> GmailError {
    GmailError::not_found(format!("webhook {id}"))
}

impl Events {
    /// Subscribes `user_id` to events; the secret is returned once.
    pub async fn create_webhook(
        &self,
        user_id: &str,
        req: &NewWebhook,
    ) -> Result<CreatedWebhook, GmailError> {
        self.check_url(&req.url).await?;
        for e in &req.events {
            if !EVENT_TYPES.contains(&e.as_str()) {
                return Err(GmailError::invalid(
                    "events",
                    format!("{e:?} is not one of {}", EVENT_TYPES.join(", ")),
                ));
            }
        }
        for l in &req.label_ids {
            crate::ops::LabelId::parse("labelIds", l)?;
        }
        if let Some(q) = &req.query {
            if q.len() > 2000 {
                return Err(GmailError::invalid(
                    "query",
                    "is longer than 2000 characters",
                ));
            }
        }
        let max = self.settings().max_webhooks_per_user as usize;
        if self.store().webhooks(user_id).await?.len() >= max {
            return Err(GmailError::invalid(
                "webhooks",
                format!("at most {max} webhooks per user; delete one first"),
            ));
        }
        let secret = SecretString::from(format!(
            "whsec_{}",
            base64::Engine::encode(
                &base64::engine::general_purpose::STANDARD,
                rand::random::<[u8; 32]>()
            )
        ));
        let normalized = NewWebhook {
            url: req.url.trim().to_string(),
            events: req.events.clone(),
            label_ids: req.label_ids.clone(),
            query: trimmed(&req.query).map(str::to_string),
            account: trimmed(&req.account).map(str::to_ascii_lowercase),
        };
        let row = self
            .store()
            .insert_webhook(user_id, &normalized, &secret)
            .await?;
        Ok(CreatedWebhook {
            webhook: row,
            secret: secret.into(),
        })
    }

    pub async fn webhooks(&self, user_id: &str) -> Result<Vec<Webhook>, GmailError> {
        self.store().webhooks(user_id).await
    }

    pub async fn webhook(&self, user_id: &str, id: &str) -> Result<Webhook, GmailError> {
        self.store()
            .webhook(user_id, id)
            .await?
            .ok_or_else(|| not_found(id))
    }

    pub async fn delete_webhook(&self, user_id: &str, id: &str) -> Result<(), GmailError> {
        if self.store().delete_webhook(user_id, id).await? {
            Ok(())
        } else {
            Err(not_found(id))
        }
    }

    /// Queues a `webhook.test` delivery to one webhook; returns its event id.
    pub async fn test_webhook(&self, user_id: &str, id: &str) -> Result<String, GmailError> {
        let row = self
            .store()
            .webhook(user_id, id)
            .await?
            .ok_or_else(|| not_found(id))?;
        if !row.enabled {
            return Err(GmailError::Conflict {
                message: format!(
                    "webhook {id} is turned off ({}); create it again to test it",
                    row.disabled_reason.as_deref().unwrap_or("no reason kept")
                ),
            });
        }
        let event = self
            .store()
            .insert_test_delivery(&row, serde_json::json!({"webhookId": row.id}))
            .await?;
        self.wake_dispatcher();
        Ok(event)
    }

    /// The latest deliveries of one of the caller's webhooks, newest first.
    pub async fn deliveries(
        &self,
        user_id: &str,
        id: &str,
        limit: u32,
    ) -> Result<Vec<Delivery>, GmailError> {
        self.store()
            .webhook(user_id, id)
            .await?
            .ok_or_else(|| not_found(id))?;
        Ok(self
            .store()
            .deliveries(id, i64::from(limit.clamp(1, 100)))
            .await?
            .into_iter()
            .map(Delivery::from)
            .collect())
    }

    /// Refuses URLs that are not http(s), carry credentials, or (unless private webhooks are
    /// allowed) resolve to loopback, private, link-local or metadata addresses.
    pub async fn check_url(&self, url: &str) -> Result<(), GmailError> {
        let refuse = |why: String| GmailError::invalid("url", why);
        let url = url.trim();
        if url.len() > MAX_URL {
            return Err(refuse(format!("is longer than {MAX_URL} characters")));
        }
        let parsed = url::Url::parse(url).map_err(|e| refuse(format!("{url:?}: {e}")))?;
        if !matches!(parsed.scheme(), "http" | "https") {
            return Err(refuse(format!("{url:?} is not an http or https URL")));
        }
        if !parsed.username().is_empty() || parsed.password().is_some() {
            return Err(refuse("must not carry credentials".into()));
        }
        if self.settings().allow_private_webhooks {
            return Ok(());
        }
        let addrs = resolve(&parsed).await.map_err(refuse)?;
        if let Some(ip) = addrs.iter().find(|ip| !is_public_address(**ip)) {
            return Err(refuse(format!(
                "{} resolves to {ip}, a loopback, private, link-local or metadata address \
                 (set events.allow_private_webhooks to allow it)",
                parsed.host_str().unwrap_or_default()
            )));
        }
        Ok(())
    }

    /// Sends one signed delivery; Ok(status) on any HTTP answer, Err on no answer.
    pub(super) async fn send(
        &self,
        url: &str,
        event: &Event,
        secret: &SecretString,
    ) -> Result<u16, String> {
        // Checked again at send time: the name may resolve elsewhere now.
        self.check_url(url).await.map_err(|e| e.to_string())?;
        // The event's own fields, plus where and which one it is.
        let mut data = event.data.as_object().cloned().unwrap_or_default();
        data.insert("account".into(), event.account.clone().into());
        data.insert("seq".into(), event.seq.into());
        let body = serde_json::to_vec(&serde_json::json!({
            "type": event.kind,
            "timestamp": event.timestamp,
            "data": data,
        }))
        .map_err(|e| e.to_string())?;
        let timestamp = chrono::Utc::now().timestamp();
        let signature = standardwebhooks::Webhook::new(secret.expose_secret())
            .and_then(|w| w.sign(&event.id, timestamp, &body))
            .map_err(|e| format!("cannot sign: {e}"))?;
        let request = hyper::Request::post(url)
            .header("content-type", "application/json")
            .header(
                "user-agent",
                concat!("gmail-servers/", env!("CARGO_PKG_VERSION")),
            )
            .header(standardwebhooks::HEADER_WEBHOOK_ID, &event.id)
            .header(
                standardwebhooks::HEADER_WEBHOOK_TIMESTAMP,
                timestamp.to_string(),
            )
            .header(standardwebhooks::HEADER_WEBHOOK_SIGNATURE, signature)
            .body(Full::new(Bytes::from(body)).map_err(|e| match e {}).boxed())
            .map_err(|e| e.to_string())?;
        let answer = tokio::time::timeout(SEND_TIMEOUT, async {
            let response = self.inner.http.request(request).await.map_err(|e| {
                let mut text = e.to_string();
                let mut source = std::error::Error::source(&e);
                while let Some(s) = source {
                    text = format!("{text}: {s}");
                    source = s.source();
                }
                text
            })?;
            let status = response.status().as_u16();
            // Read (a bounded amount of) the answer so the connection can be reused.
            let _ = http_body_util::Limited::new(response.into_body(), 64 * 1024)
                .collect()
                .await;
            Ok::<u16, String>(status)
        })
        .await
        .map_err(|_| format!("no answer within {} s", SEND_TIMEOUT.as_secs()))?;
        answer
    }
}

/// A URL as logs and reasons show it: scheme, host and path, never its query (receivers
/// often put a token there) or credentials.
pub fn redacted(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(u) => {
            format!(
                "{}://{}{}",
                u.scheme(),
                u.host_str().unwrap_or_default(),
                u.port().map(|p| format!(":{p}")).unwrap_or_default()
            ) + u.path()
        }
        Err(_) => "(unparsable URL)".into(),
    }
}

async fn resolve(url: &url::Url) -> Result<Vec<IpAddr>, String> {
    let host = url.host_str().unwrap_or_default();
    let port = url.port_or_known_default().unwrap_or(443);
    if let Ok(ip) = host.trim_matches(['[', ']']).parse::<IpAddr>() {
        return Ok(vec![ip]);
    }
    tokio::net::lookup_host((host, port))
        .await
        .map(|addrs| addrs.map(|a| a.ip()).collect())
        .map_err(|e| format!("cannot resolve {host}: {e}"))
}

#[cfg(test)]
mod tests {
    #[test]
    fn urls_in_reasons_keep_no_query_or_credentials() {
        assert_eq!(
            super::redacted("https://user:pw@hooks.example:8443/in?token=secret"),
            "https://hooks.example:8443/in"
        );
        assert_eq!(super::redacted("not a url"), "(unparsable URL)");
    }
}
