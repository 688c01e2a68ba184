//! What a request target asks for: method, path and query in, one [`Target`] out.
//!
//! A pure function, so that every byte a caller can put in a request line is handled here
//! without a socket (unit tests below, `fuzz/fuzz_targets/request_target.rs`). Path
//! segments and query values are percent-decoded strictly ([`crate::percent`]): a
//! malformed escape or a name that is not UTF-8 is a 400, never a guess.

use http::Method;

use crate::percent::{self, PercentError};

/// What the listener serves for one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// `GET /services`: the catalogue.
    Catalogue,
    /// `GET /healthz`.
    Health,
    /// `GET /services/NAME` without a query: a short note on where the contract is.
    ServiceInfo(String),
    /// `GET /services/NAME?wsdl`, `?wsdl=DOC` or `?xsd=DOC`.
    Published {
        service: String,
        document: Document,
    },
    /// Any other method on `/services/NAME`: a SOAP exchange (the pipeline refuses
    /// methods other than POST with a fault).
    Call(String),
    NotFound,
    BadRequest(TargetError),
}

/// Which published document of a contract.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Document {
    /// The main WSDL (`?wsdl`).
    Main,
    /// An imported WSDL or XSD by its published relative path (`?wsdl=DOC`, `?xsd=DOC`).
    Named(String),
}

/// Why a request target was refused with 400. The text goes to the caller: it never
/// repeats the target.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TargetError {
    #[error("malformed path: {0}")]
    Path(PercentError),
    #[error("malformed query: {0}")]
    Query(PercentError),
    #[error("use ?wsdl or ?xsd=PATH")]
    UnknownQuery,
}

/// Resolves a request target. `path` and `query` are as the request line carries them
/// (still percent-encoded; `query` without its `?`).
pub fn resolve(method: &Method, path: &str, query: Option<&str>) -> Target {
    let mut segments = Vec::new();
    for raw in path.trim_matches('/').split('/') {
        match percent::decode_strict(raw) {
            Ok(s) => segments.push(s),
            Err(e) => return Target::BadRequest(TargetError::Path(e)),
        }
    }
    let get = method == Method::GET;
    match segments.as_mut_slice() {
        [s] if get && s == "services" => Target::Catalogue,
        [s] if get && s == "healthz" => Target::Health,
        [s, name] if s == "services" => {
            let name = std::mem::take(name);
            if !get {
                return Target::Call(name);
            }
            match published(query) {
                Ok(None) => Target::ServiceInfo(name),
                Ok(Some(document)) => Target::Published {
                    service: name,
                    document,
                },
                Err(e) => Target::BadRequest(e),
            }
        }
        _ => Target::NotFound,
    }
}

/// `?wsdl` (any case of the bare word, as tools write it), `?wsdl=DOC`, `?xsd=DOC`.
fn published(query: Option<&str>) -> Result<Option<Document>, TargetError> {
    let q = match query {
        None | Some("") => return Ok(None),
        Some(q) => q,
    };
    if q.eq_ignore_ascii_case("wsdl") {
        return Ok(Some(Document::Main));
    }
    match q.split_once('=') {
        Some(("wsdl" | "xsd", value)) => percent::decode_form(value)
            .map(|d| Some(Document::Named(d)))
            .map_err(TargetError::Query),
        _ => Err(TargetError::UnknownQuery),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn get(path: &str, query: Option<&str>) -> Target {
        resolve(&Method::GET, path, query)
    }

    fn named(service: &str, d: &str) -> Target {
        Target::Published {
            service: service.into(),
            document: Document::Named(d.into()),
        }
    }

    #[test]
    fn routes() {
        assert_eq!(get("/services", None), Target::Catalogue);
        assert_eq!(get("/services/", None), Target::Catalogue);
        assert_eq!(get("/healthz", None), Target::Health);
        assert_eq!(
            get("/services/ho-tich", None),
            Target::ServiceInfo("ho-tich".into())
        );
        assert_eq!(
            get("/services/ho-tich", Some("WSDL")),
            Target::Published {
                service: "ho-tich".into(),
                document: Document::Main
            }
        );
        assert_eq!(
            get("/services/ho-tich", Some("xsd=a%20b+c/d.xsd")),
            named("ho-tich", "a b c/d.xsd")
        );
        assert_eq!(
            get("/services/ho%2Dtich", Some("wsdl=x")),
            named("ho-tich", "x")
        );
        assert_eq!(
            resolve(&Method::POST, "/services/ho-tich", Some("wsdl")),
            Target::Call("ho-tich".into())
        );
        assert_eq!(resolve(&Method::POST, "/services", None), Target::NotFound);
        assert_eq!(get("/", None), Target::NotFound);
        assert_eq!(get("/services/a/b", None), Target::NotFound);
        assert_eq!(get("//services//a", None), Target::NotFound);
    }

    #[test]
    fn malformed_escapes_and_text_are_bad_requests() {
        for q in ["xsd=%aé", "xsd=%", "xsd=%a", "wsdl=%zz", "xsd=a%4"] {
            assert_eq!(
                get("/services/ho-tich", Some(q)),
                Target::BadRequest(TargetError::Query(PercentError::BadEscape)),
                "{q}"
            );
        }
        assert_eq!(
            get("/services/ho-tich", Some("xsd=%FF%FE")),
            Target::BadRequest(TargetError::Query(PercentError::NotUtf8))
        );
        assert_eq!(
            get("/services/%E0%80", None),
            Target::BadRequest(TargetError::Path(PercentError::NotUtf8))
        );
        assert_eq!(
            resolve(&Method::POST, "/services/a%", None),
            Target::BadRequest(TargetError::Path(PercentError::BadEscape))
        );
        for q in ["foo", "wsdl&x", "xsd", "XSD=a"] {
            assert_eq!(
                get("/services/ho-tich", Some(q)),
                Target::BadRequest(TargetError::UnknownQuery),
                "{q}"
            );
        }
        let huge = format!("xsd={}", "%41".repeat(100_000));
        assert_eq!(
            get("/services/ho-tich", Some(&huge)),
            named("ho-tich", &"A".repeat(100_000))
        );
    }
}
