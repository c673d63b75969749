//! The authorization server's records: registered clients, grants (a user's consent to one
//! client, and the family of every token issued under it), authorization codes and tokens.
//! Codes and tokens are stored as SHA-256 hashes only.

use schemars::JsonSchema;
use secrecy::SecretString;
use serde::Serialize;
use sqlx::{FromRow, Row};

use super::columns::JsonList;
use super::{new_id, now, sha256_hex, Store, User};
use crate::error::GmailError;

/// A client as the authorization server knows it.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ClientRecord {
    pub id: String,
    pub name: String,
    #[sqlx(try_from = "JsonList")]
    pub redirect_uris: Vec<String>,
    /// `none`, `client_secret_post` or `client_secret_basic`.
    pub auth_method: String,
    pub created_at: i64,
}

/// What a token request presents: an authorization code or a refresh token.
#[derive(Debug, Clone, Copy)]
pub enum Presented<'a> {
    Code(&'a str),
    Refresh(&'a str),
}

/// A grant as a code or a refresh token leads to it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct GrantRecord {
    #[sqlx(rename = "grant_id")]
    pub id: String,
    pub user_id: String,
    pub client_id: String,
    pub redirect_uri: String,
    pub scope: String,
    pub resource: String,
}

/// What a user consented to.
#[derive(Debug, Clone, Copy)]
pub struct NewGrant<'a> {
    pub user_id: &'a str,
    pub client: &'a ClientRecord,
    pub redirect_uri: &'a str,
    pub scope: &'a str,
    pub resource: &'a str,
    pub code_challenge: &'a str,
}

/// A connected client as its user (and the site) sees it.
#[derive(Debug, Clone, Serialize, JsonSchema, sqlx::FromRow)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct GrantInfo {
    /// The grant's id: revoke it to disconnect the client.
    pub id: String,
    pub client_id: String,
    pub client_name: String,
    pub redirect_uri: String,
    /// `gmail.full` or `gmail.readonly`.
    pub scope: String,
    /// The MCP server the tokens are for.
    pub resource: String,
    pub created_at: i64,
    pub last_used_at: Option<i64>,
}

/// Who an access token acts for.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct TokenOwner {
    #[sqlx(flatten)]
    pub user: User,
    pub grant_id: String,
    pub scope: String,
    /// The user's own rules (JSON), which narrow every token of theirs.
    #[sqlx(rename = "policy")]
    pub user_policy: Option<String>,
}

/// What presenting a code or a refresh token came to.
#[derive(Debug)]
pub enum Redeemed {
    /// Valid, and now spent: the grant, and (for codes) the PKCE challenge.
    Granted(GrantRecord, Option<String>),
    /// Spent before: the grant it belonged to is revoked now.
    Replayed,
    /// Unknown, expired, revoked, or another client's.
    Invalid,
}

/// Registered clients that never got a grant are forgotten after a day.
const UNUSED_CLIENT_SECS: i64 = 86_400;

/// Tokens of each kind (access, refresh) one grant keeps: the newest.
const MAX_TOKENS_PER_GRANT: i64 = 50;
/// Connected clients (grants) one user may hold at once.
pub const MAX_GRANTS_PER_USER: i64 = 100;
/// How long a grant with no live token, or an expired code, is kept before it is deleted.
const GRANT_GRACE_SECS: i64 = 86_400;
/// How long a decided authorization request is remembered past its expiry: instances' clocks
/// may differ, and none may forget a decision on a request another still takes as live.
const DECISION_GRACE_SECS: i64 = 3600;

/// Where a decision on an authorization request stands.
#[derive(Debug)]
pub enum Decision {
    /// This is the first: make it, then [`Store::finish_oauth_decision`].
    First,
    /// Nobody decided it (a first decision failed and was forgotten): begin again.
    Open,
    /// Another is being made.
    Pending,
    /// Made by the same user the same way: the redirect it answered.
    Made(SecretString),
    /// Made otherwise (another user, the other choice).
    Other,
}

impl Store {
    /// Stores a dynamically registered client (its secret as a hash), after forgetting
    /// day-old clients nobody granted anything; refused when `max_unused` such clients are
    /// already waiting (anyone may register).
    pub async fn register_oauth_client(
        &self,
        client: &ClientRecord,
        secret: Option<&str>,
        max_unused: i64,
    ) -> Result<(), GmailError> {
        // Written out twice: sqlx takes static SQL only.
        self.run(sql!(
            "DELETE FROM oauth_clients WHERE created_at < $1 AND NOT EXISTS (SELECT 1 \
             FROM oauth_grants g WHERE g.client_id = oauth_clients.id)",
            now() - UNUSED_CLIENT_SECS
        ))
        .await?;
        self.below_cap(
            sql!(
                "SELECT COUNT(*) AS n FROM oauth_clients WHERE NOT EXISTS (SELECT 1 FROM \
                 oauth_grants g WHERE g.client_id = oauth_clients.id)"
            ),
            max_unused,
            std::time::Duration::from_secs(3600),
            "registered clients have not been used yet",
        )
        .await?;
        self.put_oauth_client(client, secret).await
    }

