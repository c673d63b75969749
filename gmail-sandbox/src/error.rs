//! Google's JSON error envelope, with the wording Gmail uses for each case.

use serde_json::json;

/// One API error, rendered as `{"error":{"code","message","errors":[…],"status"}}`.
#[derive(Debug, Clone)]
pub struct ApiError {
    pub code: u16,
    pub status: &'static str,
    pub message: String,
    pub domain: &'static str,
    pub reason: &'static str,
    /// Rarely used parts, boxed to keep `Result<_, ApiError>` small.
    pub extra: Option<Box<ErrorExtra>>,
}

#[derive(Debug, Clone, Default)]
pub struct ErrorExtra {
    /// `errors[0].message` when it differs from the top-level message.
    pub item_message: Option<String>,
    /// `errors[0].location` / `locationType` (401 uses the Authorization header).
    pub location: Option<(&'static str, &'static str)>,
    pub www_authenticate: Option<String>,
    /// `Retry-After` seconds (only injected faults set it; Gmail itself does not).
    pub retry_after_secs: Option<u64>,
}

impl ApiError {
    fn new(
        code: u16,
        status: &'static str,
        reason: &'static str,
        message: impl Into<String>,
    ) -> Self {
        ApiError {
            code,
            status,
            message: message.into(),
            domain: "global",
            reason,
            extra: None,
        }
    }

    fn extra_mut(&mut self) -> &mut ErrorExtra {
        self.extra.get_or_insert_with(Default::default)
    }

    fn with_item_message(mut self, m: &str) -> Self {
        self.extra_mut().item_message = Some(m.to_string());
        self
    }

    pub fn www_authenticate(&self) -> Option<&str> {
        self.extra.as_ref()?.www_authenticate.as_deref()
    }

    pub fn retry_after_secs(&self) -> Option<u64> {
        self.extra.as_ref()?.retry_after_secs
    }

    pub fn with_retry_after(mut self, secs: Option<u64>) -> Self {
        if secs.is_some() {
            self.extra_mut().retry_after_secs = secs;
        }
        self
    }

    /// 400 INVALID_ARGUMENT / invalidArgument: label rules, ids, field values.
    pub fn invalid_argument(message: impl Into<String>) -> Self {
        Self::new(400, "INVALID_ARGUMENT", "invalidArgument", message)
    }

    /// 400 INVALID_ARGUMENT / badRequest: missing payloads, malformed requests.
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(400, "INVALID_ARGUMENT", "badRequest", message)
    }

    /// 400 with reason `invalid` (the ESF front end's wording for undecodable fields).
    pub fn invalid_value(message: impl Into<String>) -> Self {
        Self::new(400, "INVALID_ARGUMENT", "invalid", message)
    }

    pub fn failed_precondition(message: impl Into<String>) -> Self {
        Self::new(400, "FAILED_PRECONDITION", "failedPrecondition", message)
    }

    pub fn invalid_json(detail: &str) -> Self {
        Self::invalid_value(format!("Invalid JSON payload received. {detail}"))
    }

    pub fn invalid_id() -> Self {
        Self::invalid_argument("Invalid id value")
    }

    pub fn invalid_label(id: &str) -> Self {
        Self::invalid_argument(format!("Invalid label: {id}"))
    }

    pub fn not_found() -> Self {
        Self::new(
            404,
            "NOT_FOUND",
            "notFound",
            "Requested entity was not found.",
        )
    }

    pub fn unauthenticated() -> Self {
        let mut e = Self::new(
            401,
            "UNAUTHENTICATED",
            "authError",
            "Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential. See https://developers.google.com/identity/sign-in/web/devconsole-project.",
        );
        let x = e.extra_mut();
        x.item_message = Some("Invalid Credentials".into());
        x.location = Some(("Authorization", "header"));
        x.www_authenticate =
            Some("Bearer realm=\"https://accounts.google.com/\", error=\"invalid_token\"".into());
        e
    }

    pub fn insufficient_scope(required: &[&str]) -> Self {
        let mut e = Self::new(
            403,
            "PERMISSION_DENIED",
            "insufficientPermissions",
            "Request had insufficient authentication scopes.",
        );
        e = e.with_item_message("Insufficient Permission");
        e.extra_mut().www_authenticate = Some(format!(
            "Bearer realm=\"https://accounts.google.com/\", error=\"insufficient_scope\", scope=\"{}\"",
            required.join(" ")
        ));
        e
    }

    pub fn delegation_denied(user: &str) -> Self {
        Self::new(
            403,
            "PERMISSION_DENIED",
            "forbidden",
            format!("Delegation denied for {user}"),
        )
    }

    /// 403 PERMISSION_DENIED / forbidden with a specific message.
    pub fn new_forbidden(message: &str) -> Self {
        Self::new(403, "PERMISSION_DENIED", "forbidden", message)
    }

    pub fn new_conflict(message: &str) -> Self {
        Self::new(409, "ALREADY_EXISTS", "duplicate", message)
    }

    pub fn label_exists() -> Self {
        Self::new(
            409,
            "ALREADY_EXISTS",
            "duplicate",
            "Label name exists or conflicts",
        )
    }

    /// Per-user quota exhausted: Gmail names the instant in the text, not in Retry-After.
    pub fn rate_limited(retry_after: chrono::DateTime<chrono::Utc>) -> Self {
        let mut e = Self::new(
            429,
            "RESOURCE_EXHAUSTED",
            "rateLimitExceeded",
            format!(
                "User-rate limit exceeded.  Retry after {}",
                retry_after.format("%Y-%m-%dT%H:%M:%S%.3fZ")
            ),
        );
        e.domain = "usageLimits";
        e.with_item_message("User-rate limit exceeded.")
    }

    pub fn too_many_concurrent() -> Self {
        let mut e = Self::new(
            429,
            "RESOURCE_EXHAUSTED",
            "rateLimitExceeded",
            "Too many concurrent requests for user",
        );
        e.domain = "usageLimits";
        e
    }

    pub fn backend_error() -> Self {
        Self::new(500, "INTERNAL", "backendError", "Backend Error")
    }

    pub fn unavailable() -> Self {
        Self::new(
            503,
            "UNAVAILABLE",
            "backendError",
            "The service is currently unavailable.",
        )
    }

    pub fn method_not_allowed() -> Self {
        Self::new(
            405,
            "UNIMPLEMENTED",
            "methodNotAllowed",
            "Method not allowed.",
        )
    }

    pub fn body(&self) -> serde_json::Value {
        let extra = self.extra.as_deref();
        let mut item = json!({
            "message": extra.and_then(|x| x.item_message.as_deref()).unwrap_or(&self.message),
            "domain": self.domain,
            "reason": self.reason,
        });
        if let Some((loc, kind)) = extra.and_then(|x| x.location) {
            item["location"] = json!(loc);
            item["locationType"] = json!(kind);
        }
        json!({"error": {
            "code": self.code,
            "message": self.message,
            "errors": [item],
            "status": self.status,
        }})
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.code, self.message)
    }
}

impl std::error::Error for ApiError {}

pub type ApiResult<T> = Result<T, ApiError>;
