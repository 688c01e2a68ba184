//! `[security]` (gateway-wide) and `[services.security]` (per service) in `gateway.toml`.
//!
//! Paths left unset default to the development PKI under `DATA_DIR/pki/` (made by
//! `lienthong pki init`); a production gateway names its own key, certificate and CAs.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::ffi::{DigestAlg, SigAlg};
use crate::xml::{ns, wellformed, QName};

/// `[security]` in `gateway.toml`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SecurityConfig {
    /// The gateway's private key (PEM, RSA or EC; PKCS#8 or traditional, optionally
    /// encrypted). Default: `DATA_DIR/pki/gateway.key`.
    pub key: Option<PathBuf>,
    /// The gateway's certificate (PEM), sent as a BinarySecurityToken in everything it signs.
    /// Default: `DATA_DIR/pki/gateway.crt`.
    pub certificate: Option<PathBuf>,
    /// Name of the environment variable holding the key's passphrase, when it is encrypted.
    pub key_passphrase_env: Option<String>,
    /// CA certificates (PEM files, several certificates each allowed) that agency
    /// certificates must chain to. Default: `DATA_DIR/pki/ca.crt` when it exists.
    /// Certificates listed under `agencies[].certificates` are trusted as pinned leaves.
    pub trust_ca: Vec<PathBuf>,
    /// CRL files (PEM); when any is given, every certificate in a chain must be covered by
    /// a CRL from its issuer (OpenSSL CRL_CHECK_ALL).
    pub crls: Vec<PathBuf>,
    /// Tolerated clock difference with callers, seconds (WSS4J's future TTL is 60 s; the
    /// issue asks for 300 s by default).
    pub clock_skew_secs: u64,
    /// Oldest accepted message: `now - Created` may not exceed this (plus the skew).
    pub max_age_secs: u64,
    /// Longest lifetime (Expires - Created) of a caller's Timestamp; longer ones are
    /// refused, so that no signature stays valid (and in the replay cache) for days.
    pub max_ttl_secs: u64,
    /// Lifetime of the Timestamps the gateway writes (Expires - Created).
    pub timestamp_ttl_secs: u64,
    /// Replay cache: `"memory"` (one node) or a Redis URL (`redis://127.0.0.1:6379/0`) shared
    /// by every node behind the load balancer.
    pub replay: String,
    /// Most signatures the in-memory cache remembers; a full cache refuses (fail closed).
    pub replay_capacity: usize,
    /// Signature and digest algorithms accepted from callers (short names, see below).
    pub algorithms: Algorithms,
    /// Most `ds:Reference`s in one SignedInfo (Body + Timestamp + a few headers).
    pub max_references: usize,
    /// Signature algorithm of the gateway's own signatures: `"rsa-sha256"` (default for an
    /// RSA key; older Java stacks cannot check EC signatures) or `"ecdsa-sha256"` (EC key).
    pub sign_algorithm: Option<String>,
}

impl Default for SecurityConfig {
    fn default() -> Self {
        Self {
            key: None,
            certificate: None,
            key_passphrase_env: None,
            trust_ca: Vec::new(),
            crls: Vec::new(),
            clock_skew_secs: 300,
            max_age_secs: 300,
            max_ttl_secs: 3600,
            timestamp_ttl_secs: 300,
            replay: "memory".into(),
            replay_capacity: 100_000,
            algorithms: Algorithms::default(),
            max_references: 8,
            sign_algorithm: None,
        }
    }
}

/// `[security.algorithms]`: short names, `rsa-sha256 rsa-sha384 rsa-sha512 ecdsa-sha256
/// ecdsa-sha384` and `sha256 sha384 sha512`. `rsa-sha1` and `sha1` exist for legacy peers
/// and must be listed explicitly; HMAC is never accepted (CVE-2009-0217, and a shared key
/// cannot identify an agency).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Algorithms {
    pub signature: Vec<String>,
    pub digest: Vec<String>,
}

impl Default for Algorithms {
    fn default() -> Self {
        Self {
            signature: [
                "rsa-sha256",
                "rsa-sha384",
                "rsa-sha512",
                "ecdsa-sha256",
                "ecdsa-sha384",
            ]
            .map(String::from)
            .to_vec(),
            digest: ["sha256", "sha384", "sha512"].map(String::from).to_vec(),
        }
    }
}

/// Algorithm URIs (XML-DSig, RFC 4051, RFC 6931) and their xmlsec classes.
pub const SIGNATURE_ALGORITHMS: &[(&str, &str, SigAlg)] = &[
    (
        "rsa-sha256",
        "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256",
        SigAlg::RsaSha256,
    ),
    (
        "rsa-sha384",
        "http://www.w3.org/2001/04/xmldsig-more#rsa-sha384",
        SigAlg::RsaSha384,
    ),
    (
        "rsa-sha512",
        "http://www.w3.org/2001/04/xmldsig-more#rsa-sha512",
        SigAlg::RsaSha512,
    ),
    (
        "ecdsa-sha256",
        "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256",
        SigAlg::EcdsaSha256,
    ),
    (
        "ecdsa-sha384",
        "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha384",
        SigAlg::EcdsaSha384,
    ),
    (
        "rsa-sha1",
        "http://www.w3.org/2000/09/xmldsig#rsa-sha1",
        SigAlg::RsaSha1,
    ),
];

