//! A development PKI under `DATA_DIR/pki/`: `ca.crt` (+ `ca.key`), `gateway.crt` +
//! `gateway.key`, and `agencies/CODE.crt` + `CODE.key` for each agency of the
//! configuration. FOR DEVELOPMENT ONLY: the CA key sits next to the certificates it signs.
//!
//! Agency certificates carry the agency code as CN and subject serialNumber (the identity
//! rule of [`super::trust`]), digitalSignature + nonRepudiation usage and the clientAuth
//! EKU; RSA-2048, SHA-256, two years.

use std::path::{Path, PathBuf};

use openssl::asn1::Asn1Time;
use openssl::bn::{BigNum, MsbOption};
use openssl::hash::MessageDigest;
use openssl::pkey::{PKey, Private};
use openssl::rsa::Rsa;
use openssl::x509::extension::{
    AuthorityKeyIdentifier, BasicConstraints, ExtendedKeyUsage, KeyUsage, SubjectKeyIdentifier,
};
use openssl::x509::{X509Name, X509NameBuilder, X509};

use crate::config::Agency;

/// What `init` wrote (paths that already existed are kept, not overwritten).
#[derive(Debug, Default)]
pub struct Report {
    pub created: Vec<PathBuf>,
    pub kept: Vec<PathBuf>,
}

pub fn pki_dir(data_dir: &Path) -> PathBuf {
    data_dir.join("pki")
}

pub fn agency_key(data_dir: &Path, code: &str) -> PathBuf {
    pki_dir(data_dir)
        .join("agencies")
        .join(format!("{code}.key"))
}

pub fn agency_cert(data_dir: &Path, code: &str) -> PathBuf {
    pki_dir(data_dir)
        .join("agencies")
        .join(format!("{code}.crt"))
}

type Result<T> = std::result::Result<T, String>;

fn e<E: std::fmt::Display>(x: E) -> String {
    x.to_string()
}

fn name(cn: &str, o: &str, serial: Option<&str>) -> Result<X509Name> {
    let mut b = X509NameBuilder::new().map_err(e)?;
    b.append_entry_by_text("C", "VN").map_err(e)?;
    // X.520 upper bound: 64 characters for O and CN.
    let o: String = o.chars().take(64).collect();
    b.append_entry_by_text("O", &o).map_err(e)?;
    if let Some(s) = serial {
        b.append_entry_by_text("serialNumber", s).map_err(e)?;
    }
    b.append_entry_by_text("CN", cn).map_err(e)?;
    Ok(b.build())
}

/// Key type of the development gateway and agency keys (the CA is always RSA-2048).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum KeyType {
    /// RSA-2048: what every WS-Security stack can check.
    #[default]
    Rsa2048,
    /// ECDSA P-256: a third of the signing cost; older Java stacks cannot check it.
    P256,
}

fn new_key() -> Result<PKey<Private>> {
    new_key_of(KeyType::Rsa2048)
}

fn new_key_of(kind: KeyType) -> Result<PKey<Private>> {
    match kind {
        KeyType::Rsa2048 => PKey::from_rsa(Rsa::generate(2048).map_err(e)?).map_err(e),
        KeyType::P256 => {
            let group = openssl::ec::EcGroup::from_curve_name(openssl::nid::Nid::X9_62_PRIME256V1)
                .map_err(e)?;
            PKey::from_ec_key(openssl::ec::EcKey::generate(&group).map_err(e)?).map_err(e)
        }
    }
}

fn serial() -> Result<openssl::asn1::Asn1Integer> {
    let mut bn = BigNum::new().map_err(e)?;
    bn.rand(127, MsbOption::MAYBE_ZERO, false).map_err(e)?;
    bn.to_asn1_integer().map_err(e)
}

/// Issues a certificate; `issuer` is `None` for the self-signed CA.
fn issue(
    subject: &X509Name,
    key: &PKey<Private>,
    issuer: Option<(&X509, &PKey<Private>)>,
    validity: (i64, i64),
) -> Result<X509> {
    let mut b = X509::builder().map_err(e)?;
    b.set_version(2).map_err(e)?;
    let sn = serial()?;
    b.set_serial_number(&sn).map_err(e)?;
    b.set_subject_name(subject).map_err(e)?;
    b.set_issuer_name(issuer.map(|(c, _)| c.subject_name()).unwrap_or(subject))
        .map_err(e)?;
    b.set_pubkey(key).map_err(e)?;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_err(e)?
        .as_secs() as i64;
    let not_before = Asn1Time::from_unix(now + validity.0).map_err(e)?;
    let not_after = Asn1Time::from_unix(now + validity.1).map_err(e)?;
    b.set_not_before(&not_before).map_err(e)?;
    b.set_not_after(&not_after).map_err(e)?;
    let ca = issuer.is_none();
    if ca {
        b.append_extension(BasicConstraints::new().critical().ca().build().map_err(e)?)
            .map_err(e)?;
        b.append_extension(
            KeyUsage::new()
                .critical()
                .key_cert_sign()
                .crl_sign()
                .build()
                .map_err(e)?,
        )
        .map_err(e)?;
    } else {
        b.append_extension(BasicConstraints::new().critical().build().map_err(e)?)
            .map_err(e)?;
        b.append_extension(
            KeyUsage::new()
                .critical()
                .digital_signature()
                .non_repudiation()
                .build()
                .map_err(e)?,
        )
        .map_err(e)?;
        b.append_extension(
            ExtendedKeyUsage::new()
                .client_auth()
                .server_auth()
                .build()
                .map_err(e)?,
        )
        .map_err(e)?;
    }
    let ski = SubjectKeyIdentifier::new()
        .build(&b.x509v3_context(issuer.map(|(c, _)| c.as_ref()), None))
        .map_err(e)?;
    b.append_extension(ski).map_err(e)?;
    if !ca {
        let aki = AuthorityKeyIdentifier::new()
            .keyid(true)
            .build(&b.x509v3_context(issuer.map(|(c, _)| c.as_ref()), None))
            .map_err(e)?;
        b.append_extension(aki).map_err(e)?;
    }
    let signing_key = issuer.map(|(_, k)| k).unwrap_or(key);
    b.sign(signing_key, MessageDigest::sha256()).map_err(e)?;
    Ok(b.build())
}

