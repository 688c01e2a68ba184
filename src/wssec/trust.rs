//! Which certificates the gateway trusts, and which agency each one speaks for.
//!
//! Trust (docs/SECURITY.md, R11): OpenSSL path validation against the configured CA
//! certificates, with agency certificates registered in `gateway.toml` added as pinned
//! anchors (`X509_V_FLAG_PARTIAL_CHAIN`); validity dates; CRLs when configured; then our own
//! checks: digitalSignature usage, clientAuth if an EKU is present, not a CA, RSA >= 2048 or
//! EC P-256/384/521, not signed with SHA-1/MD5.
//!
//! Identity: a certificate maps to exactly one agency code, by this rule:
//! 1. a certificate registered under `agencies[].certificates` (same SHA-256 fingerprint)
//!    belongs to that agency;
//! 2. otherwise the agency codes of `gateway.toml` that appear as a whole token in the
//!    subject's serialNumber, CN or OU attributes; exactly one distinct code must appear.
//!
//! A name alone is never trusted: rule 2 applies only to certificates that passed path
//! validation against a configured CA.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use openssl::hash::MessageDigest;
use openssl::nid::Nid;
use openssl::pkey::Id;
use openssl::stack::Stack;
use openssl::x509::store::{X509Lookup, X509Store, X509StoreBuilder};
use openssl::x509::verify::X509VerifyFlags;
use openssl::x509::{X509StoreContext, X509VerifyResult, X509};

use super::WssError;
use crate::model::AgencyCode;
use crate::problem::Problem;

/// A certificate registered for an agency in `gateway.toml`.
struct Registered {
    agency: AgencyCode,
    cert: X509,
    sha256: Vec<u8>,
    sha1: Vec<u8>,
    ski: Option<Vec<u8>>,
    issuer: Vec<(String, String)>,
    serial: String,
}

/// The identity a verified certificate establishes.
#[derive(Debug, Clone)]
pub struct CertIdentity {
    /// `None` for a trusted certificate that names no configured agency (the gateway's own).
    pub agency: Option<AgencyCode>,
    /// SHA-256 of the DER certificate, lowercase hex.
    pub fingerprint: String,
    pub subject: String,
}

pub struct TrustStore {
    store: X509Store,
    registered: Vec<Registered>,
    codes: Vec<AgencyCode>,
    /// Certificates that passed [`TrustStore::validate`] recently, by their exact DER
    /// bytes: parsing (~100 µs with OpenSSL 3: docs/LIBRARIES.md) and path validation are skipped
    /// for repeat callers, never the signature check. Successes only; an entry lives at
    /// most [`CACHE_TTL`], never past the certificate's notAfter, and never past this
    /// store (a reload builds a new one, so new CAs and CRLs apply at once).
    cache: Mutex<HashMap<Box<[u8]>, Cached>>,
}

struct Cached {
    cert: X509,
    identity: CertIdentity,
    until: Instant,
}

const CACHE_TTL: Duration = Duration::from_secs(60);
const CACHE_MAX: usize = 4096;

pub fn fingerprint(cert: &X509) -> String {
    cert.digest(MessageDigest::sha256())
        .map(hex::encode)
        .unwrap_or_default()
}

