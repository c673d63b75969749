//! `Sandbox::start` works under both test runtimes the lead's tests use.

use crate::common;

use common::*;

async fn smoke() {
    let sb = start().await;
    assert!(sb.base_url().ends_with('/'));
    assert!(sb.port() > 0);
    let t = sb.issue_access_token(DEMO, &[FULL]);
    let r = http(
        &sb,
        "GET",
        "gmail/v1/users/me/profile",
        &[("authorization", &bearer(&t))],
        vec![],
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["emailAddress"], DEMO);
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
