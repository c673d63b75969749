//! Where a browser may be sent after connecting an account (`returnTo`): a path on the
//! server's own origin, or a URL on an origin the operator allowed. Anything else would make
//! the callback an open redirect.

use crate::error::GmailError;

fn refuse(given: &str, why: &str) -> GmailError {
    GmailError::invalid(
        "returnTo",
        format!("{given:?} is not allowed: {why}; give a path such as /connected, or a URL on an origin in multi_user.allowed_return_origins"),
    )
}

/// `scheme://host[:port]` of a URL, lower-cased, default ports left out.
fn origin_of(url: &url::Url) -> String {
    url.origin().ascii_serialization()
}

/// Checks `given` and answers it as it will be used. `own` is the callback URL (its origin is
/// the server's own); `allowed` lists further origins.
pub fn check(given: &str, own: &str, allowed: &[String]) -> Result<String, GmailError> {
    let given = given.trim();
    if given.is_empty() || given.len() > 2048 {
        return Err(refuse(given, "it must be 1 to 2048 characters"));
    }
    if given.chars().any(|c| c.is_control() || c == '\\') {
        return Err(refuse(
            given,
            "it contains control characters or backslashes",
        ));
    }
    if given.starts_with('/') {
        // `//host` is a URL on another host, not a path.
        if given.starts_with("//") {
            return Err(refuse(given, "it names another host"));
        }
        return Ok(given.to_string());
    }
    let url =
        url::Url::parse(given).map_err(|_| refuse(given, "it is neither a path nor a URL"))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(refuse(given, "only http and https URLs are allowed"));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(refuse(given, "URLs with user information are refused"));
    }
    let origin = origin_of(&url);
    let own = url::Url::parse(own).map(|u| origin_of(&u)).ok();
    let listed = allowed.iter().any(|a| {
        url::Url::parse(a.trim())
            .map(|u| origin_of(&u) == origin)
            .unwrap_or(false)
    });
    if own.as_deref() == Some(origin.as_str()) || listed {
        Ok(url.to_string())
    } else {
        Err(refuse(given, "its origin is not allowed"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const OWN: &str = "http://127.0.0.1:8000/oauth/callback";

    #[test]
    fn paths_and_allowed_origins_pass() {
        let allowed = vec!["https://app.example.com".to_string()];
        assert_eq!(
            check("/connected?x=1", OWN, &allowed).unwrap(),
            "/connected?x=1"
        );
        assert_eq!(
            check("https://app.example.com/done", OWN, &allowed).unwrap(),
            "https://app.example.com/done"
        );
        assert!(check("http://127.0.0.1:8000/ok", OWN, &allowed).is_ok());
    }

    #[test]
    fn open_redirects_are_refused() {
        let allowed = vec!["https://app.example.com".to_string()];
        for bad in [
            "https://evil.example",
            "//evil.example",
            "/\\evil.example",
            "javascript:alert(1)",
            "http://127.0.0.1@evil.example/",
            "https://app.example.com@evil.example/",
            "https://app.example.com.evil.example/",
            "http://app.example.com/",
            "http://127.0.0.1:8001/",
            "data:text/html,hi",
            "",
        ] {
            let err = check(bad, OWN, &allowed).unwrap_err();
            assert_eq!(err.field(), Some("returnTo"), "{bad}");
        }
    }
}
