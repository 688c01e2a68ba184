//! Auditor authentication: bearer tokens whose SHA-256 is configured in
//! `[[audit.auditors]]`, or TLS client certificates (verified in the handshake against
//! `[audit] api_client_ca`) whose SHA-256 fingerprint is listed there. A request passes with
//! either; no anonymous access to any record, and a certificate that verifies but is not
//! listed authenticates nobody.

use sha2::{Digest, Sha256};

use crate::audit::Auditor;

#[derive(Debug, Clone, Default)]
pub struct Tokens {
    /// (auditor name, SHA-256 of the token).
    known: Vec<(String, [u8; 32])>,
    /// (auditor name, SHA-256 of the client certificate's DER).
    certificates: Vec<(String, [u8; 32])>,
}

/// SHA-256 of the verified client certificate of a TLS connection (DER), put in each
/// request's extensions by the listener.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PeerCertificate(pub [u8; 32]);

fn digest32(hex_digits: &str) -> Option<[u8; 32]> {
    let clean: String = hex_digits
        .chars()
        .filter(|c| *c != ':' && !c.is_whitespace())
        .collect();
    hex::decode(clean).ok().and_then(|v| v.try_into().ok())
}

impl Tokens {
    /// From the configuration; entries whose hash is not 64 hex digits are reported.
    pub fn from_config(auditors: &[Auditor]) -> Result<Tokens, String> {
        let mut t = Tokens::default();
        for a in auditors {
            match (&a.token_sha256, &a.certificate_sha256) {
                (Some(tok), None) => {
                    let h = digest32(tok).ok_or_else(|| {
                        format!(
                            "[[audit.auditors]] {}: token_sha256 must be 64 hex digits",
                            a.name
                        )
                    })?;
                    t.known.push((a.name.clone(), h));
                }
                (None, Some(cert)) => {
                    let h = digest32(cert).ok_or_else(|| {
                        format!(
                            "[[audit.auditors]] {}: certificate_sha256 must be 64 hex digits",
                            a.name
                        )
                    })?;
                    t.certificates.push((a.name.clone(), h));
                }
                _ => {
                    return Err(format!(
                        "[[audit.auditors]] {}: give exactly one of token_sha256 and \
                         certificate_sha256",
                        a.name
                    ))
                }
            }
        }
        Ok(t)
    }

    /// No auditor of either kind is configured.
    pub fn is_empty(&self) -> bool {
        self.known.is_empty() && self.certificates.is_empty()
    }

    /// Some auditor is identified by a client certificate.
    pub fn has_certificates(&self) -> bool {
        !self.certificates.is_empty()
    }

    /// The auditor of a request: its bearer token, or else its verified client certificate.
    pub fn authorise(
        &self,
        authorization: Option<&str>,
        peer: Option<&PeerCertificate>,
    ) -> Option<&str> {
        self.check(authorization)
            .or_else(|| self.check_certificate(peer?))
    }

    /// The auditor a verified client certificate (by fingerprint) belongs to.
    pub fn check_certificate(&self, peer: &PeerCertificate) -> Option<&str> {
        let mut who = None;
        for (name, k) in &self.certificates {
            if openssl::memcmp::eq(k, &peer.0) && who.is_none() {
                who = Some(name.as_str());
            }
        }
        who
    }

    /// Adds a fresh random token for `name`; returns the token (shown once, never stored).
    pub fn add_generated(&mut self, name: &str) -> String {
        let token = generate();
        self.known
            .push((name.to_string(), Sha256::digest(token.as_bytes()).into()));
        token
    }

    /// The auditor an `Authorization` header value belongs to.
    pub fn check(&self, authorization: Option<&str>) -> Option<&str> {
        let token = authorization?.strip_prefix("Bearer ")?.trim();
        if token.is_empty() || token.len() > 512 {
            return None;
        }
        let h: [u8; 32] = Sha256::digest(token.as_bytes()).into();
        // Compare every entry in constant time (no early exit on the first match).
        let mut who = None;
        for (name, k) in &self.known {
            if openssl::memcmp::eq(k, &h) && who.is_none() {
                who = Some(name.as_str());
            }
        }
        who
    }
}

/// A new token: 32 random bytes, base64url.
pub fn generate() -> String {
    use base64::Engine as _;
    let mut b = [0u8; 32];
    openssl::rand::rand_bytes(&mut b).expect("OpenSSL random bytes");
    format!(
        "lta_{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b)
    )
}

/// Hex SHA-256 of a token, as `[[audit.auditors]] token_sha256` takes it.
pub fn hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_configured_tokens_pass() {
        let tok = generate();
        let t = Tokens::from_config(&[Auditor {
            name: "thanh-tra".into(),
            token_sha256: Some(hash(&tok)),
            ..Auditor::default()
        }])
        .unwrap();
        assert_eq!(t.check(Some(&format!("Bearer {tok}"))), Some("thanh-tra"));
        assert_eq!(t.check(Some("Bearer nope")), None);
        assert_eq!(t.check(Some(&tok)), None);
        assert_eq!(t.check(None), None);
        assert!(Tokens::from_config(&[Auditor {
            name: "x".into(),
            token_sha256: Some("abc".into()),
            ..Auditor::default()
        }])
        .is_err());
    }

    #[test]
    fn token_or_listed_certificate_and_nothing_else() {
        let tok = generate();
        let listed = [7u8; 32];
        let colons = listed
            .iter()
            .map(|b| format!("{b:02X}"))
            .collect::<Vec<_>>()
            .join(":");
        let t = Tokens::from_config(&[
            Auditor {
                name: "thanh-tra".into(),
                token_sha256: Some(hash(&tok)),
                ..Auditor::default()
            },
            Auditor {
                name: "kiem-toan".into(),
                certificate_sha256: Some(colons),
                ..Auditor::default()
            },
        ])
        .unwrap();
        let bearer = format!("Bearer {tok}");
        let cert = PeerCertificate(listed);
        let other = PeerCertificate([8u8; 32]);
        assert_eq!(t.authorise(None, Some(&cert)), Some("kiem-toan"));
        assert_eq!(t.authorise(Some(&bearer), None), Some("thanh-tra"));
        assert_eq!(t.authorise(Some(&bearer), Some(&other)), Some("thanh-tra"));
        assert_eq!(
            t.authorise(Some("Bearer nope"), Some(&cert)),
            Some("kiem-toan")
        );
        assert_eq!(t.authorise(None, Some(&other)), None);
        assert_eq!(t.authorise(Some("Bearer nope"), None), None);
        assert_eq!(t.authorise(None, None), None);
        // A certificate fingerprint is not a token and vice versa.
        assert_eq!(
            t.check(Some(&format!("Bearer {}", hex::encode(listed)))),
            None
        );
        for bad in [
            Auditor {
                name: "both".into(),
                token_sha256: Some(hash(&tok)),
                certificate_sha256: Some(hex::encode(listed)),
            },
            Auditor {
                name: "neither".into(),
                ..Auditor::default()
            },
            Auditor {
                name: "short".into(),
                certificate_sha256: Some("abcd".into()),
                ..Auditor::default()
            },
        ] {
            assert!(Tokens::from_config(&[bad]).is_err());
        }
    }
}
