//! Single-user credential files, in the layout the most used Node Gmail MCP server keeps them
//! (`~/.gmail-mcp/gcp-oauth.keys.json` and `~/.gmail-mcp/credentials.json`), so its users can
//! switch without authorizing again.

use std::path::{Path, PathBuf};

use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use yup_oauth2::ConsoleApplicationSecret;

use crate::error::GmailError;

pub const GOOGLE_TOKEN_URI: &str = "https://oauth2.googleapis.com/token";
pub const GOOGLE_AUTH_URI: &str = "https://accounts.google.com/o/oauth2/v2/auth";

/// An OAuth client (the app), with its secret wrapped so it never reaches a log.
#[derive(Debug, Clone)]
pub struct OAuthClient {
    pub client_id: String,
    pub client_secret: SecretString,
    pub auth_uri: String,
    pub token_uri: String,
    pub redirect_uris: Vec<String>,
}

impl OAuthClient {
    /// Reads a Google client file with an `installed` or a `web` client.
    pub fn from_file(path: &Path) -> Result<OAuthClient, GmailError> {
        let text = std::fs::read_to_string(path).map_err(|e| {
            GmailError::internal_from(format!("cannot read OAuth keys {}", path.display()), e)
        })?;
        let console: ConsoleApplicationSecret = serde_json::from_str(&text).map_err(|e| {
            GmailError::internal_from(
                format!("OAuth keys {} are not a Google client file", path.display()),
                e,
            )
        })?;
        let secret = console.installed.or(console.web).ok_or_else(|| {
            GmailError::internal(format!(
                "OAuth keys {} have neither an `installed` nor a `web` client",
                path.display()
            ))
        })?;
        Ok(OAuthClient {
            client_id: secret.client_id,
            client_secret: SecretString::from(secret.client_secret),
            auth_uri: secret.auth_uri,
            token_uri: secret.token_uri,
            redirect_uris: secret.redirect_uris,
        })
    }
}

/// The tokens of one authorized account.
#[derive(Debug, Clone)]
pub struct StoredTokens {
    pub access_token: Option<SecretString>,
    pub refresh_token: SecretString,
    pub scope: Option<String>,
    /// Milliseconds since the epoch.
    pub expiry_date: Option<i64>,
}

impl StoredTokens {
    /// The `expiry_date` of a token that a token endpoint says lasts `expires_in` seconds,
    /// read as at most a year: the number is the endpoint's, and an absurd one must not
    /// overflow.
    pub fn expiry_after(expires_in: Option<i64>) -> Option<i64> {
        const YEAR_SECS: i64 = 365 * 86_400;
        expires_in.map(|s| chrono::Utc::now().timestamp_millis() + s.clamp(0, YEAR_SECS) * 1000)
    }
}

/// The on-disk shape: google-auth-library's `tokens` object.
#[derive(Serialize, Deserialize)]
struct TokensFile {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    access_token: Option<String>,
    refresh_token: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    scope: Option<String>,
    #[serde(default = "bearer")]
    token_type: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    expiry_date: Option<i64>,
    /// Anything else the Node library wrote (id_token, ...), kept on write-back.
    #[serde(flatten)]
    other: serde_json::Map<String, serde_json::Value>,
}

fn bearer() -> String {
    "Bearer".into()
}

/// `credentials.json`: read at start, written back after every refresh.
#[derive(Debug, Clone)]
pub struct CredentialsFile {
    pub path: PathBuf,
}

impl CredentialsFile {
    pub fn new(path: impl Into<PathBuf>) -> Self {
        CredentialsFile { path: path.into() }
    }

    pub fn read(&self) -> Result<StoredTokens, GmailError> {
        let text = std::fs::read_to_string(&self.path).map_err(|e| match e.kind() {
            // A Google OAuth client is configured, but nobody authorized a mailbox yet.
            std::io::ErrorKind::NotFound => GmailError::AuthExpired {
                message: format!(
                    "no credentials at {}: run `gmail-mcp-server auth` to authorize Gmail",
                    self.path.display()
                ),
            },
            _ => GmailError::internal_from(
                format!("cannot read credentials {}", self.path.display()),
                e,
            ),
        })?;
        let file: TokensFile = serde_json::from_str(&text).map_err(|e| {
            GmailError::internal_from(
                format!("credentials {} are not a token file", self.path.display()),
                e,
            )
        })?;
        let refresh_token = file.refresh_token.ok_or_else(|| GmailError::AuthExpired {
            message: format!(
                "{} holds no refresh_token; run `gmail-mcp-server auth` again",
                self.path.display()
            ),
        })?;
        Ok(StoredTokens {
            access_token: file.access_token.map(SecretString::from),
            refresh_token: SecretString::from(refresh_token),
            scope: file.scope,
            expiry_date: file.expiry_date,
        })
    }