pub fn subject_line(cert: &X509) -> String {
    name_pairs(cert.subject_name())
        .into_iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn name_pairs(name: &openssl::x509::X509NameRef) -> Vec<(String, String)> {
    name.entries()
        .map(|e| {
            let key = e
                .object()
                .nid()
                .short_name()
                .map(str::to_string)
                .unwrap_or_else(|_| e.object().to_string());
            let value = e.data().to_string().unwrap_or_default();
            (normalise_key(&key), value)
        })
        .collect()
}

/// RFC 2253/4514 attribute types as clients spell them, to one form.
fn normalise_key(k: &str) -> String {
    let k = k.trim().to_ascii_uppercase();
    match k.as_str() {
        "2.5.4.5" | "SERIALNUMBER" => "SERIALNUMBER".into(),
        "S" | "ST" | "2.5.4.8" => "ST".into(),
        "E" | "EMAILADDRESS" | "1.2.840.113549.1.9.1" => "EMAILADDRESS".into(),
        "2.5.4.3" => "CN".into(),
        "2.5.4.10" => "O".into(),
        "2.5.4.11" => "OU".into(),
        "2.5.4.6" => "C".into(),
        "2.5.4.7" => "L".into(),
        _ => k,
    }
}

/// Parses an RFC 2253 distinguished name (as in `ds:X509IssuerName`) into sorted pairs.
pub fn parse_dn(s: &str) -> Vec<(String, String)> {
    let mut parts = Vec::new();
    let mut cur = String::new();
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                if let Some(n) = chars.next() {
                    cur.push(n);
                }
            }
            ',' | ';' | '+' => parts.push(std::mem::take(&mut cur)),
            _ => cur.push(c),
        }
    }
    parts.push(cur);
    let mut out: Vec<(String, String)> = parts
        .iter()
        .filter_map(|p| p.split_once('='))
        .map(|(k, v)| (normalise_key(k), v.trim().trim_matches('"').to_string()))
        .collect();
    out.sort();
    out
}

fn load_pems(path: &Path) -> Result<Vec<X509>, String> {
    let pem = std::fs::read(path).map_err(|e| format!("cannot read: {e}"))?;
    X509::stack_from_pem(&pem).map_err(|e| format!("not a PEM certificate: {e}"))
}

impl TrustStore {
    /// Builds the store; problems are reported per file.
    pub fn load(
        ca_files: &[std::path::PathBuf],
        crl_files: &[std::path::PathBuf],
        agencies: &[crate::config::Agency],
        problems: &mut Vec<Problem>,
    ) -> TrustStore {
        let mut builder = X509StoreBuilder::new().expect("X509 store");
        for f in ca_files {
            match load_pems(f) {
                Ok(certs) => {
                    for c in certs {
                        if let Err(e) = builder.add_cert(c) {
                            problems.push(Problem::file(f, format!("cannot add CA: {e}")));
                        }
                    }
                }
                Err(e) => problems.push(Problem::file(f, e)),
            }
        }
        let mut registered = Vec::new();
        let mut seen: HashMap<Vec<u8>, AgencyCode> = HashMap::new();
        for a in agencies {
            for f in &a.certificates {
                let certs = match load_pems(f) {
                    Ok(c) => c,
                    Err(e) => {
                        problems.push(Problem::file(f, e));
                        continue;
                    }
                };
                for cert in certs {
                    let sha256 = cert
                        .digest(MessageDigest::sha256())
                        .map(|d| d.to_vec())
                        .unwrap_or_default();
                    if let Some(other) = seen.get(&sha256) {
                        if other != &a.code {
                            problems.push(Problem::file(
                                f,
                                format!(
                                    "certificate registered for both {other} and {}: a certificate must map to exactly one agency",
                                    a.code
                                ),
                            ));
                        }
                        continue;
                    }
                    seen.insert(sha256.clone(), a.code.clone());
                    let sha1 = cert
                        .digest(MessageDigest::sha1())
                        .map(|d| d.to_vec())
                        .unwrap_or_default();
                    let ski = cert.subject_key_id().map(|s| s.as_slice().to_vec());
                    let mut issuer = name_pairs(cert.issuer_name());
                    issuer.sort();
                    let serial = cert
                        .serial_number()
                        .to_bn()
                        .and_then(|b| b.to_dec_str().map(|s| s.to_string()))
                        .unwrap_or_default();
                    if let Err(e) = builder.add_cert(cert.clone()) {
                        problems.push(Problem::file(f, format!("cannot pin: {e}")));
                    }
                    registered.push(Registered {
                        agency: a.code.clone(),
                        cert,
                        sha256,
                        sha1,
                        ski,
                        issuer,
                        serial,
                    });
                }
            }
        }
        // Registered agency certificates are anchors of their own (pinning).
        let mut flags = X509VerifyFlags::PARTIAL_CHAIN;
        if !crl_files.is_empty() {
            flags |= X509VerifyFlags::CRL_CHECK | X509VerifyFlags::CRL_CHECK_ALL;
            match builder.add_lookup(X509Lookup::file()) {
                Ok(lookup) => {
                    for f in crl_files {
                        if let Err(e) = lookup.load_crl_file(f, openssl::ssl::SslFiletype::PEM) {
                            problems.push(Problem::file(f, format!("not a PEM CRL: {e}")));
                        }
                    }
                }
                Err(e) => problems.push(Problem::file(
                    &crl_files[0],
                    format!("cannot load CRLs: {e}"),
                )),
            }
        }
        let _ = builder.set_flags(flags);
        TrustStore {
            store: builder.build(),
            registered,
            codes: agencies.iter().map(|a| a.code.clone()).collect(),
            cache: Mutex::new(HashMap::new()),
        }
    }

