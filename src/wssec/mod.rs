//! WS-Security (OASIS WSS 1.1, X.509 Token Profile 1.1, XML-DSig) through libxmlsec1.
//!
//! All unsafe code and all signature policy live in this module behind a safe API:
//! [`Engine::caller`] turns a parsed request into a [`Caller`] (a [`Verified`] identity, or
//! under `dangerous_accept_unsigned` a [`Declared`] one),
//! [`Engine::check_replay`] refuses a second use of the same signature, [`Engine::sign`]
//! turns an envelope the gateway sends into signed bytes.
//!
//! - `caller`: [`Verified`] and [`Caller`], built here only, required by `authorise`.
//! - `config`: `[security]` and `[services.security]`.
//! - `ffi`: the only calls into libxmlsec1 (init, error routing, keys, locked-down context).
//! - `dom`: libxml2 tree, ID registration, duplicate IDs.
//! - `policy`: SignedInfo allow-list, before any cryptography.
//! - `token`: KeyInfo -> certificate.  `trust`: path validation, certificate -> agency.
//! - `timestamp`, `replay`: time and once-only; `horizon`: once-only across restarts of a
//!   node whose replay cache is in memory.
//! - `verify`, `sign`: the two directions.  `pki`: the development PKI.
//!
//! # What callers must send (for integrators)
//!
//! One `wsse:Security` header addressed to the gateway (no actor/role), holding a
//! `wsu:Timestamp` (Created, and Expires at most `max_ttl_secs` later if present; UTC
//! as `Z` or `+00:00`), the signing certificate as an X509v3
//! `wsse:BinarySecurityToken` (or a key identifier / issuer-serial naming a certificate
//! registered for the agency), and one `ds:Signature`: exclusive C14N, RSA-SHA256/384/512
//! or ECDSA-SHA256/384, SHA-256+ digests, references `#id` (by `wsu:Id` or `Id`) to the
//! Body and the Timestamp, plus any header the service's policy lists. The certificate
//! must chain to a configured CA (or be registered for the agency) and name exactly one
//! agency (see [`trust`]). Header blocks meant for the provider must be covered by the
//! signature too, or allowed by the service (`forward_unsigned_headers`): others are
//! dropped, and a message is refused if one of those is marked mustUnderstand
//! (`pipeline::headers`). Each signed message is accepted once: a retry after a refusal
//! must be signed again (new Timestamp, new signature), never re-sent byte for byte; so
//! must a message signed before the gateway restarted (see [`horizon`]).
//!
//! Known limit of exclusive C14N (W3C exc-c14n §3): a namespace prefix used only inside
//! text or attribute values (`xsi:type="p:T"`) is not covered unless the sender lists it
//! in `InclusiveNamespaces PrefixList`.

mod caller;
pub mod config;
pub mod dom;
mod ffi;
pub mod horizon;
pub mod pki;
pub mod policy;
pub mod replay;
pub mod sign;
pub mod timestamp;
pub mod token;
pub mod trust;
pub mod verify;

use std::path::Path;
use std::time::Duration;

use chrono::Utc;

use crate::config::Config;
use crate::model::AgencyCode;
use crate::problem::{Problem, Problems};
use crate::soap::envelope::Envelope;

pub use caller::{Caller, Declared, Verified};
pub use config::{SecurityConfig, ServicePolicy};
pub use sign::{SignOptions, Signer};

/// The WSS 1.1 §12 fault subcodes, one variant per code so the mapping is exhaustive.
#[derive(Debug, thiserror::Error)]
pub enum WssError {
    #[error("{0}")]
    InvalidSecurity(String),
    #[error("{0}")]
    InvalidSecurityToken(String),
    #[error("{0}")]
    FailedAuthentication(String),
    #[error("{0}")]
    FailedCheck(String),
    #[error("{0}")]
    SecurityTokenUnavailable(String),
    #[error("{0}")]
    MessageExpired(String),
    #[error("{0}")]
    UnsupportedAlgorithm(String),
    #[error("{0}")]
    UnsupportedSecurityToken(String),
    /// The same signed message was received before (WSS4J reports replays as
    /// `wsse:InvalidSecurity` too).
    #[error("{0}")]
    Replay(String),
    /// The replay cache could not be consulted (full, or Redis unreachable): fail closed.
    #[error("{0}")]
    ReplayCacheUnavailable(String),
    /// The gateway could not sign what it sends (its own key or library failed).
    #[error("signing failed: {0}")]
    Signing(String),
    /// A refusal caused by a library's own error (OpenSSL, libxmlsec1): `error` is what
    /// the caller is told; `detail`, the library's text, goes to the log and the audit
    /// record only ([`WssError::audit_reason`]), never into a fault.
    #[error("{error}")]
    Detailed {
        error: Box<WssError>,
        detail: String,
    },
}

