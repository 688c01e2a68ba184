//! Throwaway X.509 material for TLS tests: a CA and leaf certificates issued by it, P-256.

use std::path::{Path, PathBuf};

use openssl::asn1::Asn1Time;
use openssl::bn::{BigNum, MsbOption};
use openssl::ec::{EcGroup, EcKey};
use openssl::hash::MessageDigest;
use openssl::nid::Nid;
use openssl::pkey::{PKey, Private};
use openssl::x509::extension::{
    BasicConstraints, ExtendedKeyUsage, KeyUsage, SubjectAlternativeName,
};
use openssl::x509::{X509NameBuilder, X509};

pub fn key() -> PKey<Private> {
    let group = EcGroup::from_curve_name(Nid::X9_62_PRIME256V1).unwrap();
    PKey::from_ec_key(EcKey::generate(&group).unwrap()).unwrap()
}

/// A self-issued certificate builder for `cn`, valid for two days (sign it yourself).
fn builder(cn: &str, key: &PKey<Private>) -> openssl::x509::X509Builder {
    let mut name = X509NameBuilder::new().unwrap();
    name.append_entry_by_text("CN", cn).unwrap();
    let name = name.build();
    let mut b = X509::builder().unwrap();
    b.set_version(2).unwrap();
    let mut serial = BigNum::new().unwrap();
    serial.rand(120, MsbOption::MAYBE_ZERO, false).unwrap();
    b.set_serial_number(&serial.to_asn1_integer().unwrap())
        .unwrap();
    b.set_subject_name(&name).unwrap();
    b.set_issuer_name(&name).unwrap();
    b.set_pubkey(key).unwrap();
    b.set_not_before(&Asn1Time::days_from_now(0).unwrap())
        .unwrap();
    b.set_not_after(&Asn1Time::days_from_now(2).unwrap())
        .unwrap();
    b
}

/// A self-signed CA.
pub fn ca(cn: &str) -> (X509, PKey<Private>) {
    let k = key();
    let mut b = builder(cn, &k);
    b.append_extension(BasicConstraints::new().critical().ca().build().unwrap())
        .unwrap();
    b.append_extension(
        KeyUsage::new()
            .critical()
            .key_cert_sign()
            .crl_sign()
            .build()
            .unwrap(),
    )
    .unwrap();
    b.sign(&k, MessageDigest::sha256()).unwrap();
    (b.build(), k)
}

/// A leaf certificate issued by `ca`: a server one for IP 127.0.0.1, or a client one.
pub fn issue(ca: &X509, ca_key: &PKey<Private>, cn: &str, server: bool) -> (X509, PKey<Private>) {
    let k = key();
    let mut b = builder(cn, &k);
    b.set_issuer_name(ca.subject_name()).unwrap();
    b.append_extension(BasicConstraints::new().build().unwrap())
        .unwrap();
    b.append_extension(
        KeyUsage::new()
            .critical()
            .digital_signature()
            .build()
            .unwrap(),
    )
    .unwrap();
    if server {
        b.append_extension(ExtendedKeyUsage::new().server_auth().build().unwrap())
            .unwrap();
        let san = SubjectAlternativeName::new()
            .ip("127.0.0.1")
            .build(&b.x509v3_context(Some(ca), None))
            .unwrap();
        b.append_extension(san).unwrap();
    } else {
        b.append_extension(ExtendedKeyUsage::new().client_auth().build().unwrap())
            .unwrap();
    }
    b.sign(ca_key, MessageDigest::sha256()).unwrap();
    (b.build(), k)
}

/// Writes `NAME.pem` and `NAME.key` in `dir`; returns the certificate's path.
pub fn write_pair(dir: &Path, name: &str, (cert, key): &(X509, PKey<Private>)) -> PathBuf {
    let p = dir.join(format!("{name}.pem"));
    std::fs::write(&p, cert.to_pem().unwrap()).unwrap();
    std::fs::write(
        dir.join(format!("{name}.key")),
        key.private_key_to_pem_pkcs8().unwrap(),
    )
    .unwrap();
    p
}
