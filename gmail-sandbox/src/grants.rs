//! The OAuth grants the sandbox has issued: clients, authorization codes, refresh and
//! access tokens (kept in memory, written through to SQLite). The HTTP endpoints that hand
//! them out are in [`crate::oauth`].

use std::collections::HashMap;

use base64::Engine;
use parking_lot::{Mutex, RwLock};
use rand::Rng;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::store::db::{self, DbTx, Table};

pub const SANDBOX_CLIENT_ID: &str = "sandbox-client-id.apps.googleusercontent.com";
pub const SANDBOX_CLIENT_SECRET: &str = "sandbox-client-secret";

pub const SCOPE_FULL: &str = "https://mail.google.com/";
pub const SCOPE_EMAIL: &str = "https://www.googleapis.com/auth/userinfo.email";
pub const SCOPE_PROFILE: &str = "https://www.googleapis.com/auth/userinfo.profile";

/// Code lifetime (Google's are about 10 minutes).
pub const CODE_TTL_SECS: i64 = 600;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct OAuthClient {
    pub client_id: String,
    pub client_secret: String,
    pub name: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AuthCode {
    pub client_id: String,
    pub redirect_uri: String,
    pub email: String,
    pub scopes: Vec<String>,
    pub challenge: Option<String>,
    pub challenge_method: String,
    pub expires_at: i64,
    #[serde(default)]
    pub redeemed: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RefreshGrant {
    pub client_id: String,
    pub email: String,
    pub scopes: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AccessGrant {
    pub client_id: String,
    pub email: String,
    pub scopes: Vec<String>,
    /// Unix seconds.
    pub expires_at: i64,
    pub refresh_token: Option<String>,
}

pub struct OAuthState {
    clients: RwLock<HashMap<String, OAuthClient>>,
    codes: Mutex<HashMap<String, AuthCode>>,
    refresh: RwLock<HashMap<String, RefreshGrant>>,
    access: RwLock<HashMap<String, AccessGrant>>,
    pub ttl_secs: u64,
    db: DbTx,
}

pub fn now_secs() -> i64 {
    chrono::Utc::now().timestamp()
}

/// A random string of `len` base64url characters (tokens, codes, upload ids).
pub fn random_token(len: usize) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut rng = rand::rng();
    (0..len)
        .map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())] as char)
        .collect()
}

/// Google's short scope aliases, expanded as its token endpoint reports them.
pub fn canonical_scope(s: &str) -> String {
    match s {
        "email" => SCOPE_EMAIL.to_string(),
        "profile" => SCOPE_PROFILE.to_string(),
        other => other.to_string(),
    }
}

pub fn parse_scopes(s: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for sc in s.split([' ', ',', '+']).filter(|x| !x.is_empty()) {
        let c = canonical_scope(sc);
        if !out.contains(&c) {
            out.push(c);
        }
    }
    out
}

/// The well-known refresh token of a seeded mailbox.
pub fn well_known_refresh_token(email: &str) -> String {
    format!("1//sandbox-refresh-{}", email.to_ascii_lowercase())
}

/// Stable numeric account id ("sub") for an address.
pub fn subject_id(email: &str) -> String {
    let d = Sha256::digest(email.to_ascii_lowercase().as_bytes());
    let mut n: u128 = 0;
    for b in &d[..12] {
        n = (n << 8) | *b as u128;
    }
    format!("1{:020}", n % 100_000_000_000_000_000_000)
}

impl OAuthState {
    pub fn new(ttl_secs: u64, db: DbTx) -> OAuthState {
        OAuthState {
            clients: RwLock::new(HashMap::new()),
            codes: Mutex::new(HashMap::new()),
            refresh: RwLock::new(HashMap::new()),
            access: RwLock::new(HashMap::new()),
            ttl_secs,
            db,
        }
    }

    pub async fn load(&self, pool: &sqlx::SqlitePool) -> anyhow::Result<()> {
        for (id, d) in db::load_kv(pool, Table::OauthClients, "").await? {
            if let Ok(c) = serde_json::from_str(&d) {
                self.clients.write().insert(id, c);
            }
        }
        for (id, d) in db::load_kv(pool, Table::OauthRefreshTokens, "").await? {
            if let Ok(c) = serde_json::from_str(&d) {
                self.refresh.write().insert(id, c);
            }
        }
        let now = now_secs();
        for (id, d) in db::load_kv(pool, Table::OauthAccessTokens, "").await? {
            if let Ok(c) = serde_json::from_str::<AccessGrant>(&d) {
                if c.expires_at > now {
                    self.access.write().insert(id, c);
                } else {
                    self.db.delete(Table::OauthAccessTokens, "", &id);
                }
            }
        }
        Ok(())
    }

    pub fn ensure_sandbox_client(&self) {
        if self.clients.read().contains_key(SANDBOX_CLIENT_ID) {
            return;
        }
        let c = OAuthClient {
            client_id: SANDBOX_CLIENT_ID.into(),
            client_secret: SANDBOX_CLIENT_SECRET.into(),
            name: "Gmail Sandbox".into(),
        };
        self.db.put(Table::OauthClients, "", SANDBOX_CLIENT_ID, &c);
        self.clients.write().insert(c.client_id.clone(), c);
    }

    pub fn client(&self, id: &str) -> Option<OAuthClient> {
        self.clients.read().get(id).cloned()
    }

