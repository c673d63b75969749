//! Gmail REST routing: [`dispatch`] matches a request to its Gmail method and runs the
//! resource's handler; [`batch`] splits a batch request into parts for it.

pub mod batch;
pub mod dispatch;
pub mod drafts;
pub mod fields;
pub mod history;
pub mod labels;
pub mod messages;
pub mod profile;
pub mod request;
pub mod settings;
pub mod threads;
pub mod upload;
pub mod watch;
