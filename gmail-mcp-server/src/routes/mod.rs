//! One file per resource.

pub mod health;
pub mod protected_resource;
pub mod sessions;
