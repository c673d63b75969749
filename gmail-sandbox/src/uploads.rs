//! Resumable uploads in progress: what the session URL will run once the last chunk is in.

use std::time::Instant;

use crate::grants::AccessGrant;
use crate::methods::Route;

/// Sessions idle longer than this are dropped.
pub const SESSION_TTL_SECS: u64 = 24 * 3600;

pub struct UploadSession {
    pub route: Route,
    pub grant: AccessGrant,
    pub metadata: Vec<u8>,
    pub buf: Vec<u8>,
    pub created: Instant,
}
