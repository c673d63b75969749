//! The HTML pages the REST server shows browsers (connecting an account, signing in, the
//! consent screen): one frame that cannot be framed and runs no script, escaping, and the
//! cross-site check for their forms.

use actix_web::http::header;
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse};
use gmail_shared::server::guard::HostPolicy;

/// Text for HTML content and attribute values.
pub(crate) fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// A whole page, with the headers that keep it from being framed or scripted.
pub(crate) fn page(status: StatusCode, title: &str, body_html: &str) -> HttpResponse {
    HttpResponse::build(status)
        .content_type("text/html; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "no-store"))
        // A page with a consent button must not be framed (clickjacking), and runs no script.
        .insert_header((header::X_FRAME_OPTIONS, "DENY"))
        .insert_header((
            header::CONTENT_SECURITY_POLICY,
            "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'",
        ))
        // same-origin, not no-referrer: with no-referrer browsers send `Origin: null` on this
        // page's own form posts, which the CSRF check must then refuse.
        .insert_header((header::REFERRER_POLICY, "same-origin"))
        .body(format!(
            "<!doctype html><html><head><meta charset=\"utf-8\"><title>{t}</title>\
             <style>body{{font-family:system-ui,sans-serif;max-width:46rem;margin:3rem auto;padding:0 1rem;\
             color:#222;line-height:1.5}}h1{{font-weight:600}}h2{{font-size:1.15rem;margin-top:2rem}}\
             table{{border-collapse:collapse;width:100%;margin:.5rem 0}}\
             th,td{{text-align:left;padding:.4rem .6rem;border-bottom:1px solid #e4e4e4;vertical-align:middle}}\
             th{{font-weight:500;color:#666}}code,pre{{background:#f5f5f5;padding:.1rem .3rem;word-break:break-all;\
             white-space:pre-wrap}}button{{font-size:.95rem;padding:.35rem .8rem;margin:.1rem}}</style>\
             </head><body><h1>{t}</h1>{body_html}</body></html>",
            t = escape(title)
        ))
}

/// Whether a form post came from another site (CSRF): it carries that site's Origin, or,
/// without one, a Sec-Fetch-Site other than same-origin.
pub(crate) fn cross_site(req: &HttpRequest, policy: &HostPolicy) -> bool {
    let origin = req
        .headers()
        .get(header::ORIGIN)
        .map(|v| v.to_str().unwrap_or("<not text>").to_owned());
    let fetch_site = req
        .headers()
        .get("sec-fetch-site")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    match &origin {
        Some(o) => !policy.origin_allowed(o),
        None => fetch_site.is_some_and(|s| s != "same-origin" && s != "none"),
    }
}