    /// Writes the tokens atomically with owner-only permissions, keeping unknown fields.
    pub fn write(&self, tokens: &StoredTokens) -> Result<(), GmailError> {
        let other = std::fs::read_to_string(&self.path)
            .ok()
            .and_then(|t| serde_json::from_str::<TokensFile>(&t).ok())
            .map(|f| f.other)
            .unwrap_or_default();
        let file = TokensFile {
            access_token: tokens
                .access_token
                .as_ref()
                .map(|t| t.expose_secret().to_owned()),
            refresh_token: Some(tokens.refresh_token.expose_secret().to_owned()),
            scope: tokens.scope.clone(),
            token_type: bearer(),
            expiry_date: tokens.expiry_date,
            other,
        };
        let json = serde_json::to_vec_pretty(&file)
            .map_err(|e| GmailError::internal_from("cannot encode credentials", e))?;
        write_private(&self.path, &json).map_err(|e| {
            GmailError::internal_from(
                format!("cannot write credentials {}", self.path.display()),
                e,
            )
        })
    }
}

/// Write to a sibling temporary file with mode 0600, then rename over the target.
fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let tmp = path.with_extension(format!("tmp.{}", std::process::id()));
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut f = options.open(&tmp)?;
    f.write_all(bytes)?;
    f.sync_all()?;
    std::fs::rename(&tmp, path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_absurd_expires_in_is_read_as_a_year() {
        let now = chrono::Utc::now().timestamp_millis();
        let year = StoredTokens::expiry_after(Some(i64::MAX)).unwrap() - now;
        assert!(
            (365 * 86_400_000..=365 * 86_400_000 + 60_000).contains(&year),
            "{year}"
        );
        let hour = StoredTokens::expiry_after(Some(3599)).unwrap() - now;
        assert!((3_599_000..3_660_000).contains(&hour), "{hour}");
        assert!(StoredTokens::expiry_after(Some(-5)).unwrap() <= now + 60_000);
        assert_eq!(StoredTokens::expiry_after(None), None);
    }

    #[test]
    fn reads_installed_and_web_clients() {
        let dir = tempfile::tempdir().unwrap();
        for kind in ["installed", "web"] {
            let p = dir.path().join(format!("{kind}.json"));
            std::fs::write(
                &p,
                format!(
                    r#"{{"{kind}":{{"client_id":"id-{kind}","client_secret":"s3cret","project_id":"p",
                    "auth_uri":"https://accounts.google.com/o/oauth2/auth","token_uri":"https://oauth2.googleapis.com/token",
                    "redirect_uris":["http://localhost"]}}}}"#
                ),
            )
            .unwrap();
            let c = OAuthClient::from_file(&p).unwrap();
            assert_eq!(c.client_id, format!("id-{kind}"));
            assert_eq!(c.token_uri, GOOGLE_TOKEN_URI);
            assert!(!format!("{c:?}").contains("s3cret"));
        }
    }

    #[test]
    fn a_keys_file_without_client_is_explained() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("k.json");
        std::fs::write(&p, "{}").unwrap();
        let msg = OAuthClient::from_file(&p).unwrap_err().to_string();
        assert!(msg.contains("neither an `installed` nor a `web`"), "{msg}");
    }

    #[test]
    fn write_back_keeps_unknown_fields_and_is_private() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("credentials.json");
        std::fs::write(
            &p,
            r#"{"access_token":"old","refresh_token":"r1","scope":"s","token_type":"Bearer","expiry_date":1,"id_token":"keep"}"#,
        )
        .unwrap();
        let file = CredentialsFile::new(&p);
        let mut t = file.read().unwrap();
        assert_eq!(t.refresh_token.expose_secret(), "r1");
        t.access_token = Some(SecretString::from("new"));
        t.expiry_date = Some(2);
        file.write(&t).unwrap();
        let v: serde_json::Value = serde_json::from_slice(&std::fs::read(&p).unwrap()).unwrap();
        assert_eq!(v["access_token"], "new");
        assert_eq!(v["expiry_date"], 2);
        assert_eq!(v["id_token"], "keep");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&p).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }

    #[test]
    fn a_file_without_refresh_token_needs_reauthorization() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("credentials.json");
        std::fs::write(&p, r#"{"access_token":"a"}"#).unwrap();
        let err = CredentialsFile::new(&p).read().unwrap_err();
        assert_eq!(err.kind(), "auth-expired");
    }
}
