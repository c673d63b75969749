//! Gmail's OAuth scopes, as Google spells them: what the product asks for, and what an
//! operation names when Gmail refuses it for a missing scope.

/// All of Gmail: the only scope that allows permanent deletes.
pub const FULL: &str = "https://mail.google.com/";
/// Reading mail and settings, nothing else.
pub const READONLY: &str = "https://www.googleapis.com/auth/gmail.readonly";
/// Filters and the vacation responder.
pub const SETTINGS_BASIC: &str = "https://www.googleapis.com/auth/gmail.settings.basic";
/// Send-as addresses.
pub const SETTINGS_SHARING: &str = "https://www.googleapis.com/auth/gmail.settings.sharing";