impl WssError {
    /// Keeps a library's text beside the caller-facing error, for the audit record.
    pub fn with_detail(self, detail: impl Into<String>) -> WssError {
        WssError::Detailed {
            error: Box::new(self),
            detail: detail.into(),
        }
    }

    /// The error the caller is told about, without any library detail.
    pub fn kind(&self) -> &WssError {
        match self {
            WssError::Detailed { error, .. } => error.kind(),
            other => other,
        }
    }

    /// What the audit record and the log keep: the caller's reason, then the detail.
    pub fn audit_reason(&self) -> String {
        match self {
            WssError::Detailed { error, detail } => format!("{}: {detail}", error.audit_reason()),
            other => other.to_string(),
        }
    }
}

/// A signature to record once in the replay cache.
#[derive(Debug, Clone)]
pub struct ReplayTicket {
    pub key: String,
    pub ttl: Duration,
}

/// Whose signature an answer must carry.
pub enum Expect<'a> {
    /// A certificate of this agency (a provider's answer).
    Agency(&'a AgencyCode),
    /// Exactly this certificate (the gateway's answer, checked by `lienthong call`).
    Certificate(&'a openssl::x509::X509),
}

/// Keys, trust store and replay cache; built once at start-up, shared by all workers.
/// `Send + Sync`: libxml2/xmlsec objects are created per message on the calling thread.
pub struct Engine {
    signer: Signer,
    trust: trust::TrustStore,
    allowed: policy::Allowed,
    rules: timestamp::Rules,
    ttl: chrono::Duration,
    replay: replay::ReplayCache,
    /// Set by [`Engine::guard_restarts`] for a serving node with an in-memory cache.
    horizon: Option<horizon::Horizon>,
}

/// The consumer's Security header as forwarded to the provider when the service's policy
/// says so: addressed to the actor/role `urn:lienthong:consumer`, since WSS 1.1 §6.1 allows
/// only one Security header without an actor (the gateway's own). `None` when the header
/// already names an actor (it cannot be re-addressed without breaking well-formedness).
pub fn consumer_security_for_provider(
    env: &Envelope,
    block: &crate::soap::envelope::HeaderBlock,
) -> Option<Vec<u8>> {
    let doc = env.header_document(block);
    let start_tag_end = doc.iter().position(|&b| b == b'>')?;
    let start = String::from_utf8_lossy(&doc[..start_tag_end]);
    if start.contains("actor=") || start.contains("role=") {
        return None;
    }
    let attr = match env.version {
        crate::model::SoapVersion::V11 => "actor",
        crate::model::SoapVersion::V12 => "role",
    };
    Some(sign::insert_attributes(
        &doc,
        &format!(
            r#" xmlns:lt-env="{}" lt-env:{attr}="urn:lienthong:consumer""#,
            env.version.envelope_ns()
        ),
    ))
}

/// Default locations of the development PKI (`lienthong pki init`).
pub fn default_key(data_dir: &Path) -> std::path::PathBuf {
    data_dir.join("pki").join("gateway.key")
}

pub fn default_certificate(data_dir: &Path) -> std::path::PathBuf {
    data_dir.join("pki").join("gateway.crt")
}

pub fn default_ca(data_dir: &Path) -> std::path::PathBuf {
    data_dir.join("pki").join("ca.crt")
}

impl Engine {
    /// Loads the gateway key, the trust store and the replay cache; every problem is
    /// reported at once.
    pub fn load(config: &Config, data_dir: &Path) -> Result<Engine, Problems> {
        ffi::init();
        let sec = &config.security;
        let mut problems = Vec::new();
        let at = |m: String| Problem::file(&config.path, m);

        let mut ca = sec.trust_ca.clone();
        if ca.is_empty() && default_ca(data_dir).exists() {
            log::warn!(
                "[security] trust_ca is not set: trusting the development CA {} (development only)",
                default_ca(data_dir).display()
            );
            ca.push(default_ca(data_dir));
        }
        let trust = trust::TrustStore::load(&ca, &sec.crls, &config.agencies, &mut problems);

        let mut signature = Vec::new();
        for name in &sec.algorithms.signature {
            match config::SIGNATURE_ALGORITHMS.iter().find(|(n, _, _)| n == name) {
                Some((_, _, a)) => signature.push(*a),
                None => problems.push(at(format!(
                    "[security.algorithms] unknown signature algorithm `{name}` (HMAC is never accepted)"
                ))),
            }
        }
        let mut digest = Vec::new();
        for name in &sec.algorithms.digest {
            match config::DIGEST_ALGORITHMS.iter().find(|(n, _, _)| n == name) {
                Some((_, _, a)) => digest.push(*a),
                None => problems.push(at(format!(
                    "[security.algorithms] unknown digest algorithm `{name}`"
                ))),
            }
        }
        for s in &config.services {
            for h in &s.security.signed_headers {
                if config::parse_clark(h).is_none() {
                    problems.push(at(format!(
                        "service {}: signed_headers entry `{h}` is not {{namespace}}localName",
                        s.name
                    )));
                }
            }
        }
        if sec.max_ttl_secs == 0 {
            problems.push(at(
                "[security] max_ttl_secs must be at least 1 (it bounds Expires - Created)".into(),
            ));
        } else if sec.timestamp_ttl_secs > sec.max_ttl_secs {
            problems.push(at(format!(
                "[security] timestamp_ttl_secs ({}) exceeds max_ttl_secs ({}): a peer with the same limit would refuse the gateway's own messages",
                sec.timestamp_ttl_secs, sec.max_ttl_secs
            )));
        }
        let replay = match replay::ReplayCache::from_setting(&sec.replay, sec.replay_capacity) {
            Ok(r) => Some(r),
            Err(e) => {
                problems.push(at(format!("[security] {e}")));
                None
            }
        };

        let key = sec.key.clone().unwrap_or_else(|| default_key(data_dir));
        let cert = sec
            .certificate
            .clone()
            .unwrap_or_else(|| default_certificate(data_dir));
        let passphrase = match &sec.key_passphrase_env {
            Some(var) => match std::env::var(var) {
                Ok(v) => Some(v),
                Err(_) => {
                    problems.push(at(format!(
                        "[security] key_passphrase_env: the environment variable {var} is not set"
                    )));
                    None
                }
            },
            None => None,
        };
        let signer = if key.exists() || sec.key.is_some() {
            match Signer::load(
                &key,
                &cert,
                passphrase.as_deref().map(str::as_bytes),
                sec.sign_algorithm.as_deref(),
            ) {
                Ok(s) => Some(s),
                Err(e) => {
                    problems.push(Problem::file(&key, e));
                    None
                }
            }
        } else {
            problems.push(Problem::file(
                &key,
                "no gateway signing key: run `lienthong pki init` for a development PKI, or set [security] key and certificate",
            ));
            None
        };
        match (signer, replay) {
            (Some(signer), Some(replay)) if problems.is_empty() => Ok(Engine {
                signer,
                trust,
                allowed: policy::Allowed {
                    signature,
                    digest,
                    max_references: sec.max_references.max(2),
                },
                rules: timestamp::Rules {
                    skew: chrono::Duration::seconds(sec.clock_skew_secs as i64),
                    max_age: chrono::Duration::seconds(sec.max_age_secs as i64),
                    max_ttl: chrono::Duration::seconds(sec.max_ttl_secs.min(u32::MAX.into()) as i64),
                },
                ttl: chrono::Duration::seconds(sec.timestamp_ttl_secs.max(1) as i64),
                replay,
                horizon: None,
            }),
            _ => Err(Problems(problems)),
        }
    }

    /// For the node that serves: with an in-memory replay cache, refuse what an earlier run
    /// of this node may have accepted (see [`horizon`]), keeping the bound in `data_dir`.
    /// A Redis cache outlives the node and needs nothing. Commands that only verify or
    /// sign (`check`, `call`, `wss`) do not call this and write nothing.
    pub fn guard_restarts(&mut self, data_dir: &Path) -> Result<(), String> {
        if let replay::ReplayCache::Memory(_) = self.replay {
            self.horizon = Some(horizon::Horizon::open(
                data_dir,
                Utc::now(),
                self.rules.skew,
            )?);
        }
        Ok(())
    }

    fn context(&self) -> verify::Context<'_> {
        verify::Context {
            trust: &self.trust,
            allowed: &self.allowed,
            rules: self.rules,
            now: Utc::now(),
        }
    }

    /// Who is calling: the verified signer, or, only when `policy` has
    /// `dangerous_accept_unsigned` and the request carries no Security header for the
    /// gateway, the consumer `claimed` by the caller outside the signature (HTTP header).
    /// A request that is signed is always verified. Runs on a blocking thread; follow with
    /// [`Engine::check_replay`].
    pub fn caller(
        &self,
        policy: &ServicePolicy,
        envelope: &Envelope,
        claimed: Option<&AgencyCode>,
    ) -> Result<Caller, WssError> {
        use crate::xml::ns;
        let signed = envelope
            .headers
            .iter()
            .any(|h| h.targets_gateway && h.span.name.is(ns::WSSE, "Security"));
        if policy.dangerous_accept_unsigned && !signed {
            return match claimed {
                Some(c) => Ok(Caller::Declared(Declared::dangerous_from_header(c.clone()))),
                None => Err(WssError::InvalidSecurity(
                    "no consumer agency named (X-Lienthong-Consumer header)".into(),
                )),
            };
        }
        self.verify(policy, envelope).map(Caller::Verified)
    }

    /// Verifies the request's signature per `policy` (signed headers it requires); an
    /// unsigned request is refused whatever the policy says. Runs on a blocking thread;
    /// follow with [`Engine::check_replay`].
    pub fn verify(
        &self,
        policy: &ServicePolicy,
        envelope: &Envelope,
    ) -> Result<Verified, WssError> {
        let checked = verify::verify(
            &self.context(),
            &envelope.bytes,
            envelope.version,
            Some(&envelope.payload.name),
            &policy.signed_header_names(),
        )?;
        let consumer = checked.identity.agency.clone().ok_or_else(|| {
            WssError::FailedAuthentication(
                "the signing certificate does not identify an agency of this gateway".into(),
            )
        })?;
        if let Some(h) = &self.horizon {
            // Before anything can be forwarded: recorded on disk, or refused as seen by an
            // earlier run of this node.
            h.admit(checked.created, Utc::now())?;
        }
        Ok(Verified::new(
            consumer,
            checked.identity.fingerprint,
            checked.identity.subject,
            ReplayTicket {
                key: checked.replay_key,
                ttl: checked.retention,
            },
            checked.body_id,
            checked.signed_headers,
        ))
    }

    /// Verifies a whole signed envelope (either SOAP version) without the gateway's byte
    /// scan: for `lienthong wss verify` and for tests that feed the DOM checks directly.
    /// Returns the signer's identity and the replay ticket.
    pub fn verify_document(
        &self,
        bytes: &[u8],
    ) -> Result<(trust::CertIdentity, ReplayTicket), WssError> {
        let text = String::from_utf8_lossy(&bytes[..bytes.len().min(4096)]).into_owned();
        let version = if text.contains(crate::xml::ns::SOAP12_ENV)
            && !text.contains(crate::xml::ns::SOAP11_ENV)
        {
            crate::model::SoapVersion::V12
        } else {
            crate::model::SoapVersion::V11
        };
        let checked = verify::verify(&self.context(), bytes, version, None, &[])?;
        Ok((
            checked.identity,
            ReplayTicket {
                key: checked.replay_key,
                ttl: checked.retention,
            },
        ))
    }

    /// Records the verified signature once; a second use is [`WssError::Replay`].
    pub async fn check_replay(&self, ticket: &ReplayTicket) -> Result<(), WssError> {
        self.replay.insert_once(&ticket.key, ticket.ttl).await
    }

    /// Verifies a signed answer (provider's, or the gateway's for `lienthong call`).
    pub fn verify_answer(
        &self,
        envelope: &Envelope,
        expect: Expect<'_>,
    ) -> Result<trust::CertIdentity, WssError> {
        let checked = verify::verify(
            &self.context(),
            &envelope.bytes,
            envelope.version,
            Some(&envelope.payload.name),
            &[],
        )?;
        let ok = match expect {
            Expect::Agency(code) => checked.identity.agency.as_ref() == Some(code),
            Expect::Certificate(c) => trust::fingerprint(c) == checked.identity.fingerprint,
        };
        if !ok {
            return Err(WssError::FailedAuthentication(
                "the answer is not signed by the expected party".into(),
            ));
        }
        Ok(checked.identity)
    }

    /// Signs an envelope the gateway sends (to a provider, or back to a consumer).
    pub fn sign(&self, envelope: Vec<u8>) -> Result<Vec<u8>, WssError> {
        self.signer
            .sign(&envelope, &SignOptions::default(), self.ttl)
    }

    /// Signs with options (e.g. keeping the consumer's Body `wsu:Id`).
    pub fn sign_with(&self, envelope: &[u8], opts: &SignOptions) -> Result<Vec<u8>, WssError> {
        self.signer.sign(envelope, opts, self.ttl)
    }

    /// The gateway's certificate.
    pub fn certificate(&self) -> &openssl::x509::X509 {
        self.signer.certificate()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn engine_is_send_and_sync() {
        fn check<T: Send + Sync>() {}
        check::<Engine>();
    }
}
