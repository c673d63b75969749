//! A secret shown once, to the party that authenticated for it: an API key, a device code, a
//! client secret, a webhook's signing secret, an issued token. It serializes as its text
//! (showing it is the point of the response that carries it) and nowhere else: its Debug
//! is redacted, so a response logged or printed with `{:?}` keeps it out.

use schemars::JsonSchema;
use secrecy::{ExposeSecret, SecretString};
use serde::{Serialize, Serializer};

#[derive(Clone, JsonSchema)]
#[schemars(transparent)]
pub struct ShownOnce(#[schemars(with = "String")] SecretString);

impl ShownOnce {
    pub fn new(text: impl Into<String>) -> Self {
        ShownOnce(SecretString::from(text.into()))
    }

    pub fn expose(&self) -> &str {
        self.0.expose_secret()
    }
}

impl From<String> for ShownOnce {
    fn from(text: String) -> Self {
        ShownOnce::new(text)
    }
}

impl From<&str> for ShownOnce {
    fn from(text: &str) -> Self {
        ShownOnce::new(text)
    }
}

impl From<SecretString> for ShownOnce {
    fn from(secret: SecretString) -> Self {
        ShownOnce(secret)
    }
}

impl std::fmt::Debug for ShownOnce {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("[REDACTED]")
    }
}

impl Serialize for ShownOnce {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.expose())
    }
}

#[cfg(feature = "openapi")]
impl utoipa::PartialSchema for ShownOnce {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::Type::String)
            .description(Some("A secret, shown in this response only"))
            .into()
    }
}

#[cfg(feature = "openapi")]
impl utoipa::ToSchema for ShownOnce {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serialized_for_its_owner_redacted_in_debug() {
        let s = ShownOnce::new("gms_secret");
        assert_eq!(serde_json::to_string(&s).unwrap(), r#""gms_secret""#);
        assert_eq!(format!("{s:?}"), "[REDACTED]");
        let schema = serde_json::to_value(schemars::schema_for!(ShownOnce)).unwrap();
        assert_eq!(schema["type"], "string");
    }
}
