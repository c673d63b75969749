//! Shared state behind every request.

use std::collections::HashMap;
use std::sync::Arc;

use parking_lot::Mutex;

use crate::config::SandboxConfig;
use crate::grants::OAuthState;
use crate::pubsub::Pubsub;
use crate::quota::{Faults, Quota, Stats};
use crate::store::Store;
use crate::uploads::UploadSession;

pub struct AppState {
    pub cfg: SandboxConfig,
    pub store: Store,
    pub oauth: OAuthState,
    pub quota: Quota,
    pub faults: Faults,
    pub stats: Stats,
    pub uploads: Mutex<HashMap<String, UploadSession>>,
    /// Push subscriptions and the push task's shared state.
    pub pubsub: Arc<Pubsub>,
}
