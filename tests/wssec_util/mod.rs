//! Shared set-up for the WS-Security tests: a fresh development PKI in a temporary data
//! directory, a configuration naming the example agencies, and helpers to sign as one.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

use bytes::Bytes;
use lienthong::config::Config;
use lienthong::model::SoapVersion;
use lienthong::soap::envelope::{self, Envelope};
use lienthong::wssec::{pki, Engine, Signer, Verified, WssError};

pub const CONSUMER: &str = "000.00.21.H38";
pub const PROVIDER: &str = "000.00.12.H38";

pub struct Fixture {
    pub dir: tempfile::TempDir,
    pub config: Config,
}

pub fn agencies_toml() -> &'static str {
    r#"
[[agencies]]
code = "000.00.00.H38"
name = "UBND tỉnh"

[[agencies]]
code = "000.00.12.H38"
name = "Sở Tư pháp"

[[agencies]]
code = "000.00.21.H38"
name = "UBND huyện Đông Sơn"
"#
}

impl Fixture {
    /// A PKI and a config with `security` as the `[security]` section body.
    pub fn new(security: &str) -> Fixture {
        let dir = tempfile::tempdir().unwrap();
        let config = Self::config_in(dir.path(), security);
        pki::init(
            dir.path(),
            "test",
            &config.agencies,
            false,
            Default::default(),
        )
        .unwrap();
        Fixture { dir, config }
    }

    /// A PKI, then a config whose agencies are `agencies` (TOML), for registered
    /// certificates that must exist when the engine loads.
    pub fn with_agencies(security: &str, agencies: &str) -> Fixture {
        let f = Fixture::new("");
        let config = Self::config_text(f.data(), security, agencies);
        Fixture { config, ..f }
    }

    /// The same PKI with another configuration.
    pub fn with_agencies_in(f: Fixture, security: &str, agencies: &str) -> Fixture {
        let config = Self::config_text(f.data(), security, agencies);
        Fixture { config, ..f }
    }

    pub fn config_in(dir: &Path, security: &str) -> Config {
        Self::config_text(dir, security, agencies_toml())
    }

    fn config_text(dir: &Path, security: &str, agencies: &str) -> Config {
        let text = format!("[gateway]\nnode_id = \"test\"\n\n[security]\n{security}\n{agencies}");
        let path = dir.join("gateway.toml");
        std::fs::write(&path, &text).unwrap();
        Config::parse(&path, &text).unwrap()
    }

    pub fn data(&self) -> &Path {
        self.dir.path()
    }

    pub fn engine(&self) -> Engine {
        Engine::load(&self.config, self.data()).unwrap()
    }

    pub fn signer(&self, code: &str) -> Signer {
        Signer::load(
            &pki::agency_key(self.data(), code),
            &pki::agency_cert(self.data(), code),
            None,
            None,
        )
        .unwrap()
    }

    pub fn path(&self, rel: &str) -> PathBuf {
        self.data().join(rel)
    }
}

pub fn request(version: SoapVersion, payload: &str) -> Vec<u8> {
    envelope::build(version, &[], payload.as_bytes())
}

pub const PAYLOAD: &str = r#"<ht:TraCuuKhaiSinh xmlns:ht="urn:lienthong:example:ho-tich:1"><ht:SoDinhDanh>001203004567</ht:SoDinhDanh><ht:HoTen>Nguyễn Văn An</ht:HoTen></ht:TraCuuKhaiSinh>"#;

/// Signs `PAYLOAD` in a SOAP 1.1 envelope as `code`.
pub fn signed_request(f: &Fixture, code: &str) -> Vec<u8> {
    f.signer(code)
        .sign(
            &request(SoapVersion::V11, PAYLOAD),
            &Default::default(),
            chrono::Duration::seconds(300),
        )
        .unwrap()
}

pub fn parse(bytes: &[u8], version: SoapVersion) -> Envelope {
    envelope::parse(Bytes::copy_from_slice(bytes), version, &Default::default()).unwrap()
}

/// Verifies through the public API the pipeline uses, with the default policy.
pub fn verify(engine: &Engine, bytes: &[u8]) -> Result<Verified, WssError> {
    let env = parse(bytes, SoapVersion::V11);
    engine.verify(&Default::default(), &env)
}

