//! The one HTTP client every Gmail and OAuth request goes through: a pooled hyper client for
//! real Gmail (TLS) and the plain-http sandbox.

use std::time::Duration;

use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;

use crate::error::GmailError;

pub type Connector = HttpsConnector<HttpConnector>;
pub type HttpClient = google_gmail1::common::Client<Connector>;

pub fn http_client() -> Result<HttpClient, GmailError> {
    // One connector for real Gmail (TLS, webpki roots) and a plain-http sandbox. No Nagle:
    // a request written as head then body would otherwise wait for the server's delayed ACK.
    let mut tcp = HttpConnector::new();
    tcp.set_nodelay(true);
    tcp.enforce_http(false);
    let connector = hyper_rustls::HttpsConnectorBuilder::new()
        .with_webpki_roots()
        .https_or_http()
        .enable_http1()
        .enable_http2()
        .wrap_connector(tcp);
    Ok(
        hyper_util::client::legacy::Client::builder(TokioExecutor::new())
            .pool_idle_timeout(Duration::from_secs(90))
            .build(connector),
    )
}
