//! Seals: a chain head (node, length, hash, time) signed with the gateway's key, written
//! every N records or T seconds and at shutdown. A seal fixes everything before it: a
//! record removed from the end of a sealed chain is found because the seal's head is gone.
//!
//! Signed bytes (UTF-8, `\n`-separated, no trailing newline):
//! `lienthong-audit-seal-v1`, node_id, seq, head_hash, sealed_at (RFC 3339, 6 digits, `Z`),
//! reason. RSA keys sign with PKCS#1 v1.5 / SHA-256, EC keys with ECDSA / SHA-256.

use std::path::Path;

use base64::Engine as _;
use chrono::NaiveDateTime;
use diesel::prelude::*;
use openssl::hash::MessageDigest;
use openssl::pkey::{PKey, Private, Public};
use openssl::sign::{Signer, Verifier};
use serde::Serialize;
use sha2::{Digest, Sha256};

use super::schema::audit_seals;
use super::AuditError;

#[derive(
    Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable, Serialize, serde::Deserialize,
)]
#[diesel(table_name = audit_seals)]
pub struct Seal {
    pub node_id: String,
    /// Chain length at the sealed head (the head's `seq`).
    pub seq: i64,
    pub head_hash: String,
    pub sealed_at: NaiveDateTime,
    /// `count`, `time`, `shutdown` or `archive`.
    pub reason: String,
    pub key_id: String,
    pub public_key: String,
    pub signature: String,
}

/// The private key seals are signed with.
#[derive(Clone)]
pub struct SealKey {
    key: PKey<Private>,
    public_pem: String,
    key_id: String,
}

impl std::fmt::Debug for SealKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SealKey({})", self.key_id)
    }
}

impl SealKey {
    pub fn new(key: PKey<Private>) -> Result<SealKey, AuditError> {
        let der = key.public_key_to_der().map_err(crypto)?;
        let public_pem = String::from_utf8(key.public_key_to_pem().map_err(crypto)?)
            .map_err(|e| AuditError::Key(e.to_string()))?;
        Ok(SealKey {
            key,
            public_pem,
            key_id: hex::encode(Sha256::digest(&der)),
        })
    }

    /// A fresh P-256 key (tests, and first start without a configured key).
    pub fn generate() -> Result<SealKey, AuditError> {
        let group = openssl::ec::EcGroup::from_curve_name(openssl::nid::Nid::X9_62_PRIME256V1)
            .map_err(crypto)?;
        let ec = openssl::ec::EcKey::generate(&group).map_err(crypto)?;
        SealKey::new(PKey::from_ec_key(ec).map_err(crypto)?)
    }

    /// Loads the PEM private key at `path`.
    pub fn load(path: &Path) -> Result<SealKey, AuditError> {
        let pem = std::fs::read(path)
            .map_err(|e| AuditError::Key(format!("cannot read {}: {e}", path.display())))?;
        let key = PKey::private_key_from_pem(&pem).map_err(|e| {
            AuditError::Key(format!("{}: not a PEM private key: {e}", path.display()))
        })?;
        SealKey::new(key)
    }

    /// Loads the key at `path`, generating it (mode 0600) on first start. Returns whether
    /// it was generated.
    pub fn load_or_generate(path: &Path) -> Result<(SealKey, bool), AuditError> {
        if path.exists() {
            return Ok((SealKey::load(path)?, false));
        }
        let k = SealKey::generate()?;
        let pem = k.key.private_key_to_pem_pkcs8().map_err(crypto)?;
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)
                .map_err(|e| AuditError::Key(format!("cannot create {}: {e}", dir.display())))?;
        }
        write_private(path, &pem)
            .map_err(|e| AuditError::Key(format!("cannot write {}: {e}", path.display())))?;
        Ok((k, true))
    }

    /// Hex SHA-256 of the DER public key.
    pub fn key_id(&self) -> &str {
        &self.key_id
    }

    pub fn public_pem(&self) -> &str {
        &self.public_pem
    }

    /// Signs arbitrary bytes (archive files) with SHA-256; base64 signature.
    pub fn sign_bytes(&self, data: &[u8]) -> Result<String, AuditError> {
        let mut signer = Signer::new(MessageDigest::sha256(), &self.key).map_err(crypto)?;
        signer.update(data).map_err(crypto)?;
        let sig = signer.sign_to_vec().map_err(crypto)?;
        Ok(base64::engine::general_purpose::STANDARD.encode(sig))
    }

    /// Signs the head `(node_id, seq, head_hash)` now.
    pub fn seal(
        &self,
        node_id: &str,
        seq: i64,
        head_hash: &str,
        sealed_at: NaiveDateTime,
        reason: &str,
    ) -> Result<Seal, AuditError> {
        let mut seal = Seal {
            node_id: node_id.into(),
            seq,
            head_hash: head_hash.into(),
            sealed_at,
            reason: reason.into(),
            key_id: self.key_id.clone(),
            public_key: self.public_pem.clone(),
            signature: String::new(),
        };
        let mut signer = Signer::new(MessageDigest::sha256(), &self.key).map_err(crypto)?;
        signer.update(&signed_bytes(&seal)).map_err(crypto)?;
        let sig = signer.sign_to_vec().map_err(crypto)?;
        seal.signature = base64::engine::general_purpose::STANDARD.encode(sig);
        Ok(seal)
    }
}