pub fn s(bytes: &[u8]) -> String {
    String::from_utf8(bytes.to_vec()).unwrap()
}

pub const WSSE: &str =
    "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd";
pub const WSU: &str =
    "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd";
pub const DS: &str = "http://www.w3.org/2000/09/xmldsig#";
pub const S11: &str = "http://schemas.xmlsoap.org/soap/envelope/";
pub const X509V3: &str =
    "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-x509-token-profile-1.0#X509v3";
pub const RSA_SHA256: &str = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256";
pub const SHA256: &str = "http://www.w3.org/2001/04/xmlenc#sha256";
pub const EXC: &str = "http://www.w3.org/2001/10/xml-exc-c14n#";

/// A hand-made signature template, for signatures of unusual shape.
pub struct Tpl {
    pub created: String,
    pub expires: String,
    pub timestamp: bool,
    pub refs: Vec<String>,
    pub sig_alg: String,
    pub digest: String,
    /// Inner XML of ds:KeyInfo; default a direct reference to the BST `X509-t`.
    pub key_info: Option<String>,
    pub extra_headers: String,
    pub body_attrs: String,
    pub payload: String,
    pub after_body: String,
}

impl Default for Tpl {
    fn default() -> Self {
        let now = chrono::Utc::now();
        Tpl {
            created: now.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
            expires: (now + chrono::Duration::seconds(300))
                .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            timestamp: true,
            refs: vec!["B".into(), "TS".into()],
            sig_alg: RSA_SHA256.into(),
            digest: SHA256.into(),
            key_info: None,
            extra_headers: String::new(),
            body_attrs: format!(r#" xmlns:wsu="{WSU}" wsu:Id="B""#),
            payload: PAYLOAD.into(),
            after_body: String::new(),
        }
    }
}

impl Tpl {
    pub fn render(&self, cert_b64: &str) -> String {
        let ts = if self.timestamp {
            format!(
                r#"<wsu:Timestamp wsu:Id="TS"><wsu:Created>{}</wsu:Created><wsu:Expires>{}</wsu:Expires></wsu:Timestamp>"#,
                self.created, self.expires
            )
        } else {
            String::new()
        };
        let refs: String = self
            .refs
            .iter()
            .map(|r| {
                format!(
                    r#"<ds:Reference URI="{}"><ds:Transforms><ds:Transform Algorithm="{EXC}"/></ds:Transforms><ds:DigestMethod Algorithm="{}"/><ds:DigestValue/></ds:Reference>"#,
                    if r.contains(':') { r.clone() } else { format!("#{r}") },
                    self.digest
                )
            })
            .collect();
        let key_info = self.key_info.clone().unwrap_or_else(|| {
            format!(
                r##"<wsse:SecurityTokenReference><wsse:Reference URI="#X509-t" ValueType="{X509V3}"/></wsse:SecurityTokenReference>"##
            )
        });
        format!(
            r#"<soap:Envelope xmlns:soap="{S11}"><soap:Header>{extra}<wsse:Security xmlns:wsse="{WSSE}" xmlns:wsu="{WSU}" soap:mustUnderstand="1"><wsse:BinarySecurityToken EncodingType="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-soap-message-security-1.0#Base64Binary" ValueType="{X509V3}" wsu:Id="X509-t">{cert_b64}</wsse:BinarySecurityToken>{ts}<ds:Signature xmlns:ds="{DS}"><ds:SignedInfo><ds:CanonicalizationMethod Algorithm="{EXC}"/><ds:SignatureMethod Algorithm="{sig}"/>{refs}</ds:SignedInfo><ds:SignatureValue/><ds:KeyInfo>{key_info}</ds:KeyInfo></ds:Signature></wsse:Security></soap:Header><soap:Body{body_attrs}>{payload}</soap:Body>{after}</soap:Envelope>"#,
            extra = self.extra_headers,
            sig = self.sig_alg,
            body_attrs = self.body_attrs,
            payload = self.payload,
            after = self.after_body,
        )
    }

    /// Renders and signs as `signer`.
    pub fn sign(&self, signer: &Signer) -> Vec<u8> {
        let xml = self.render(signer.certificate_base64());
        signer
            .sign_template(xml.as_bytes())
            .unwrap_or_else(|e| panic!("{e}\n{xml}"))
    }
}
