//! Auditor authentication: bearer tokens whose SHA-256 is configured in
//! `[[audit.auditors]]`. No anonymous access to any record.

use sha2::{Digest, Sha256};

use crate::audit::Auditor;

#[derive(Debug, Clone, Default)]
pub struct Tokens {
    /// (auditor name, SHA-256 of the token).
    known: Vec<(String, [u8; 32])>,
}

impl Tokens {
    /// From the configuration; entries whose hash is not 64 hex digits are reported.
    pub fn from_config(auditors: &[Auditor]) -> Result<Tokens, String> {
        let mut t = Tokens::default();
        for a in auditors {
            let h: [u8; 32] = hex::decode(&a.token_sha256)
                .ok()
                .and_then(|v| v.try_into().ok())
                .ok_or_else(|| {
                    format!(
                        "[[audit.auditors]] {}: token_sha256 must be 64 hex digits",
                        a.name
                    )
                })?;
            t.known.push((a.name.clone(), h));
        }
        Ok(t)
    }

    pub fn is_empty(&self) -> bool {
        self.known.is_empty()
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
            token_sha256: hash(&tok),
        }])
        .unwrap();
        assert_eq!(t.check(Some(&format!("Bearer {tok}"))), Some("thanh-tra"));
        assert_eq!(t.check(Some("Bearer nope")), None);
        assert_eq!(t.check(Some(&tok)), None);
        assert_eq!(t.check(None), None);
        assert!(Tokens::from_config(&[Auditor {
            name: "x".into(),
            token_sha256: "abc".into()
        }])
        .is_err());
    }
}