pub const DIGEST_ALGORITHMS: &[(&str, &str, DigestAlg)] = &[
    (
        "sha256",
        "http://www.w3.org/2001/04/xmlenc#sha256",
        DigestAlg::Sha256,
    ),
    (
        "sha384",
        "http://www.w3.org/2001/04/xmldsig-more#sha384",
        DigestAlg::Sha384,
    ),
    (
        "sha512",
        "http://www.w3.org/2001/04/xmlenc#sha512",
        DigestAlg::Sha512,
    ),
    (
        "sha1",
        "http://www.w3.org/2000/09/xmldsig#sha1",
        DigestAlg::Sha1,
    ),
];

impl SecurityConfig {
    pub fn resolve_paths(&mut self, base: &Path) {
        let resolve = |p: &Path| {
            if p.is_absolute() {
                p.to_path_buf()
            } else {
                base.join(p)
            }
        };
        self.key = self.key.as_deref().map(resolve);
        self.certificate = self.certificate.as_deref().map(resolve);
        self.trust_ca = self.trust_ca.iter().map(|p| resolve(p)).collect();
        self.crls = self.crls.iter().map(|p| resolve(p)).collect();
    }
}

/// Per-service security policy (`[services.security]`). By default every request must carry
/// a WS-Security signature over its Body and Timestamp by a trusted agency certificate.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ServicePolicy {
    /// Header blocks that must be present and covered by the caller's signature, in Clark
    /// notation: `"{http://www.w3.org/2005/08/addressing}MessageID"`.
    pub signed_headers: Vec<String>,
    /// Header blocks forwarded to the provider although the caller's signature does not
    /// cover them, in Clark notation (`"{urn:ns}Local"`). Every other unsigned block is
    /// dropped (a `mustUnderstand` one refused), since the gateway signs what it forwards.
    #[serde(deserialize_with = "clark_names")]
    pub forward_unsigned_headers: Vec<QName>,
    /// Forward the consumer's own Security header to the provider (the provider can then
    /// check the consumer's signature too); by default it is removed and only the gateway's
    /// signature travels on. Only meaningful without a request mapping.
    pub forward_consumer_security: bool,
    /// Verify the provider's answer: signed by a certificate of the provider agency.
    pub verify_provider_answer: bool,
    /// Accept calls without a WS-Security signature, taking the consumer from the
    /// `X-Lienthong-Consumer` HTTP header. Never for production: anyone can claim any agency.
    pub dangerous_accept_unsigned: bool,
    /// Sign what is forwarded to the provider (default). Off only for a provider that
    /// cannot take a WS-Security header at all; it then trusts the network, not the gateway.
    pub sign_forwarded: bool,
    /// Sign every answer returned to the consumer, faults included (default). Off only for
    /// consumers that cannot process a Security header in answers (plain pass-through).
    pub sign_answers: bool,
}

impl Default for ServicePolicy {
    fn default() -> Self {
        Self {
            signed_headers: Vec::new(),
            forward_unsigned_headers: Vec::new(),
            forward_consumer_security: false,
            verify_provider_answer: false,
            dangerous_accept_unsigned: false,
            sign_forwarded: true,
            sign_answers: true,
        }
    }
}

impl ServicePolicy {
    /// The listed headers as (namespace, local name); malformed entries are reported by
    /// `Engine::load`.
    pub fn signed_header_names(&self) -> Vec<(String, String)> {
        self.signed_headers
            .iter()
            .filter_map(|s| parse_clark(s))
            .collect()
    }
}

/// `forward_unsigned_headers`: each entry `{namespace}localName`, never a block the gateway
/// writes itself (its `Security` header, its own namespace). A bad entry is refused with
/// the line of the setting.
fn clark_names<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<QName>, D::Error> {
    use serde::de::Error;
    let mut out = Vec::new();
    for s in Vec::<String>::deserialize(d)? {
        let (ns_uri, local) = parse_clark(&s)
            .filter(|(_, l)| wellformed::is_ncname(l))
            .ok_or_else(|| {
                D::Error::custom(format!(
                    "forward_unsigned_headers: `{s}` is not {{namespace}}localName"
                ))
            })?;
        let name = QName::new(ns_uri, local);
        if name.is(ns::WSSE, "Security") || name.ns == ns::LIENTHONG {
            return Err(D::Error::custom(format!(
                "forward_unsigned_headers: `{s}` is the gateway's own; it is never taken from a caller"
            )));
        }
        out.push(name);
    }
    Ok(out)
}

pub fn parse_clark(s: &str) -> Option<(String, String)> {
    let rest = s.strip_prefix('{')?;
    let (ns, local) = rest.split_once('}')?;
    (!local.is_empty() && !local.contains(['{', '}', ' ']))
        .then(|| (ns.to_string(), local.to_string()))
}
