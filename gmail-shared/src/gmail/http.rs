//! The HTTP clients: the one every Gmail and OAuth request goes through (a pooled hyper
//! client for real Gmail over TLS and the plain-http sandbox), and the one for URLs callers
//! choose, which reaches only public addresses.

use std::net::{IpAddr, SocketAddr};
use std::task::{Context, Poll};
use std::time::Duration;

use futures::future::BoxFuture;
use http_body_util::combinators::BoxBody;
use http_body_util::BodyExt;
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::connect::dns::{GaiResolver, Name};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;

use crate::error::GmailError;

pub type Connector = HttpsConnector<HttpConnector>;
pub type HttpClient = google_gmail1::common::Client<Connector>;

pub fn http_client() -> Result<HttpClient, GmailError> {
    // One connector for real Gmail and a plain-http sandbox.
    Ok(client_over(HttpConnector::new()))
}

/// A pooled client over `tcp`: TLS (webpki roots) or plain http, no Nagle (a request
/// written as head then body would otherwise wait for the server's delayed ACK).
fn client_over<R>(
    mut tcp: HttpConnector<R>,
) -> google_gmail1::common::Client<HttpsConnector<HttpConnector<R>>>
where
    R: tower_service::Service<Name> + Clone + Send + Sync + 'static,
    R::Response: Iterator<Item = SocketAddr>,
    R::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    R::Future: Send,
{
    tcp.set_nodelay(true);
    tcp.enforce_http(false);
    let connector = hyper_rustls::HttpsConnectorBuilder::new()
        .with_webpki_roots()
        .https_or_http()
        .enable_http1()
        .enable_http2()
        .wrap_connector(tcp);
    hyper_util::client::legacy::Client::builder(TokioExecutor::new())
        .pool_idle_timeout(Duration::from_secs(90))
        .build(connector)
}

/// A request's whole answer: status, headers and body.
pub type Answer = (hyper::StatusCode, hyper::HeaderMap, hyper::body::Bytes);

/// Sends `request` over the pool and reads the whole answer; a failure names `peer` ("Gmail",
/// "the OAuth endpoint"). The caller bounds it in time: what a timeout means is its own.
pub async fn exchange(
    http: &HttpClient,
    request: hyper::Request<BoxBody<hyper::body::Bytes, hyper::Error>>,
    peer: &str,
) -> Result<Answer, GmailError> {
    let response = http
        .request(request)
        .await
        .map_err(|e| GmailError::unavailable_from(format!("request to {peer} failed"), e))?;
    let (parts, body) = response.into_parts();
    let bytes = body
        .collect()
        .await
        .map_err(|e| GmailError::unavailable_from(format!("reading {peer}'s answer"), e))?
        .to_bytes();
    Ok((parts.status, parts.headers, bytes))
}

/// A client for requests to URLs that callers choose (webhook deliveries, OAuth client
/// metadata documents). Unless `allow_private`, names resolve only to public addresses, at
/// connect time: a check before the request would look the name up separately, and a name
/// that answers a public address to the check and 127.0.0.1 to the connection (DNS
/// rebinding) would reach the machine's own services.
pub fn outbound_client(allow_private: bool) -> OutboundClient {
    client_over(HttpConnector::new_with_resolver(PublicOnly {
        inner: GaiResolver::new(),
        allow_private,
    }))
}

pub type OutboundClient = google_gmail1::common::Client<HttpsConnector<HttpConnector<PublicOnly>>>;

/// The system resolver, keeping only public addresses (unless private ones are allowed).
#[derive(Clone)]
pub struct PublicOnly {
    inner: GaiResolver,
    allow_private: bool,
}

impl tower_service::Service<Name> for PublicOnly {
    type Response = std::vec::IntoIter<SocketAddr>;
    type Error = std::io::Error;
    type Future = BoxFuture<'static, Result<Self::Response, Self::Error>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, name: Name) -> Self::Future {
        let allow_private = self.allow_private;
        let lookup = self.inner.call(name.clone());
        Box::pin(async move {
            let addrs: Vec<SocketAddr> = lookup
                .await?
                .filter(|a| allow_private || is_public_address(a.ip()))
                .collect();
            if addrs.is_empty() {
                return Err(std::io::Error::new(
                    std::io::ErrorKind::PermissionDenied,
                    format!("{name} resolves only to loopback, private, link-local or metadata addresses"),
                ));
            }
            Ok(addrs.into_iter())
        })
    }
}

/// Whether an address is on the public internet (not loopback, private, link-local — where
/// cloud metadata lives — unspecified, or multicast).
pub fn is_public_address(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            !(v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || v4.is_multicast()
                || v4.octets()[0] == 100 && (64..128).contains(&v4.octets()[1]))
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_public_address(IpAddr::V4(v4));
            }
            let first = v6.segments()[0];
            !(v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (first & 0xfe00) == 0xfc00
                || (first & 0xffc0) == 0xfe80)
        }
    }
}

#[cfg(test)]
mod tests {
    use http_body_util::{BodyExt, Empty};
    use hyper::body::Bytes;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    use super::*;

    /// A name that resolves to loopback is refused when connecting, whatever was checked
    /// before; with private addresses allowed it is reached. (An IP literal is not resolved:
    /// callers check those themselves, and a literal cannot change its answer.)
    #[tokio::test]
    async fn outbound_requests_reach_only_public_addresses() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        tokio::spawn(async move {
            while let Ok((mut socket, _)) = listener.accept().await {
                let mut buf = [0u8; 1024];
                let _ = socket.read(&mut buf).await;
                let _ = socket
                    .write_all(b"HTTP/1.1 204 No Content\r\nconnection: close\r\n\r\n")
                    .await;
            }
        });
        let get = |allow_private: bool| async move {
            let request = hyper::Request::get(format!("http://localhost:{port}/hook"))
                .body(Empty::<Bytes>::new().map_err(|e| match e {}).boxed())
                .unwrap();
            outbound_client(allow_private).request(request).await
        };
        let refused = get(false).await.expect_err("loopback is not public");
        let chain = std::iter::successors(Some(&refused as &dyn std::error::Error), |e| e.source())
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(": ");
        assert!(chain.contains("resolves only to loopback"), "{chain}");
        assert_eq!(get(true).await.unwrap().status(), 204);
    }

    #[test]
    fn private_and_metadata_addresses_are_not_public() {
        for ip in [
            "127.0.0.1",
            "10.0.0.1",
            "169.254.169.254",
            "192.168.1.1",
            "::1",
            "fd00::1",
            "fe80::1",
            "::ffff:127.0.0.1",
            "100.64.0.1",
        ] {
            assert!(!is_public_address(ip.parse().unwrap()), "{ip}");
        }
        assert!(is_public_address("8.8.8.8".parse().unwrap()));
        assert!(is_public_address("2001:4860::8888".parse().unwrap()));
    }
}