    /// Stores (or refreshes) a client: a registration, or a metadata document just read.
    pub async fn put_oauth_client(
        &self,
        client: &ClientRecord,
        secret: Option<&str>,
    ) -> Result<(), GmailError> {
        self.run(sql!(
            "INSERT INTO oauth_clients (id, secret_hash, name, redirect_uris, \
             auth_method, created_at) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT \
             (id) DO UPDATE SET name = $3, redirect_uris = $4, auth_method = $5",
            &client.id,
            secret.map(sha256_hex),
            &client.name,
            serde_json::to_string(&client.redirect_uris).unwrap_or_default(),
            &client.auth_method,
            client.created_at
        ))
        .await
    }

    /// A stored client and the hash of its secret, if it has one.
    pub async fn oauth_client(
        &self,
        id: &str,
    ) -> Result<Option<(ClientRecord, Option<String>)>, GmailError> {
        let row = sql!("SELECT * FROM oauth_clients WHERE id = $1", id)
            .fetch_optional(&self.pool)
            .await?;
        row.map(|r| Ok((ClientRecord::from_row(&r)?, r.try_get("secret_hash")?)))
            .transpose()
    }

    /// Whether `user_id` has approved `client_id` (a grant not revoked). Only that makes a
    /// client's redirect URI trusted for this user's browser: anyone may register a client
    /// and approve it themselves.
    pub async fn oauth_client_approved(
        &self,
        client_id: &str,
        user_id: &str,
    ) -> Result<bool, GmailError> {
        let row = sql!(
            "SELECT 1 AS one FROM oauth_grants WHERE client_id = $1 AND user_id = $2 AND \
             revoked_at IS NULL LIMIT 1",
            client_id,
            user_id
        )
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.is_some())
    }

    /// Starts the decision on the authorization request `request_id` (live until
    /// `expires_at`), after forgetting requests long expired. Only the first decision runs,
    /// whichever instance it reached (the primary key arbitrates); a later one is told the
    /// first's outcome (see [`Self::oauth_decision`]).
    pub async fn begin_oauth_decision(
        &self,
        request_id: &str,
        expires_at: i64,
        context: &str,
    ) -> Result<Decision, GmailError> {
        self.run(sql!(
            "DELETE FROM oauth_decisions WHERE expires_at < $1",
            now() - DECISION_GRACE_SECS
        ))
        .await?;
        let first = self.changed_one(sql!(
            "INSERT INTO oauth_decisions (request_id, expires_at) VALUES ($1, $2) ON \
             CONFLICT DO NOTHING",
            request_id,
            expires_at
        ));
        if first.await? {
            return Ok(Decision::First);
        }
        self.oauth_decision(request_id, context).await
    }

    /// Where the decision on `request_id` stands (reads only). Its outcome was sealed under
    /// the `context` of the decision that made it (who decided, and how): a repeat under
    /// another context (another user, the other choice) is told only that it was decided.
    pub async fn oauth_decision(
        &self,
        request_id: &str,
        context: &str,
    ) -> Result<Decision, GmailError> {
        let row = sql!(
            "SELECT outcome FROM oauth_decisions WHERE request_id = $1",
            request_id
        )
        .fetch_optional(&self.pool)
        .await?;
        let Some(row) = row else {
            return Ok(Decision::Open);
        };
        let sealed: Option<String> = row.try_get("outcome")?;
        Ok(match sealed {
            None => Decision::Pending,
            Some(sealed) => match self.keys.open(context, &sealed) {
                Ok(outcome) => Decision::Made(outcome),
                // Most often another user or choice; said, in case it is a missing old key.
                Err(e) => {
                    tracing::info!(error = %e, "a consent decision's answer does not open for this decision");
                    Decision::Other
                }
            },
        })
    }

    /// Ends the first decision: records its outcome (sealed under `context`), or, when it
    /// failed or was abandoned, forgets it so that the request may be decided again.
    pub async fn finish_oauth_decision(
        &self,
        request_id: &str,
        outcome: Option<(&str, &str)>,
    ) -> Result<(), GmailError> {
        match outcome {
            Some((context, outcome)) => {
                let sealed = self.keys.seal(context, outcome)?;
                self.run(sql!(
                    "UPDATE oauth_decisions SET outcome = $1 WHERE request_id = $2",
                    sealed,
                    request_id
                ))
                .await
            }
            None => {
                self.run(sql!(
                    "DELETE FROM oauth_decisions WHERE request_id = $1 AND outcome IS NULL",
                    request_id
                ))
                .await
            }
        }
    }

    /// Records a user's consent to a client and its first authorization code (hashed);
    /// answers the grant's id.
    pub async fn create_oauth_grant(
        &self,
        grant: &NewGrant<'_>,
        code: &str,
        code_ttl_secs: i64,
    ) -> Result<String, GmailError> {
        let NewGrant {
            user_id,
            client,
            redirect_uri,
            scope,
            resource,
            code_challenge,
        } = *grant;
        let t = now();
        // Dead grants go first, a day on (the revocation watch reads recent revocations):
        // revoked ones, and ones with no live token (codes live a minute), with their codes
        // and tokens.
        self.run(sql!(
            "DELETE FROM oauth_codes WHERE expires_at < $1",
            t - GRANT_GRACE_SECS
        ))
        .await?;
        self.run(sql!(
            "DELETE FROM oauth_grants WHERE revoked_at < $1 OR (created_at < $1 AND NOT \
             EXISTS (SELECT 1 FROM oauth_tokens k WHERE k.grant_id = \
             oauth_grants.id AND k.expires_at > $2))",
            t - GRANT_GRACE_SECS,
            t
        ))
        .await?;
        // What the team site lists (a live token), and consents of the last minutes whose
        // code may still be redeemed.
        let live = self
            .count(sql!(
                "SELECT COUNT(*) AS n FROM oauth_grants g WHERE user_id = $1 AND \
                 revoked_at IS NULL AND (created_at > $2 OR EXISTS (SELECT 1 FROM \
                 oauth_tokens k WHERE k.grant_id = g.id AND k.expires_at > $3))",
                user_id,
                t - code_ttl_secs,
                t
            ))
            .await?;
        if live >= MAX_GRANTS_PER_USER {
            return Err(GmailError::invalid(
                "grant",
                format!(
                    "at most {MAX_GRANTS_PER_USER} connected clients per user; disconnect one \
                     on the team site first"
                ),
            ));
        }
        let id = new_id("grant");
        let mut tx = self.pool.begin().await?;
        sql!(
            "INSERT INTO oauth_grants (id, user_id, client_id, client_name, \
             redirect_uri, scope, resource, created_at) VALUES ($1, $2, $3, $4, $5, \
             $6, $7, $8)",
            &id,
            user_id,
            &client.id,
            &client.name,
            redirect_uri,
            scope,
            resource,
            t
        )
        .execute(&mut *tx)
        .await?;
        sql!(
            "INSERT INTO oauth_codes (code_hash, grant_id, code_challenge, \
             expires_at) VALUES ($1, $2, $3, $4)",
            sha256_hex(code),
            &id,
            code_challenge,
            t + code_ttl_secs
        )
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(id)
    }

    /// The grant an unspent code or refresh token of `client_id` leads to, spending nothing:
    /// what a token request asks for is checked against it first, so a request refused for
    /// its scope or resource leaves the client its token.
    pub async fn oauth_grant_of(
        &self,
        presented: Presented<'_>,
        client_id: &str,
    ) -> Result<Option<GrantRecord>, GmailError> {
        let columns = "g.id AS grant_id, g.user_id, g.client_id, g.redirect_uri, g.scope, \
                       g.resource";
        let (sql, secret) = match presented {
            Presented::Code(code) => (
                format!(
                    "SELECT {columns} FROM oauth_codes c JOIN oauth_grants g ON g.id = \
                 c.grant_id WHERE c.code_hash = $1 AND c.used = 0 AND g.client_id = $2 AND \
                 g.revoked_at IS NULL"
                ),
                code,
            ),
            Presented::Refresh(token) => (
                format!(
                    "SELECT {columns} FROM oauth_tokens t JOIN oauth_grants g ON g.id = \
                 t.grant_id WHERE t.token_hash = $1 AND t.kind = 'refresh' AND t.rotated_at \
                 IS NULL AND g.client_id = $2 AND g.revoked_at IS NULL"
                ),
                token,
            ),
        };
        let hash = sha256_hex(secret);
        Ok(
            sql!(as GrantRecord, sqlx::AssertSqlSafe(sql), &hash, client_id)
                .fetch_optional(&self.pool)
                .await?,
        )
    }

    /// Spends an authorization code of `client_id`. A code presented twice revokes its grant
    /// and every token issued from it (RFC 6749 §4.1.2).
    pub async fn redeem_oauth_code(
        &self,
        code: &str,
        client_id: &str,
    ) -> Result<Redeemed, GmailError> {
        let hash = sha256_hex(code);
        let row = sql!(
            "SELECT c.code_challenge, c.expires_at, c.used, g.id AS grant_id, \
             g.user_id, g.client_id, g.redirect_uri, g.scope, g.resource, \
             g.revoked_at FROM oauth_codes c JOIN oauth_grants g ON g.id = c.grant_id \
             WHERE c.code_hash = $1",
            &hash
        )
        .fetch_optional(&self.pool)
        .await?;
        let Some(row) = row else {
            return Ok(Redeemed::Invalid);
        };
        let grant = GrantRecord::from_row(&row)?;
        if grant.client_id != client_id {
            return Ok(Redeemed::Invalid);
        }
        let used: i64 = row.try_get("used")?;
        let spend = sql!(
            "UPDATE oauth_codes SET used = 1 WHERE code_hash = $1 AND used = 0",
            &hash
        );
        if !self.spend_once(used == 0, spend, &grant.id).await? {
            return Ok(Redeemed::Replayed);
        }
        let expires_at: i64 = row.try_get("expires_at")?;
        let revoked: Option<i64> = row.try_get("revoked_at")?;
        if expires_at < now() || revoked.is_some() {
            return Ok(Redeemed::Invalid);
        }
        let challenge: String = row.try_get("code_challenge")?;
        Ok(Redeemed::Granted(grant, Some(challenge)))
    }

    /// Spends a single-use code or token: `spend` marks it used only if it was not (so of two
    /// racing presenters one wins). A second presentation means it leaked: the grant, and
    /// every token of it, is revoked. Whether this presentation spent it.
    async fn spend_once(
        &self,
        unspent: bool,
        spend: sqlx::query::Query<'_, sqlx::Any, sqlx::any::AnyArguments>,
        grant_id: &str,
    ) -> Result<bool, GmailError> {
        let spent = unspent && self.changed_one(spend).await?;
        if !spent {
            self.revoke_oauth_grant_of(None, grant_id).await?;
        }
        Ok(spent)
    }

    /// Stores a token of a grant (its hash), forgetting tokens a day past their expiry.
    pub async fn store_oauth_token(
        &self,
        grant_id: &str,
        token: &str,
        kind: &str,
        ttl_secs: i64,
    ) -> Result<(), GmailError> {
        let t = now();
        self.run(sql!(
            "DELETE FROM oauth_tokens WHERE expires_at < $1",
            t - 86_400
        ))
        .await?;
        self.run(sql!(
            "INSERT INTO oauth_tokens (token_hash, grant_id, kind, expires_at) VALUES \
             ($1, $2, $3, $4)",
            sha256_hex(token),
            grant_id,
            kind,
            t + ttl_secs
        ))
        .await?;
        // A client that refreshes in a loop adds two tokens a turn: a grant keeps its newest
        // of each kind, and always the one just made (a client uses its latest; older
        // rotated refresh tokens then read as unknown rather than as replays).
        self.run(sql!(
            "DELETE FROM oauth_tokens WHERE grant_id = $1 AND kind = $2 AND token_hash <> \
             $4 AND token_hash NOT IN (SELECT token_hash FROM oauth_tokens WHERE grant_id = \
             $1 AND kind = $2 ORDER BY expires_at DESC, token_hash LIMIT $3)",
            grant_id,
            kind,
            MAX_TOKENS_PER_GRANT,
            sha256_hex(token)
        ))
        .await
    }

    /// Spends a refresh token of `client_id` (they rotate). One presented a second time was
    /// stolen or replayed: its whole family (the grant) is revoked.
    pub async fn rotate_oauth_refresh(
        &self,
        token: &str,
        client_id: &str,
    ) -> Result<Redeemed, GmailError> {
        let hash = sha256_hex(token);
        let row = sql!(
            "SELECT t.expires_at, t.rotated_at, g.id AS grant_id, g.user_id, \
             g.client_id, g.redirect_uri, g.scope, g.resource, g.revoked_at FROM \
             oauth_tokens t JOIN oauth_grants g ON g.id = t.grant_id WHERE \
             t.token_hash = $1 AND t.kind = 'refresh'",
            &hash
        )
        .fetch_optional(&self.pool)
        .await?;
        let Some(row) = row else {
            return Ok(Redeemed::Invalid);
        };
        let grant = GrantRecord::from_row(&row)?;
        let revoked: Option<i64> = row.try_get("revoked_at")?;
        if grant.client_id != client_id || revoked.is_some() {
            return Ok(Redeemed::Invalid);
        }
        let rotated: Option<i64> = row.try_get("rotated_at")?;
        let spend = sql!(
            "UPDATE oauth_tokens SET rotated_at = $1 WHERE token_hash = $2 AND \
             rotated_at IS NULL",
            now(),
            &hash
        );
        if !self.spend_once(rotated.is_none(), spend, &grant.id).await? {
            return Ok(Redeemed::Replayed);
        }
        let expires_at: i64 = row.try_get("expires_at")?;
        if expires_at < now() {
            return Ok(Redeemed::Invalid);
        }
        Ok(Redeemed::Granted(grant, None))
    }

    /// The owner of a live access token issued for one of `audiences`, for an enabled user.
    pub async fn authenticate_oauth_token(
        &self,
        token: &str,
        audiences: &[String],
    ) -> Result<Option<TokenOwner>, GmailError> {
        let row = sql!(
            "SELECT g.id AS grant_id, g.scope, g.resource, u.id, u.external_id, \
             u.email, u.policy FROM oauth_tokens t JOIN oauth_grants g ON g.id = \
             t.grant_id JOIN users u ON u.id = g.user_id WHERE t.token_hash = $1 AND \
             t.kind = 'access' AND t.expires_at > $2 AND g.revoked_at IS NULL AND \
             u.disabled_at IS NULL",
            sha256_hex(token.trim()),
            now()
        )
        .fetch_optional(&self.pool)
        .await?;
        let Some(row) = row else { return Ok(None) };
        let resource: String = row.try_get("resource")?;
        // A token for another resource is refused here (RFC 8707 audience binding).
        if !audiences.contains(&resource) {
            return Ok(None);
        }
        let owner = TokenOwner::from_row(&row)?;
        self.run(sql!(
            "UPDATE oauth_grants SET last_used_at = $1 WHERE id = $2",
            now(),
            &owner.grant_id
        ))
        .await?;
        Ok(Some(owner))
    }

    /// A user's connected clients: grants not revoked whose tokens can still be refreshed.
    pub async fn user_oauth_grants(&self, user_id: &str) -> Result<Vec<GrantInfo>, GmailError> {
        Ok(sql!(
            as GrantInfo,
            "SELECT id, client_id, client_name, redirect_uri, scope, resource, \
             created_at, last_used_at FROM oauth_grants g WHERE user_id = $1 AND \
             revoked_at IS NULL AND EXISTS (SELECT 1 FROM oauth_tokens t WHERE \
             t.grant_id = g.id AND t.expires_at > $2) ORDER BY created_at DESC, id",
            user_id,
            now()
        )
        .fetch_all(&self.pool)
        .await?)
    }

    /// Revokes a grant (of `owner` only, when given) and so every token of it; whether there
    /// was such a live grant.
    pub async fn revoke_oauth_grant_of(
        &self,
        owner: Option<&str>,
        grant_id: &str,
    ) -> Result<bool, GmailError> {
        self.changed_one(sql!(
            "UPDATE oauth_grants SET revoked_at = $1 WHERE id = $2 AND revoked_at IS \
             NULL AND ($3 IS NULL OR user_id = $3)",
            now(),
            grant_id,
            owner
        ))
        .await
    }

    /// The grant a token of `client_id` belongs to (RFC 7009 revocation), if any.
    pub async fn oauth_grant_of_token(
        &self,
        token: &str,
        client_id: &str,
    ) -> Result<Option<String>, GmailError> {
        let row = sql!(
            "SELECT g.id FROM oauth_tokens t JOIN oauth_grants g ON g.id = t.grant_id \
             WHERE t.token_hash = $1 AND g.client_id = $2",
            sha256_hex(token.trim()),
            client_id
        )
        .fetch_optional(&self.pool)
        .await?;
        row.map(|r| r.try_get("id").map_err(GmailError::from))
            .transpose()
    }

    /// Grants revoked at or after `since`: their sessions close like a revoked key's.
    pub(super) async fn grants_revoked_since(&self, since: i64) -> Result<Vec<String>, GmailError> {
        let rows = sql!("SELECT id FROM oauth_grants WHERE revoked_at >= $1", since)
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|r| r.try_get("id").map_err(GmailError::from))
            .collect()
    }
}
