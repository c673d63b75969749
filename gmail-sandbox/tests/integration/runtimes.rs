//! `Sandbox::start` works under both test runtimes the lead's tests use.

use crate::common;

use common::*;

async fn smoke() {
    let sb = start().await;
    assert!(sb.base_url().ends_with('/'));
    assert!(sb.port() > 0);
    let profile = Api::full(&sb, DEMO)
        .get_ok("gmail/v1/users/me/profile")
        .await;
    assert_eq!(profile["emailAddress"], DEMO);
    sb.stop().await;
}

#[tokio::test]
async fn current_thread_tokio() {
    smoke().await;
}

#[actix_web::test]
async fn actix_system() {
    smoke().await;
}
