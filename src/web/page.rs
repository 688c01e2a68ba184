//! The auditor's web page: one HTML file, vanilla JS and CSS, embedded in the binary (no
//! build step at install). It holds no data: everything comes from the API with the
//! auditor's token, which stays in the browser's session storage.

use http::{Response, StatusCode};

use super::{full, Body};

const INDEX: &str = include_str!("assets/index.html");
const SCRIPT: &str = include_str!("assets/app.js");
const STYLE: &str = include_str!("assets/app.css");

fn with_csp(mut r: Response<Body>) -> Response<Body> {
    // Same-origin scripts and styles only; no inline script, no framing.
    r.headers_mut().insert(
        http::header::CONTENT_SECURITY_POLICY,
        http::HeaderValue::from_static(
            "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; \
             frame-ancestors 'none'",
        ),
    );
    r
}

pub fn index() -> Response<Body> {
    with_csp(full(StatusCode::OK, "text/html; charset=utf-8", INDEX))
}

pub fn script() -> Response<Body> {
    full(StatusCode::OK, "text/javascript; charset=utf-8", SCRIPT)
}

pub fn style() -> Response<Body> {
    full(StatusCode::OK, "text/css; charset=utf-8", STYLE)
}