    /// Register the well-known refresh token of a mailbox (idempotent).
    pub fn ensure_well_known_refresh(&self, email: &str) -> String {
        let rt = well_known_refresh_token(email);
        if !self.refresh.read().contains_key(&rt) {
            self.put_refresh(
                &rt,
                RefreshGrant {
                    client_id: SANDBOX_CLIENT_ID.into(),
                    email: email.to_ascii_lowercase(),
                    // What the product asks real users for: full mail plus the settings
                    // scopes filters, vacation and send-as need.
                    scopes: vec![
                        SCOPE_FULL.into(),
                        "https://www.googleapis.com/auth/gmail.settings.basic".into(),
                        "https://www.googleapis.com/auth/gmail.settings.sharing".into(),
                        SCOPE_EMAIL.into(),
                    ],
                },
            );
        }
        rt
    }

    fn put_refresh(&self, rt: &str, g: RefreshGrant) {
        self.db.put(Table::OauthRefreshTokens, "", rt, &g);
        self.refresh.write().insert(rt.to_string(), g);
    }

    pub fn issue_access(
        &self,
        email: &str,
        scopes: Vec<String>,
        client_id: &str,
        refresh_token: Option<String>,
    ) -> (String, u64) {
        let token = format!("ya29.sandbox-{}", random_token(48));
        let g = AccessGrant {
            client_id: client_id.to_string(),
            email: email.to_ascii_lowercase(),
            scopes,
            expires_at: now_secs() + self.ttl_secs as i64,
            refresh_token,
        };
        self.db.put(Table::OauthAccessTokens, "", &token, &g);
        self.access.write().insert(token.clone(), g);
        (token, self.ttl_secs)
    }

    /// A live access grant for a bearer token, or None (unknown, expired, revoked).
    pub fn validate(&self, token: &str) -> Option<AccessGrant> {
        let g = self.access.read().get(token).cloned()?;
        if g.expires_at <= now_secs() {
            return None;
        }
        Some(g)
    }

    /// Force a token to be expired (tests of the 401 path).
    pub fn expire(&self, token: &str) {
        if let Some(g) = self.access.write().get_mut(token) {
            g.expires_at = now_secs() - 1;
        }
    }

    /// Revoke an access or refresh token; revoking either kills the whole grant.
    pub fn revoke(&self, token: &str) -> bool {
        let rt = if self.refresh.read().contains_key(token) {
            Some(token.to_string())
        } else {
            match self.access.write().remove(token) {
                Some(g) => {
                    self.db.delete(Table::OauthAccessTokens, "", token);
                    match g.refresh_token {
                        Some(rt) => Some(rt),
                        None => return true,
                    }
                }
                None => return false,
            }
        };
        if let Some(rt) = rt {
            self.refresh.write().remove(&rt);
            self.db.delete(Table::OauthRefreshTokens, "", &rt);
            let mut access = self.access.write();
            let dead: Vec<String> = access
                .iter()
                .filter(|(_, g)| g.refresh_token.as_deref() == Some(rt.as_str()))
                .map(|(k, _)| k.clone())
                .collect();
            for k in dead {
                access.remove(&k);
                self.db.delete(Table::OauthAccessTokens, "", &k);
            }
        }
        true
    }

    pub fn new_code(&self, code: AuthCode) -> String {
        let c = format!("4/0Asandbox-{}", random_token(40));
        self.db.put(Table::OauthCodes, "", &c, &code);
        self.codes.lock().insert(c.clone(), code);
        c
    }

    /// Exchange an authorization code (single use), checking client, redirect URI and the
    /// PKCE verifier; a refusal is Google's `(error, error_description)`.
    pub fn redeem_code(
        &self,
        code: &str,
        client_id: &str,
        redirect_uri: Option<&str>,
        verifier: Option<&str>,
    ) -> Result<AuthCode, (&'static str, &'static str)> {
        let mut codes = self.codes.lock();
        let Some(c) = codes.get_mut(code) else {
            return Err(("invalid_grant", "Malformed auth code."));
        };
        if c.redeemed || c.expires_at <= now_secs() || c.client_id != client_id {
            return Err(("invalid_grant", "Bad Request"));
        }
        if let Some(ru) = redirect_uri {
            if ru != c.redirect_uri {
                return Err(("redirect_uri_mismatch", "Bad Request"));
            }
        }
        if let Some(ch) = &c.challenge {
            let Some(verifier) = verifier else {
                return Err(("invalid_grant", "Missing code verifier."));
            };
            let computed = if c.challenge_method.eq_ignore_ascii_case("S256") {
                base64::engine::general_purpose::URL_SAFE_NO_PAD
                    .encode(Sha256::digest(verifier.as_bytes()))
            } else {
                verifier.to_string()
            };
            if &computed != ch {
                return Err(("invalid_grant", "Invalid code verifier."));
            }
        }
        c.redeemed = true;
        self.db.delete(Table::OauthCodes, "", code);
        Ok(c.clone())
    }

    /// A new refresh token for a grant.
    pub fn issue_refresh(&self, grant: RefreshGrant) -> String {
        let rt = format!("1//sandbox-{}", random_token(60));
        self.put_refresh(&rt, grant);
        rt
    }

    pub fn refresh_grant(&self, rt: &str) -> Option<RefreshGrant> {
        self.refresh.read().get(rt).cloned()
    }
}
