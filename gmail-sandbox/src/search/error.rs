//! Query errors.

use std::fmt;

/// A query that could not be parsed (Gmail answers such queries with 400 Invalid query).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueryError(pub String);

impl fmt::Display for QueryError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Invalid query: {}", self.0)
    }
}

impl std::error::Error for QueryError {}
