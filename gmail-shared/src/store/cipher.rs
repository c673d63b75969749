//! AES-256-GCM for tokens at rest. Each ciphertext names the key that sealed it, so keys can
//! rotate: new writes use the current key, old keys still open what they sealed, and
//! `rotate` re-seals everything under the current key.

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::Engine;
use rand::RngCore;
use secrecy::{ExposeSecret, SecretString};
use sha2::{Digest, Sha256};

use crate::error::GmailError;

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// How to make a key, for error messages.
pub const KEY_HINT: &str =
    "set GMAIL_ENCRYPTION_KEY to 32 random bytes in base64, e.g. `openssl rand -base64 32` or `gmail-api-server admin generate-key`";

struct Key {
    id: String,
    cipher: Aes256Gcm,
}

/// The current key and any older ones still needed to read existing rows.
pub struct Keyring {
    current: Key,
    old: Vec<Key>,
}

impl std::fmt::Debug for Keyring {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Keyring")
            .field("current", &self.current.id)
            .field("old", &self.old.iter().map(|k| &k.id).collect::<Vec<_>>())
            .finish()
    }
}

fn parse_key(field: &str, b64: &str) -> Result<Key, GmailError> {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(b64.trim())
        .or_else(|_| base64::engine::general_purpose::URL_SAFE.decode(b64.trim()))
        .map_err(|_| GmailError::invalid(field, format!("is not base64; {KEY_HINT}")))?;
    if bytes.len() != 32 {
        return Err(GmailError::invalid(
            field,
            format!("decodes to {} bytes, not 32; {KEY_HINT}", bytes.len()),
        ));
    }
    let cipher = Aes256Gcm::new_from_slice(&bytes)
        .map_err(|_| GmailError::invalid(field, KEY_HINT.to_string()))?;
    // The id is a short digest: stable for a key, reveals nothing about it.
    let id = hex(&Sha256::digest(&bytes)[..4]);
    Ok(Key { id, cipher })
}

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A fresh random key in base64, for `admin generate-key`.
pub fn generate_key() -> String {
    let mut k = [0u8; 32];
    rand::rng().fill_bytes(&mut k);
    base64::engine::general_purpose::STANDARD.encode(k)
}

impl Keyring {
    /// The keys multi-user mode's settings name; a missing or unusable one is an error that
    /// says how to make one.
    pub fn of(mu: &crate::config::MultiUserSettings) -> Result<Keyring, GmailError> {
        let key = mu.encryption_key.as_ref().ok_or_else(|| {
            GmailError::invalid(
                "GMAIL_ENCRYPTION_KEY",
                format!("multi-user mode needs an encryption key: {KEY_HINT}"),
            )
        })?;
        Keyring::new(key, mu.old_encryption_keys.as_ref())
    }

    /// `current` seals; `old` (comma-separated) only open.
    pub fn new(current: &SecretString, old: Option<&SecretString>) -> Result<Keyring, GmailError> {
        let current = parse_key("GMAIL_ENCRYPTION_KEY", current.expose_secret())?;
        let old = old
            .map(|o| {
                o.expose_secret()
                    .split(',')
                    .filter(|s| !s.trim().is_empty())
                    .map(|s| parse_key("GMAIL_ENCRYPTION_OLD_KEYS", s))
                    .collect::<Result<Vec<_>, _>>()
            })
            .transpose()?
            .unwrap_or_default();
        Ok(Keyring { current, old })
    }

    pub fn current_id(&self) -> &str {
        &self.current.id
    }

    /// Seals `plain`, bound to `context` (e.g. the row and field) so a ciphertext cannot be
    /// moved to another row.
    pub fn seal(&self, context: &str, plain: &str) -> Result<String, GmailError> {
        let mut n = [0u8; 12];
        rand::rng().fill_bytes(&mut n);
        let nonce = Nonce::from(n);
        let sealed = self
            .current
            .cipher
            .encrypt(
                &nonce,
                Payload {
                    msg: plain.as_bytes(),
                    aad: context.as_bytes(),
                },
            )
            .map_err(|_| GmailError::internal("encryption failed"))?;
        let mut blob = n.to_vec();
        blob.extend_from_slice(&sealed);
        Ok(format!("v1.{}.{}", self.current.id, B64.encode(blob)))
    }

