//! The receive stage: the HTTP request checked before its body is trusted with memory.
//!
//! Cheap checks first (docs/SECURITY.md, R1 to R3): method, content type and charset,
//! declared length against the limit, then the body read with a hard cap so a chunked
//! upload cannot grow past it either; a gzip body is inflated under the same cap
//! (`super::inflate`).

use bytes::Bytes;
use http::header::{CONTENT_ENCODING, CONTENT_LENGTH, CONTENT_TYPE, TRANSFER_ENCODING};
use http::{HeaderMap, Method, Request};
use http_body_util::{BodyExt, Limited};

use crate::config::Limits;
use crate::model::{AgencyCode, SoapVersion};

/// HTTP header naming the consumer for services that accept unsigned calls.
pub const CONSUMER_HEADER: &str = "x-lienthong-consumer";

/// How much of a body with an unusable content type is read to guess the fault's version:
/// enough for an XML declaration, comments and an Envelope start tag with its namespaces.
const SNIFF_BYTES: usize = 4 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum ReceiveError {
    #[error("no service named `{0}` is published here")]
    UnknownService(String),
    #[error("SOAP calls use POST")]
    MethodNotAllowed,
    #[error(
        "content type `{content_type}` is not SOAP (text/xml for SOAP 1.1, application/soap+xml for SOAP 1.2)"
    )]
    UnsupportedMediaType {
        content_type: String,
        /// The version the body's first bytes look like, to shape the fault after.
        looks_like: Option<SoapVersion>,
    },
    #[error("charset `{0}` is not accepted; send UTF-8")]
    Charset(String),
    #[error("the request body exceeds max_request_bytes ({limit} bytes)")]
    TooLarge { limit: usize },
    #[error("content encoding `{0}` is not accepted; send the body as is (identity) or gzip")]
    UnsupportedEncoding(String),
    /// flate2's reason is for the audit record only.
    #[error("the gzip body could not be decompressed")]
    BadGzip(String),
    #[error(
        "the gzip body expands more than max_inflate_ratio ({max_ratio}) times its size; refused as a decompression bomb"
    )]
    InflateRatio { max_ratio: u64 },
    #[error("Content-Length and Transfer-Encoding must not both be sent")]
    AmbiguousLength,
    /// The HTTP library's reason is for the audit record only.
    #[error("the request body could not be read")]
    Read(String),
    #[error("the gateway is at its limit of concurrent exchanges; retry later")]
    Overloaded,
}

/// A request that passed the HTTP checks: the SOAP message and what the HTTP layer said of it.
pub struct Received {
    pub version: SoapVersion,
    /// SOAPAction (1.1) or `action` (1.2), unquoted; it may confirm the operation only.
    pub action: Option<String>,
    /// The body, inflated if it came gzipped.
    pub bytes: Bytes,
    /// The consumer named in [`CONSUMER_HEADER`]: taken only by a service with
    /// `dangerous_accept_unsigned`, for an unsigned request.
    pub claimed: Option<AgencyCode>,
}

/// The whole stage: method, content type, coding, the body read and inflated under the caps.
pub async fn request<B>(req: Request<B>, limits: &Limits) -> Result<Received, ReceiveError>
where
    B: hyper::body::Body<Data = Bytes>,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    if req.method() != Method::POST {
        return Err(ReceiveError::MethodNotAllowed);
    }
    let (parts, body) = req.into_parts();
    let soap = match soap_http(&parts.headers) {
        Ok(soap) => soap,
        Err(ReceiveError::UnsupportedMediaType { content_type, .. }) => {
            // The fault is shaped after the envelope, if the first bytes show one (a few
            // KiB, read under the exchange's deadline).
            let head = read_head(body, SNIFF_BYTES).await;
            return Err(ReceiveError::UnsupportedMediaType {
                content_type,
                looks_like: Some(sniff_version(&head)),
            });
        }
        Err(e) => return Err(e),
    };
    let coding = content_coding(&parts.headers)?;
    let raw = read_body(&parts.headers, body, limits.max_request_bytes).await?;
    let bytes = decode_body(
        coding,
        raw,
        limits.max_request_bytes,
        limits.max_inflate_ratio,
    )
    .await?;
    let claimed = parts
        .headers
        .get(CONSUMER_HEADER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| AgencyCode::parse(v).ok());
    Ok(Received {
        version: soap.version,
        action: soap.action,
        bytes,
        claimed,
    })
}

/// What the HTTP layer says about the SOAP message.
#[derive(Debug, Clone)]
pub struct SoapHttp {
    pub version: SoapVersion,
    /// SOAPAction header (1.1) or `action` parameter (1.2), unquoted; `None` when empty.
    pub action: Option<String>,
}

