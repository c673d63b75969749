//! Users' connections to Gmail addresses: their tokens, sealed under the connection's id,
//! kept fresh across processes (one refresh at a time), and marked when Google refuses them.

use schemars::JsonSchema;
use secrecy::{ExposeSecret, SecretString};
use serde::Serialize;
use sqlx::{FromRow, Row};

use super::{columns, new_id, now, Keyring, Store, ACTIVE, NEEDS_REAUTH};
use crate::error::GmailError;
use crate::gmail::credentials::StoredTokens;

#[derive(Debug, Clone, Serialize, JsonSchema, PartialEq, Eq, sqlx::FromRow)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct ConnectionInfo {
    pub id: String,
    pub email: String,
    /// `active` or `needs_reauth`.
    pub status: String,
    #[sqlx(try_from = "columns::Words")]
    pub scopes: Vec<String>,
    #[sqlx(try_from = "columns::Flag")]
    pub is_primary: bool,
    pub created_at: i64,
    pub last_used_at: Option<i64>,
}

/// A connection with its tokens opened (never serialized).
pub struct ConnectionSecrets {
    pub info: ConnectionInfo,
    pub tokens: StoredTokens,
}

/// A connection's tokens as stored: sealed, each under the connection's id.
#[derive(sqlx::FromRow)]
struct SealedTokens {
    access_token: Option<String>,
    refresh_token: String,
    expires_at: Option<i64>,
}

impl SealedTokens {
    fn open(
        self,
        keys: &Keyring,
        connection_id: &str,
        scope: String,
    ) -> Result<StoredTokens, GmailError> {
        Ok(StoredTokens {
            access_token: self
                .access_token
                .map(|a| keys.open(&format!("{connection_id}:access"), &a))
                .transpose()?,
            refresh_token: keys.open(&format!("{connection_id}:refresh"), &self.refresh_token)?,
            scope: Some(scope),
            expiry_date: self.expires_at,
        })
    }
}

impl Store {
    /// Stores a user's connection to a Gmail address (updating tokens when it exists). The
    /// first connection of a user is their primary one.
    pub async fn upsert_connection(
        &self,
        user_id: &str,
        email: &str,
        tokens: &StoredTokens,
        scopes: &[String],
    ) -> Result<ConnectionInfo, GmailError> {
        let email = email.trim().to_ascii_lowercase();
        // One statement, so two callbacks at once for one address cannot both insert (the
        // second would hit the unique key): the later one keeps the row the first made. The
        // first address a user connects is their primary.
        let fresh = new_id("conn");
        self.run(sql!(
            "INSERT INTO connections (id, user_id, email, refresh_token, scopes, status, \
             is_primary, created_at) VALUES ($1, $2, $3, $4, $5, $6, CASE WHEN EXISTS \
             (SELECT 1 FROM connections WHERE user_id = $2) THEN 0 ELSE 1 END, $7) ON \
             CONFLICT (user_id, email) DO NOTHING",
            &fresh,
            user_id,
            &email,
            self.keys.seal(
                &format!("{fresh}:refresh"),
                tokens.refresh_token.expose_secret()
            )?,
            scopes.join(" "),
            ACTIVE,
            now()
        ))
        .await?;
        let id: String = sql!(
            "SELECT id FROM connections WHERE user_id = $1 AND email = $2",
            user_id,
            &email
        )
        .fetch_one(&self.pool)
        .await?
        .try_get("id")?;
        self.store_tokens(&id, tokens).await?;
        self.run(sql!(
            "UPDATE connections SET scopes = $1, status = $2 WHERE id = $3",
            scopes.join(" "),
            ACTIVE,
            &id
        ))
        .await?;
        self.connection_info(user_id, &id)
            .await?
            .ok_or_else(|| GmailError::internal("connection vanished after upsert"))
    }

    /// A connection's access and refresh tokens, sealed for its row.
    fn sealed_tokens(
        &self,
        connection_id: &str,
        tokens: &StoredTokens,
    ) -> Result<(Option<String>, String), GmailError> {
        let access = tokens
            .access_token
            .as_ref()
            .map(|a| {
                self.keys
                    .seal(&format!("{connection_id}:access"), a.expose_secret())
            })
            .transpose()?;
        let refresh = self.keys.seal(
            &format!("{connection_id}:refresh"),
            tokens.refresh_token.expose_secret(),
        )?;
        Ok((access, refresh))
    }

    /// Writes a connection's tokens (sealed).
    pub async fn store_tokens(
        &self,
        connection_id: &str,
        tokens: &StoredTokens,
    ) -> Result<(), GmailError> {
        let (access, refresh) = self.sealed_tokens(connection_id, tokens)?;
        self.run(sql!(
            "UPDATE connections SET access_token = $1, refresh_token = $2, expires_at \
             = $3 WHERE id = $4",
            access,
            refresh,
            tokens.expiry_date,
            connection_id
        ))
        .await
    }

    /// Stores tokens refreshed from the refresh token `from`, only if the connection still
    /// holds it: a reconnect (new grant, maybe other scopes) made meanwhile is not undone by
    /// a refresh of the old grant. Whether they were stored.
    pub async fn store_refreshed_tokens(
        &self,
        connection_id: &str,
        tokens: &StoredTokens,
        from: &SecretString,
    ) -> Result<bool, GmailError> {
        let Some(sealed) = self.held_refresh_token(connection_id, from).await? else {
            return Ok(false);
        };
        let (access, refresh) = self.sealed_tokens(connection_id, tokens)?;
        self.changed_one(sql!(
            "UPDATE connections SET access_token = $1, refresh_token = $2, expires_at \
             = $3 WHERE id = $4 AND refresh_token = $5",
            access,
            refresh,
            tokens.expiry_date,
            connection_id,
            &sealed
        ))
        .await
    }