    /// Opens a value sealed by any key of the ring.
    pub fn open(&self, context: &str, sealed: &str) -> Result<SecretString, GmailError> {
        let mut parts = sealed.splitn(3, '.');
        let (Some("v1"), Some(key_id), Some(body)) = (parts.next(), parts.next(), parts.next())
        else {
            return Err(GmailError::internal(
                "a stored token is not in the v1 format",
            ));
        };
        let key = std::iter::once(&self.current)
            .chain(self.old.iter())
            .find(|k| k.id == key_id)
            .ok_or_else(|| {
                GmailError::internal(format!(
                    "a stored token was sealed with key {key_id}, which is not configured (add it to GMAIL_ENCRYPTION_OLD_KEYS)"
                ))
            })?;
        let blob = B64
            .decode(body)
            .map_err(|_| GmailError::internal("a stored token is corrupt"))?;
        if blob.len() < 12 + 16 {
            return Err(GmailError::internal("a stored token is corrupt"));
        }
        let (n, ct) = blob.split_at(12);
        let mut nonce_bytes = [0u8; 12];
        nonce_bytes.copy_from_slice(n);
        let plain = key
            .cipher
            .decrypt(
                &Nonce::from(nonce_bytes),
                Payload {
                    msg: ct,
                    aad: context.as_bytes(),
                },
            )
            .map_err(|_| {
                GmailError::internal(
                    "a stored token failed authentication (wrong key or tampered row)",
                )
            })?;
        String::from_utf8(plain)
            .map(SecretString::from)
            .map_err(|_| GmailError::internal("a stored token is corrupt"))
    }

    /// Whether `sealed` uses an old key and should be re-sealed.
    pub fn needs_rotation(&self, sealed: &str) -> bool {
        sealed.split('.').nth(1) != Some(self.current.id.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ring(k: &str, old: Option<&str>) -> Keyring {
        Keyring::new(
            &SecretString::from(k.to_string()),
            old.map(|o| SecretString::from(o.to_string())).as_ref(),
        )
        .unwrap()
    }

    #[test]
    fn seals_opens_and_binds_the_context() {
        let k = generate_key();
        let r = ring(&k, None);
        let sealed = r.seal("conn:1:refresh", "1//secret-refresh").unwrap();
        assert!(!sealed.contains("secret"));
        assert_eq!(
            r.open("conn:1:refresh", &sealed).unwrap().expose_secret(),
            "1//secret-refresh"
        );
        assert!(
            r.open("conn:2:refresh", &sealed).is_err(),
            "moved to another row"
        );
        // Two seals of the same value differ (random nonce).
        assert_ne!(
            sealed,
            r.seal("conn:1:refresh", "1//secret-refresh").unwrap()
        );
    }

    #[test]
    fn old_keys_open_and_rotation_is_detected() {
        let (k1, k2) = (generate_key(), generate_key());
        let old = ring(&k1, None);
        let sealed = old.seal("c", "tok").unwrap();
        let new = ring(&k2, Some(&k1));
        assert!(new.needs_rotation(&sealed));
        assert_eq!(new.open("c", &sealed).unwrap().expose_secret(), "tok");
        let resealed = new.seal("c", "tok").unwrap();
        assert!(!new.needs_rotation(&resealed));
        let only_new = ring(&k2, None);
        let err = only_new.open("c", &sealed).unwrap_err().to_string();
        assert!(err.contains("GMAIL_ENCRYPTION_OLD_KEYS"), "{err}");
    }

    #[test]
    fn bad_keys_say_how_to_make_one() {
        for bad in ["not base64 !!", "c2hvcnQ="] {
            let err = Keyring::new(&SecretString::from(bad.to_string()), None).unwrap_err();
            assert!(err.to_string().contains("openssl rand -base64 32"), "{err}");
        }
        let debug = format!("{:?}", ring(&generate_key(), None));
        assert!(debug.contains("current"));
    }
}