/// SOAP version and action from the headers (SOAP 1.1 §6.1.1; SOAP 1.2 Part 2 §7.1.4,
/// RFC 3902 for the `action` parameter).
pub fn soap_http(headers: &HeaderMap) -> Result<SoapHttp, ReceiveError> {
    let raw = headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let mut parts = raw.split(';');
    let media = parts.next().unwrap_or("").trim().to_ascii_lowercase();
    let mut action = None;
    for p in parts {
        let Some((k, v)) = p.split_once('=') else {
            continue;
        };
        let (k, v) = (k.trim().to_ascii_lowercase(), unquote(v.trim()));
        match k.as_str() {
            // US-ASCII is a subset of UTF-8: the same bytes mean the same characters.
            "charset"
                if !(v.eq_ignore_ascii_case("utf-8") || v.eq_ignore_ascii_case("us-ascii")) =>
            {
                return Err(ReceiveError::Charset(v.chars().take(40).collect()))
            }
            "action" => action = non_empty(v),
            _ => {}
        }
    }
    let version = match media.as_str() {
        "text/xml" => SoapVersion::V11,
        "application/soap+xml" => SoapVersion::V12,
        _ => {
            return Err(ReceiveError::UnsupportedMediaType {
                content_type: raw.chars().take(80).collect(),
                looks_like: None,
            })
        }
    };
    if version == SoapVersion::V11 {
        action = headers
            .get("soapaction")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| non_empty(unquote(v.trim())));
    }
    Ok(SoapHttp { version, action })
}

/// The SOAP version to answer in when the request is refused before its content type is
/// understood: 1.2 if it looks like 1.2, else 1.1.
pub fn guess_version(headers: &HeaderMap) -> SoapVersion {
    let ct = headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if ct.to_ascii_lowercase().contains("application/soap+xml") {
        SoapVersion::V12
    } else {
        SoapVersion::V11
    }
}

/// How the body is encoded on the wire (RFC 9110 §8.4).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Coding {
    Identity,
    Gzip,
}

/// The body's content coding: none, `identity`, or `gzip` (`x-gzip` is the same, RFC 9110
/// §8.4.1.3). A list of codings, or any other one, is refused before the body is read.
pub fn content_coding(headers: &HeaderMap) -> Result<Coding, ReceiveError> {
    let mut values = headers.get_all(CONTENT_ENCODING).iter();
    let Some(first) = values.next() else {
        return Ok(Coding::Identity);
    };
    let refuse = |v: &str| ReceiveError::UnsupportedEncoding(v.chars().take(40).collect());
    let v = first.to_str().map_err(|_| refuse("?"))?.trim();
    if values.next().is_some() || v.contains(',') {
        return Err(refuse(v));
    }
    match v.to_ascii_lowercase().as_str() {
        "" | "identity" => Ok(Coding::Identity),
        "gzip" | "x-gzip" => Ok(Coding::Gzip),
        _ => Err(refuse(v)),
    }
}

/// The body as the sender wrote it: a gzip body inflated (on the blocking pool: megabytes
/// of inflate are milliseconds) under `max_bytes` and `max_ratio`.
pub async fn decode_body(
    coding: Coding,
    raw: Bytes,
    max_bytes: usize,
    max_ratio: u64,
) -> Result<Bytes, ReceiveError> {
    match coding {
        Coding::Identity => Ok(raw),
        Coding::Gzip => {
            tokio::task::spawn_blocking(move || super::inflate::gunzip(&raw, max_bytes, max_ratio))
                .await
                .map_err(|e| ReceiveError::Read(e.to_string()))?
                .map(Bytes::from)
        }
    }
}

/// The SOAP version a message's first bytes announce, for answering a request whose content
/// type says nothing usable: the envelope namespace that occurs first, else 1.1. A guess
/// for the fault's shape only; a message is never processed on it.
pub fn sniff_version(head: &[u8]) -> SoapVersion {
    let at = |ns: &str| head.windows(ns.len()).position(|w| w == ns.as_bytes());
    match (
        at(crate::xml::ns::SOAP11_ENV),
        at(crate::xml::ns::SOAP12_ENV),
    ) {
        (Some(a), Some(b)) if b < a => SoapVersion::V12,
        (None, Some(_)) => SoapVersion::V12,
        _ => SoapVersion::V11,
    }
}

