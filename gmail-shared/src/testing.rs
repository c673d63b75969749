//! Settings for the library's own unit tests, which point at a given Gmail backend and are
//! independent of the machine's environment and files (the suites under `tests/` use
//! gmail-test-support).

use std::collections::HashMap;

use crate::config::{Overrides, Settings};

/// Settings for a test app: both ports 0, quiet logs, the sandbox at `sandbox_url` (a URL
/// nothing listens on is fine for tests that never reach Gmail).
pub fn settings(sandbox_url: &str) -> Settings {
    let env: HashMap<String, String> = [("HOME".to_string(), "/nonexistent".to_string())].into();
    let overrides = Overrides {
        config_file: None,
        values: vec![
            ("mcp.port".into(), "0".into()),
            ("api.port".into(), "0".into()),
            ("log.level".into(), "warn".into()),
            ("gmail.backend".into(), "sandbox".into()),
            ("gmail.sandbox_url".into(), sandbox_url.into()),
        ],
    };
    Settings::load_from(&overrides, &env).expect("test settings are valid")
}