fn write_private(path: &Path, key: &PKey<Private>) -> Result<()> {
    let pem = key.private_key_to_pem_pkcs8().map_err(e)?;
    write(path, &pem)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).map_err(e)?;
    }
    Ok(())
}

fn write(path: &Path, bytes: &[u8]) -> Result<()> {
    if let Some(d) = path.parent() {
        std::fs::create_dir_all(d).map_err(|x| format!("{}: {x}", d.display()))?;
    }
    std::fs::write(path, bytes).map_err(|x| format!("{}: {x}", path.display()))
}

fn read_pair(cert: &Path, key: &Path) -> Result<(X509, PKey<Private>)> {
    let c = X509::from_pem(&std::fs::read(cert).map_err(e)?).map_err(e)?;
    let k = PKey::private_key_from_pem(&std::fs::read(key).map_err(e)?).map_err(e)?;
    Ok((c, k))
}

/// Validity of development certificates, seconds relative to now: from a minute ago (a
/// clock a little behind still accepts a fresh PKI) for two years.
pub const LEAF_VALIDITY: (i64, i64) = (-60, 730 * 86_400);

/// Issues an end-entity certificate and a new RSA-2048 key signed by `ca` (tests,
/// `pki init`); `validity` is (not before, not after) in seconds relative to now.
pub fn issue_leaf(
    cn: &str,
    org: &str,
    serial_number: Option<&str>,
    ca: (&X509, &PKey<Private>),
    validity: (i64, i64),
) -> Result<(X509, PKey<Private>)> {
    issue_leaf_of(KeyType::Rsa2048, cn, org, serial_number, ca, validity)
}

fn issue_leaf_of(
    kind: KeyType,
    cn: &str,
    org: &str,
    serial_number: Option<&str>,
    ca: (&X509, &PKey<Private>),
    validity: (i64, i64),
) -> Result<(X509, PKey<Private>)> {
    let key = new_key_of(kind)?;
    let cert = issue_for(&key, cn, org, serial_number, ca, validity)?;
    Ok((cert, key))
}

/// Issues an end-entity certificate for an existing key (RSA or EC).
pub fn issue_for(
    key: &PKey<Private>,
    cn: &str,
    org: &str,
    serial_number: Option<&str>,
    ca: (&X509, &PKey<Private>),
    validity: (i64, i64),
) -> Result<X509> {
    issue(&name(cn, org, serial_number)?, key, Some(ca), validity)
}

/// A self-signed CA (tests, `pki init`).
pub fn new_ca(cn: &str) -> Result<(X509, PKey<Private>)> {
    let key = new_key()?;
    let cert = issue(
        &name(cn, "lienthong development PKI", None)?,
        &key,
        None,
        (-60, 3650 * 86_400),
    )?;
    Ok((cert, key))
}

/// Creates what is missing of the development PKI; existing files are kept unless `force`.
/// New gateway and agency keys are of type `keys`.
pub fn init(
    data_dir: &Path,
    node: &str,
    agencies: &[Agency],
    force: bool,
    keys: KeyType,
) -> Result<Report> {
    let dir = pki_dir(data_dir);
    let mut report = Report::default();
    let (ca_crt, ca_key) = (dir.join("ca.crt"), dir.join("ca.key"));
    let ca = if !force && ca_crt.exists() && ca_key.exists() {
        report.kept.push(ca_crt.clone());
        read_pair(&ca_crt, &ca_key)?
    } else {
        let (c, k) = new_ca("lienthong DEVELOPMENT CA (not for production)")?;
        write(&ca_crt, &c.to_pem().map_err(e)?)?;
        write_private(&ca_key, &k)?;
        report.created.push(ca_crt.clone());
        (c, k)
    };
    let mut leaf = |crt: PathBuf, key: PathBuf, cn: &str, org: &str, sn: Option<&str>| {
        if !force && crt.exists() && key.exists() {
            report.kept.push(crt);
            return Ok(());
        }
        let (c, k) = issue_leaf_of(keys, cn, org, sn, (&ca.0, &ca.1), LEAF_VALIDITY)?;
        write(&crt, &c.to_pem().map_err(e)?)?;
        write_private(&key, &k)?;
        report.created.push(crt);
        Ok::<(), String>(())
    };
    leaf(
        dir.join("gateway.crt"),
        dir.join("gateway.key"),
        &format!("lienthong gateway {node}"),
        "lienthong",
        None,
    )?;
    for a in agencies {
        let code = a.code.as_str();
        leaf(
            agency_cert(data_dir, code),
            agency_key(data_dir, code),
            code,
            &a.name,
            Some(code),
        )?;
    }
    Ok(report)
}

/// The banner `pki init` and `demo` print.
pub const WARNING: &str = "DEVELOPMENT PKI ONLY: keys are unprotected and the CA key is on disk; never use them in production";