    /// The certificate of a token, validated (through the cache) with its identity.
    pub fn check(&self, token: super::token::Token) -> Result<(X509, CertIdentity), WssError> {
        use super::token::Token;
        let (der, registered) = match token {
            Token::Der(d) => (d, None),
            Token::Registered(c) => (
                c.to_der().map_err(|e| {
                    WssError::InvalidSecurityToken(
                        "the registered certificate cannot be encoded".into(),
                    )
                    .with_detail(e.to_string())
                })?,
                Some(c),
            ),
        };
        let now = Instant::now();
        {
            let cache = self.cache.lock().unwrap_or_else(|p| p.into_inner());
            if let Some(c) = cache.get(der.as_slice()) {
                if c.until > now {
                    return Ok((c.cert.clone(), c.identity.clone()));
                }
            }
        }
        let cert = match registered {
            Some(c) => c,
            None => X509::from_der(&der).map_err(|e| {
                WssError::InvalidSecurityToken("the token is not an X.509 certificate".into())
                    .with_detail(e.to_string())
            })?,
        };
        let identity = self.validate(&cert)?;
        let left = openssl::asn1::Asn1Time::days_from_now(0)
            .and_then(|n| n.diff(cert.not_after()))
            .map(|d| Duration::from_secs((d.days.max(0) as u64) * 86_400 + d.secs.max(0) as u64))
            .unwrap_or_default();
        let mut cache = self.cache.lock().unwrap_or_else(|p| p.into_inner());
        if cache.len() >= CACHE_MAX {
            cache.clear();
        }
        cache.insert(
            der.into_boxed_slice(),
            Cached {
                cert: cert.clone(),
                identity: identity.clone(),
                until: now + CACHE_TTL.min(left),
            },
        );
        Ok((cert, identity))
    }

    /// A registered certificate by its SHA-1 thumbprint (WSS X.509 Token Profile 1.1 §3.2).
    pub fn by_thumbprint(&self, sha1: &[u8]) -> Option<X509> {
        self.registered
            .iter()
            .find(|r| r.sha1 == sha1)
            .map(|r| r.cert.clone())
    }

    /// A registered certificate by its X509SubjectKeyIdentifier.
    pub fn by_ski(&self, ski: &[u8]) -> Option<X509> {
        self.registered
            .iter()
            .find(|r| r.ski.as_deref() == Some(ski))
            .map(|r| r.cert.clone())
    }

    /// A registered certificate by issuer DN (RFC 2253 text) and decimal serial number.
    pub fn by_issuer_serial(&self, issuer: &str, serial: &str) -> Option<X509> {
        let issuer = parse_dn(issuer);
        let serial = serial.trim().trim_start_matches('0');
        self.registered
            .iter()
            .find(|r| r.issuer == issuer && r.serial.trim_start_matches('0') == serial)
            .map(|r| r.cert.clone())
    }