/// Up to `max` bytes from the start of the body (more when the last frame read runs over),
/// for [`sniff_version`]; the rest is never read.
pub async fn read_head<B>(body: B, max: usize) -> Bytes
where
    B: hyper::body::Body<Data = Bytes>,
{
    let mut body = std::pin::pin!(body);
    let mut head = Vec::new();
    while head.len() < max {
        match body.frame().await {
            Some(Ok(frame)) => {
                if let Some(data) = frame.data_ref() {
                    head.extend_from_slice(data);
                }
            }
            _ => break,
        }
    }
    Bytes::from(head)
}

/// Reads the body with a hard cap, refusing a declared oversize before reading a byte.
pub async fn read_body<B>(headers: &HeaderMap, body: B, limit: usize) -> Result<Bytes, ReceiveError>
where
    B: hyper::body::Body<Data = Bytes>,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    if headers.contains_key(CONTENT_LENGTH) && headers.contains_key(TRANSFER_ENCODING) {
        return Err(ReceiveError::AmbiguousLength);
    }
    if let Some(len) = headers
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok())
    {
        if len > limit as u64 {
            return Err(ReceiveError::TooLarge { limit });
        }
    }
    match Limited::new(body, limit).collect().await {
        Ok(c) => Ok(c.to_bytes()),
        Err(e) if e.is::<http_body_util::LengthLimitError>() => {
            Err(ReceiveError::TooLarge { limit })
        }
        Err(e) => Err(ReceiveError::Read(e.to_string())),
    }
}

fn unquote(v: &str) -> &str {
    v.strip_prefix('"')
        .and_then(|v| v.strip_suffix('"'))
        .unwrap_or(v)
}

fn non_empty(v: &str) -> Option<String> {
    (!v.is_empty()).then(|| v.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    fn headers(ct: &str, action: Option<&str>) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(CONTENT_TYPE, HeaderValue::from_str(ct).unwrap());
        if let Some(a) = action {
            h.insert("SOAPAction", HeaderValue::from_str(a).unwrap());
        }
        h
    }

    #[test]
    fn soap11_action_from_header() {
        let s = soap_http(&headers("text/xml; charset=UTF-8", Some("\"urn:x\""))).unwrap();
        assert_eq!(s.version, SoapVersion::V11);
        assert_eq!(s.action.as_deref(), Some("urn:x"));
        let s = soap_http(&headers("text/xml", Some("\"\""))).unwrap();
        assert_eq!(s.action, None);
    }

    #[test]
    fn soap12_action_from_parameter() {
        let s = soap_http(&headers(
            "application/soap+xml;charset=utf-8;action=\"urn:y\"",
            None,
        ))
        .unwrap();
        assert_eq!(s.version, SoapVersion::V12);
        assert_eq!(s.action.as_deref(), Some("urn:y"));
    }

    #[test]
    fn refuses_other_types_and_charsets() {
        assert!(matches!(
            soap_http(&headers("application/json", None)),
            Err(ReceiveError::UnsupportedMediaType { .. })
        ));
        assert!(matches!(
            soap_http(&headers("text/xml; charset=iso-8859-1", None)),
            Err(ReceiveError::Charset(_))
        ));
        assert!(soap_http(&headers("text/xml; charset=US-ASCII", None)).is_ok());
        assert!(soap_http(&headers("application/soap+xml; charset=\"utf-8\"", None)).is_ok());
    }

    #[test]
    fn content_codings() {
        let with = |v: &[&str]| {
            let mut h = HeaderMap::new();
            for v in v {
                h.append(CONTENT_ENCODING, HeaderValue::from_str(v).unwrap());
            }
            content_coding(&h)
        };
        assert_eq!(with(&[]).unwrap(), Coding::Identity);
        assert_eq!(with(&["identity"]).unwrap(), Coding::Identity);
        assert_eq!(with(&["GZIP"]).unwrap(), Coding::Gzip);
        assert_eq!(with(&["x-gzip"]).unwrap(), Coding::Gzip);
        for bad in [
            &["br"][..],
            &["deflate"],
            &["gzip, gzip"],
            &["gzip", "gzip"],
            &["zstd"],
        ] {
            assert!(
                matches!(with(bad), Err(ReceiveError::UnsupportedEncoding(_))),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn sniffs_the_envelope_namespace() {
        let v12 = br#"<?xml version="1.0"?><e:Envelope xmlns:e="http://www.w3.org/2003/05/soap-envelope">"#;
        assert_eq!(sniff_version(v12), SoapVersion::V12);
        let v11 = br#"<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/" xmlns:e="http://www.w3.org/2003/05/soap-envelope">"#;
        assert_eq!(sniff_version(v11), SoapVersion::V11);
        assert_eq!(sniff_version(b"{\"json\": 1}"), SoapVersion::V11);
    }
}
