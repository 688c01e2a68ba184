//! What reached the example providers, for end-to-end tests: `GET /_received` shows it,
//! `POST /_reset` clears it. A test checks with it that an accepted call arrived with the
//! gateway's Exchange header, and that a refused one never arrived at all.

use std::collections::VecDeque;
use std::sync::Mutex;

use serde::Serialize;

/// How many recent requests are kept; older ones only count.
pub const KEEP: usize = 100;

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Received {
    /// Request path, e.g. `/ho-tich`.
    pub path: String,
    /// `1.1` or `1.2`, when the content type named one.
    pub soap_version: Option<String>,
    /// SOAPAction / `action` as received.
    pub action: Option<String>,
    /// The `lt:Exchange` header block, verbatim, when present.
    pub exchange_header: Option<String>,
    /// A `wsse:Security` header arrived with it.
    pub security_header: bool,
    /// Every header block that arrived, in Clark notation, in document order.
    pub header_blocks: Vec<String>,
    /// The Body's root element in Clark notation, `{ns}local`, when the envelope was read.
    pub body_root: Option<String>,
}

#[derive(Debug, Serialize)]
struct Snapshot<'a> {
    count: u64,
    last: &'a VecDeque<Received>,
}

/// Total count plus the last [`KEEP`] requests, oldest first.
#[derive(Debug, Default)]
pub struct Log {
    inner: Mutex<(u64, VecDeque<Received>)>,
}

impl Log {
    pub fn push(&self, r: Received) {
        let mut g = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        g.0 += 1;
        if g.1.len() == KEEP {
            g.1.pop_front();
        }
        g.1.push_back(r);
    }

    pub fn reset(&self) {
        let mut g = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        *g = (0, VecDeque::new());
    }

    /// `{"count": N, "last": [...]}`.
    pub fn to_json(&self) -> String {
        let g = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        serde_json::to_string(&Snapshot {
            count: g.0,
            last: &g.1,
        })
        .unwrap_or_else(|_| r#"{"count":0,"last":[]}"#.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounded_and_counted() {
        let log = Log::default();
        for i in 0..(KEEP + 5) {
            log.push(Received {
                path: format!("/p{i}"),
                soap_version: None,
                action: None,
                exchange_header: None,
                security_header: false,
                header_blocks: Vec::new(),
                body_root: None,
            });
        }
        let v: serde_json::Value = serde_json::from_str(&log.to_json()).unwrap();
        assert_eq!(v["count"], (KEEP + 5) as u64);
        let last = v["last"].as_array().unwrap();
        assert_eq!(last.len(), KEEP);
        assert_eq!(last[0]["path"], "/p5");
        assert_eq!(last[KEEP - 1]["path"], format!("/p{}", KEEP + 4));
        log.reset();
        assert_eq!(log.to_json(), r#"{"count":0,"last":[]}"#);
    }
}