/// The public key of a seal, when its PEM parses and matches its `key_id`.
pub fn public_key(seal: &Seal) -> Result<PKey<Public>, String> {
    let key = PKey::public_key_from_pem(seal.public_key.as_bytes())
        .map_err(|e| format!("seal public key unreadable: {e}"))?;
    let der = key.public_key_to_der().map_err(|e| e.to_string())?;
    if hex::encode(Sha256::digest(&der)) != seal.key_id {
        return Err("seal key_id does not match its public key".into());
    }
    Ok(key)
}

/// Checks the seal's signature with its own public key (whether that key is trusted is
/// the caller's question).
pub fn check(seal: &Seal) -> Result<(), String> {
    let key = public_key(seal)?;
    let sig = base64::engine::general_purpose::STANDARD
        .decode(&seal.signature)
        .map_err(|_| "seal signature is not base64".to_string())?;
    let mut v = Verifier::new(MessageDigest::sha256(), &key).map_err(|e| e.to_string())?;
    v.update(&signed_bytes(seal)).map_err(|e| e.to_string())?;
    match v.verify(&sig) {
        Ok(true) => Ok(()),
        _ => Err("seal signature does not verify".into()),
    }
}

/// Checks a base64 signature over `data` with a PEM public key whose id is `key_id`.
pub fn check_bytes(
    public_pem: &str,
    key_id: &str,
    data: &[u8],
    signature: &str,
) -> Result<(), String> {
    let probe = Seal {
        node_id: String::new(),
        seq: 0,
        head_hash: String::new(),
        sealed_at: NaiveDateTime::default(),
        reason: String::new(),
        key_id: key_id.to_string(),
        public_key: public_pem.to_string(),
        signature: String::new(),
    };
    let key = public_key(&probe)?;
    let sig = base64::engine::general_purpose::STANDARD
        .decode(signature)
        .map_err(|_| "signature is not base64".to_string())?;
    let mut v = Verifier::new(MessageDigest::sha256(), &key).map_err(|e| e.to_string())?;
    v.update(data).map_err(|e| e.to_string())?;
    match v.verify(&sig) {
        Ok(true) => Ok(()),
        _ => Err("signature does not verify".into()),
    }
}

fn signed_bytes(s: &Seal) -> Vec<u8> {
    format!(
        "lienthong-audit-seal-v1\n{}\n{}\n{}\n{}\n{}",
        s.node_id,
        s.seq,
        s.head_hash,
        s.sealed_at.format("%Y-%m-%dT%H:%M:%S%.6fZ"),
        s.reason
    )
    .into_bytes()
}

fn crypto(e: openssl::error::ErrorStack) -> AuditError {
    AuditError::Key(e.to_string())
}

#[cfg(unix)]
fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?;
    f.write_all(bytes)
}

#[cfg(not(unix))]
fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    std::fs::write(path, bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seal_signs_and_detects_change() {
        let k = SealKey::generate().unwrap();
        let t = chrono::Utc::now().naive_utc();
        let s = k.seal("node-1", 5, &"a".repeat(64), t, "count").unwrap();
        check(&s).unwrap();
        let mut bad = s.clone();
        bad.seq = 4;
        assert!(check(&bad).is_err());
        let mut other = s.clone();
        other.public_key = SealKey::generate().unwrap().public_pem().to_string();
        assert!(check(&other).is_err());
    }

    #[test]
    fn generated_once() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("k/audit-seal.key");
        let (a, made) = SealKey::load_or_generate(&p).unwrap();
        assert!(made);
        let (b, made) = SealKey::load_or_generate(&p).unwrap();
        assert!(!made);
        assert_eq!(a.key_id(), b.key_id());
    }
}
