//! The `Idempotency-Key` header of the endpoints that send mail: read here, honoured by
//! [`gmail_shared::idempotency`], the same store and rules as the MCP send tools' key.

use actix_web::HttpRequest;
use gmail_shared::GmailError;

pub const HEADER: &str = "Idempotency-Key";
/// Set on an answer that is the first attempt's, not a new send.
pub const REPLAYED_HEADER: &str = "Idempotent-Replayed";

/// The request's key, if it sent one.
pub fn key(req: &HttpRequest) -> Result<Option<String>, GmailError> {
    let Some(value) = req.headers().get(HEADER) else {
        return Ok(None);
    };
    let value = value.to_str().unwrap_or("\u{0}");
    gmail_shared::idempotency::parse_key(HEADER, value).map(Some)
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::test::TestRequest;

    #[test]
    fn the_header_is_read_and_checked() {
        let req = |v: &str| {
            TestRequest::default()
                .insert_header((HEADER, v))
                .to_http_request()
        };
        assert_eq!(key(&req(" order-1 ")).unwrap().as_deref(), Some("order-1"));
        assert!(key(&req("")).is_err());
        assert_eq!(
            key(&TestRequest::default().to_http_request()).unwrap(),
            None
        );
    }
}
