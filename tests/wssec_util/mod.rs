//! Shared set-up for the WS-Security tests: a fresh development PKI in a temporary data
//! directory, a configuration naming the example agencies, and helpers to sign as one.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

use bytes::Bytes;
use lienthong::config::Config;
use lienthong::model::SoapVersion;
use lienthong::pipeline::envelope::{self, Envelope};
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
        pki::init(dir.path(), "test", &config.agencies, false).unwrap();
        Fixture { dir, config }
    }

    pub fn config_in(dir: &Path, security: &str) -> Config {
        let text = format!(
            "[gateway]\nnode_id = \"test\"\n\n[security]\n{security}\n{}",
            agencies_toml()
        );
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
    engine.verify(&Default::default(), &env, None)
}

pub fn s(bytes: &[u8]) -> String {
    String::from_utf8(bytes.to_vec()).unwrap()
}
