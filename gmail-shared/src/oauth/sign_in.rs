//! "Sign in with Google" (multi-user mode): the same web flow as connecting an account (state
//! and PKCE), with `openid email` added. The first sign-in creates the user, keyed by the
//! Google account's stable `sub`, and their first Gmail connection, in one step; later ones
//! find the same user. `multi_user.allowed_domains` limits who may sign up, checked before
//! anything is stored. The flow's state and verifier travel in the browser's own (encrypted)
//! session, so only the browser that started a sign-in can finish it.

use base64::Engine;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

use super::accounts::Accounts;
use super::{authorization_url, exchange_code, new_verifier, DEFAULT_SCOPES};
use crate::error::GmailError;
use crate::store::{ConnectionInfo, User};

/// A sign-in begun: what the browser's session keeps, and where to send it.
pub struct SignInStart {
    pub state: String,
    pub verifier: SecretString,
    pub consent_url: String,
}

/// The claims of an ID token this server asked for.
#[derive(Debug, Deserialize)]
pub struct IdClaims {
    pub sub: String,
    pub email: Option<String>,
    #[serde(default)]
    pub email_verified: bool,
    aud: String,
    iss: String,
    exp: i64,
}

/// The claims of an ID token received straight from the token endpoint over TLS, which
/// OpenID Connect accepts in place of checking its signature (Core 3.1.3.7, step 6); the
/// audience, issuer and expiry are still checked.
pub fn id_claims(id_token: &str, client_id: &str) -> Result<IdClaims, GmailError> {
    let invalid = |why: &str| GmailError::invalid("id_token", why.to_string());
    let payload = id_token
        .split('.')
        .nth(1)
        .ok_or_else(|| invalid("is not a JWT"))?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload.trim_end_matches('='))
        .map_err(|_| invalid("is not base64url"))?;
    let claims: IdClaims =
        serde_json::from_slice(&bytes).map_err(|_| invalid("does not carry sub, aud, iss, exp"))?;
    if claims.aud != client_id {
        return Err(invalid("was issued to another client"));
    }
    if !matches!(
        claims.iss.as_str(),
        "https://accounts.google.com" | "accounts.google.com"
    ) {
        return Err(invalid("was not issued by Google"));
    }
    if claims.exp <= chrono::Utc::now().timestamp() {
        return Err(invalid("has expired"));
    }
    Ok(claims)
}

impl Accounts {
    /// Begins a sign-in: Google's consent URL with `openid email` and the Gmail scopes.
    pub fn sign_in_start(&self, login_hint: Option<&str>) -> Result<SignInStart, GmailError> {
        let verifier = new_verifier();
        let mut state = [0u8; 24];
        rand::RngCore::fill_bytes(&mut rand::rng(), &mut state);
        let state = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(state);
        let scopes: Vec<String> = ["openid", "email"]
            .iter()
            .chain(DEFAULT_SCOPES)
            .map(|s| s.to_string())
            .collect();
        let consent_url = authorization_url(
            &self.client,
            &self.redirect_uri,
            &scopes,
            &state,
            &verifier,
            login_hint,
        )?;
        Ok(SignInStart {
            state,
            verifier,
            consent_url,
        })
    }

    /// Finishes a sign-in: exchanges the code, reads who signed in, refuses anyone outside
    /// `allowed_domains` (before anything is stored), then finds or creates the user and
    /// stores the Gmail connection.
    pub async fn sign_in_complete(
        &self,
        code: &str,
        verifier: &SecretString,
    ) -> Result<(User, ConnectionInfo), GmailError> {
        let result = self.sign_in_finish(code, verifier).await;
        let outcome = match &result {
            Ok(_) => "ok",
            Err(GmailError::Forbidden { .. }) => "denied",
            Err(_) => "failed",
        };
        crate::metrics::oauth_flow("sign_in", outcome);
        result
    }

    async fn sign_in_finish(
        &self,
        code: &str,
        verifier: &SecretString,
    ) -> Result<(User, ConnectionInfo), GmailError> {
        let grant = exchange_code(
            self.factory.http(),
            &self.client,
            code,
            verifier,
            &self.redirect_uri,
        )
        .await?;
        let id_token = grant.id_token.as_ref().ok_or_else(|| {
            GmailError::invalid("id_token", "Google returned no ID token; sign in again")
        })?;
        let claims = id_claims(id_token.expose_secret(), &self.client.client_id)?;
        let email = claims
            .email
            .as_deref()
            .filter(|_| claims.email_verified)
            .ok_or_else(|| GmailError::Forbidden {
                message: "this Google account has no verified email address".into(),
            })?
            .to_lowercase();
        let domain = email.rsplit_once('@').map(|(_, d)| d).unwrap_or("");
        if !self.allowed_domains.is_empty() && !self.allowed_domains.iter().any(|d| d == domain) {
            return Err(GmailError::Forbidden {
                message: format!(
                    "{email} may not sign up here: this server takes only {}",
                    self.allowed_domains.join(", ")
                ),
            });
        }
        let user = self
            .store
            .ensure_user(&format!("google:{}", claims.sub), Some(&email))
            .await?;
        let asked: Vec<String> = DEFAULT_SCOPES.iter().map(|s| s.to_string()).collect();
        let info = self.connect_grant(&user.id, &grant, &asked).await?;
        Ok((user, info))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn token(claims: serde_json::Value) -> String {
        let e = |v: &serde_json::Value| {
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string())
        };
        format!(
            "{}.{}.sig",
            e(&serde_json::json!({"alg": "RS256"})),
            e(&claims)
        )
    }

    #[test]
    fn id_tokens_are_checked_for_audience_issuer_and_expiry() {
        let exp = chrono::Utc::now().timestamp() + 60;
        let good = serde_json::json!({"sub": "1", "email": "a@x.example", "email_verified": true,
            "aud": "cid", "iss": "https://accounts.google.com", "exp": exp});
        let c = id_claims(&token(good.clone()), "cid").unwrap();
        assert_eq!((c.sub.as_str(), c.email_verified), ("1", true));
        assert!(id_claims(&token(good.clone()), "other").is_err());
        let mut bad = good.clone();
        bad["iss"] = "https://evil.example".into();
        assert!(id_claims(&token(bad), "cid").is_err());
        let mut old = good;
        old["exp"] = (exp - 120).into();
        assert!(id_claims(&token(old), "cid").is_err());
        assert!(id_claims("not-a-jwt", "cid").is_err());
    }
}