    /// The connection's sealed refresh token, if it is `token` (sealing is randomized, so
    /// the stored one is opened to compare); none if it holds another or is gone.
    async fn held_refresh_token(
        &self,
        connection_id: &str,
        token: &SecretString,
    ) -> Result<Option<String>, GmailError> {
        let row = sql!(
            "SELECT refresh_token FROM connections WHERE id = $1",
            connection_id
        )
        .fetch_optional(&self.pool)
        .await?;
        let Some(row) = row else { return Ok(None) };
        let sealed: String = row.try_get("refresh_token")?;
        let held = self
            .keys
            .open(&format!("{connection_id}:refresh"), &sealed)?;
        Ok((held.expose_secret() == token.expose_secret()).then_some(sealed))
    }

    /// The lock that makes one connection's token refresh single-flight across every
    /// instance sharing this PostgreSQL database: a transaction holding an advisory lock,
    /// released when it is dropped. None on SQLite (one machine; each process refreshes alone).
    pub async fn refresh_lock(
        &self,
        connection_id: &str,
    ) -> Result<Option<sqlx::Transaction<'static, sqlx::Any>>, GmailError> {
        let Some(locks) = &self.locks else {
            return Ok(None);
        };
        let mut tx = locks.begin().await?;
        sql!(
            "SELECT pg_advisory_xact_lock(hashtext($1))",
            format!("refresh:{connection_id}")
        )
        .execute(&mut *tx)
        .await?;
        Ok(Some(tx))
    }

    /// A connection's tokens as stored now (another instance may have refreshed them).
    pub async fn stored_tokens(&self, connection_id: &str) -> Result<StoredTokens, GmailError> {
        let row = sql!(
            "SELECT access_token, refresh_token, expires_at, scopes FROM connections \
             WHERE id = $1",
            connection_id
        )
        .fetch_one(&self.pool)
        .await?;
        let scopes: String = row.try_get("scopes")?;
        SealedTokens::from_row(&row)?.open(&self.keys, connection_id, scopes)
    }

    /// Marks the connection as needing re-consent after Google refused `refused` (its
    /// refresh token), unless the connection holds another one by now: a reconnect (from
    /// another process, say) while a refresh with the old token was under way must stay
    /// working.
    pub async fn mark_needs_reauth(
        &self,
        connection_id: &str,
        refused: &SecretString,
    ) -> Result<(), GmailError> {
        let Some(sealed) = self.held_refresh_token(connection_id, refused).await? else {
            return Ok(());
        };
        self.run(sql!(
            "UPDATE connections SET status = $1, access_token = NULL WHERE id = $2 AND \
             refresh_token = $3",
            NEEDS_REAUTH,
            connection_id,
            &sealed
        ))
        .await
    }

    pub async fn touch_connection(&self, connection_id: &str) -> Result<(), GmailError> {
        self.run(sql!(
            "UPDATE connections SET last_used_at = $1 WHERE id = $2",
            now(),
            connection_id
        ))
        .await
    }

    pub async fn list_connections(&self, user_id: &str) -> Result<Vec<ConnectionInfo>, GmailError> {
        Ok(sql!(
            as ConnectionInfo,
            "SELECT id, email, status, scopes, is_primary, created_at, last_used_at \
             FROM connections WHERE user_id = $1 ORDER BY is_primary DESC, created_at",
            user_id
        )
        .fetch_all(&self.pool)
        .await?)
    }

    async fn connection_info(
        &self,
        user_id: &str,
        id: &str,
    ) -> Result<Option<ConnectionInfo>, GmailError> {
        Ok(self
            .list_connections(user_id)
            .await?
            .into_iter()
            .find(|c| c.id == id))
    }

    /// The user's connection named by id or address (the primary one when `account` is
    /// `None`), with its tokens opened. Another user's connection is simply not found.
    pub async fn connection_for(
        &self,
        user_id: &str,
        account: Option<&str>,
    ) -> Result<ConnectionSecrets, GmailError> {
        let conns = self.list_connections(user_id).await?;
        let info = match account.map(str::trim).filter(|a| !a.is_empty()) {
            Some(a) => conns
                .into_iter()
                .find(|c| c.id == a || c.email.eq_ignore_ascii_case(a))
                .ok_or_else(|| GmailError::not_found(format!("connected account {a}")))?,
            None => conns
                .into_iter()
                .next()
                .ok_or_else(|| GmailError::NotFound {
                    what: "a connected Gmail account (connect one with gmail_get_auth_url)".into(),
                })?,
        };
        let tokens = sql!(
            as SealedTokens,
            "SELECT access_token, refresh_token, expires_at FROM connections WHERE id \
             = $1 AND user_id = $2",
            &info.id,
            user_id
        )
        .fetch_one(&self.pool)
        .await?
        .open(&self.keys, &info.id, info.scopes.join(" "))?;
        Ok(ConnectionSecrets { info, tokens })
    }

    pub async fn delete_connection(&self, user_id: &str, id: &str) -> Result<bool, GmailError> {
        let deleted = self
            .changed_one(sql!(
                "DELETE FROM connections WHERE id = $1 AND user_id = $2",
                id,
                user_id
            ))
            .await?;
        if deleted {
            // Keep a primary when others remain.
            let rest = self.list_connections(user_id).await?;
            if !rest.is_empty() && !rest.iter().any(|c| c.is_primary) {
                self.run(sql!(
                    "UPDATE connections SET is_primary = 1 WHERE id = $1",
                    &rest[0].id
                ))
                .await?;
            }
        }
        Ok(deleted)
    }
}