    /// Path validation and certificate policy; then the identity the certificate carries.
    pub fn validate(&self, cert: &X509) -> Result<CertIdentity, WssError> {
        let fail = |m: String| WssError::FailedAuthentication(m);
        let unchecked = |e: openssl::error::ErrorStack| {
            fail("the signing certificate could not be checked".into()).with_detail(e.to_string())
        };
        let chain = Stack::new().map_err(unchecked)?;
        let mut ctx = X509StoreContext::new().map_err(unchecked)?;
        let result = ctx
            .init(&self.store, cert, &chain, |c| {
                Ok((c.verify_cert()?, c.error()))
            })
            .map_err(unchecked)?;
        if !result.0 {
            return Err(untrusted(result.1));
        }
        check_policy(cert)?;
        let fingerprint = fingerprint(cert);
        let subject = subject_line(cert);
        let sha256 = hex::decode(&fingerprint).unwrap_or_default();
        if let Some(r) = self.registered.iter().find(|r| r.sha256 == sha256) {
            return Ok(CertIdentity {
                agency: Some(r.agency.clone()),
                fingerprint,
                subject,
            });
        }
        let mut found: Vec<&AgencyCode> = Vec::new();
        for (key, value) in name_pairs(cert.subject_name()) {
            if !matches!(key.as_str(), "SERIALNUMBER" | "CN" | "OU") {
                continue;
            }
            for token in value.split(|c: char| !(c.is_ascii_alphanumeric() || c == '.')) {
                if let Some(code) = self.codes.iter().find(|c| c.as_str() == token) {
                    if !found.contains(&code) {
                        found.push(code);
                    }
                }
            }
        }
        let agency = match found.len() {
            0 => None,
            1 => Some(found[0].clone()),
            _ => {
                return Err(fail(
                    "the signing certificate names more than one agency".into(),
                ))
            }
        };
        Ok(CertIdentity {
            agency,
            fingerprint,
            subject,
        })
    }
}

/// Why path validation failed, in words a caller can act on. OpenSSL's own text is kept
/// for the audit record only when these words do not already say it.
fn untrusted(r: X509VerifyResult) -> WssError {
    // X509_V_ERR_* codes of OpenSSL's <openssl/x509_vfy.h>, unchanged since 0.9.8.
    let why =
        match r.as_raw() {
            9 => "it is not valid yet",
            10 => "it has expired",
            23 => "it has been revoked",
            3 => "no CRL of its issuer is configured",
            11 | 12 => "its issuer's CRL is not current",
            2 | 18 | 19 | 20 | 21 | 27 => "it does not chain to a trusted CA",
            7 => "its issuer's signature on it does not verify",
            _ => return WssError::FailedAuthentication(
                "the signing certificate is not trusted: its certificate path does not validate"
                    .into(),
            )
            .with_detail(format!("OpenSSL: {}", r.error_string())),
        };
    WssError::FailedAuthentication(format!("the signing certificate is not trusted: {why}"))
}

/// docs/SECURITY.md R11, beyond what OpenSSL's path validation checks.
fn check_policy(cert: &X509) -> Result<(), WssError> {
    let bad = |m: &str| Err(WssError::InvalidSecurityToken(m.to_string()));
    if super::ffi::is_ca(cert) {
        return bad("a CA certificate cannot sign messages");
    }
    if let Some(ku) = cert.key_usage() {
        if !ku.contains(openssl::x509::X509KeyUsage::DIGITAL_SIGNATURE) {
            return bad("the certificate's key usage does not include digitalSignature");
        }
    }
    if let Some(eku) = cert.extended_key_usage() {
        use openssl::x509::X509ExtendedKeyUsage as E;
        if !(eku.contains(E::SSL_CLIENT) || eku.contains(E::ANYEKU)) {
            return bad("the certificate's extended key usage does not include clientAuth");
        }
    }
    let sig_nid = cert.signature_algorithm().object().nid();
    if matches!(
        sig_nid,
        Nid::SHA1WITHRSAENCRYPTION
            | Nid::MD5WITHRSAENCRYPTION
            | Nid::ECDSA_WITH_SHA1
            | Nid::MD5WITHRSA
            | Nid::SHA1WITHRSA
            | Nid::DSAWITHSHA1
    ) {
        return bad("the certificate is signed with SHA-1 or MD5");
    }
    let key = cert.public_key().map_err(|e| {
        WssError::InvalidSecurityToken("the certificate's key cannot be used".into())
            .with_detail(e.to_string())
    })?;
    match key.id() {
        Id::RSA => {
            if key.bits() < 2048 {
                return bad("RSA keys shorter than 2048 bits are not accepted");
            }
        }
        Id::EC => {
            if key.bits() < 256 {
                return bad("EC keys below P-256 are not accepted");
            }
        }
        _ => return bad("only RSA and EC certificates are accepted"),
    }
    Ok(())
}
