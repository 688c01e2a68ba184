//! WS-Security verification (structure, IDs, timestamp, references, token, trust, then
//! libxmlsec1) on arbitrary envelopes: never a panic or a crash in the FFI layer, and an
//! accepted message always names one of the configured agencies. Seeds: make-wss-seeds.sh.
#![no_main]

use std::path::Path;
use std::sync::OnceLock;

use bytes::Bytes;
use libfuzzer_sys::fuzz_target;
use lienthong::config::Config;
use lienthong::model::SoapVersion;
use lienthong::soap::envelope;
use lienthong::wssec::{Engine, ServicePolicy};
use lienthong::xml::limits::XmlLimits;

struct Setup {
    engine: Engine,
    agencies: Vec<String>,
}

fn setup() -> &'static Setup {
    static SETUP: OnceLock<Setup> = OnceLock::new();
    SETUP.get_or_init(|| {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("wss");
        let path = dir.join("gateway.toml");
        let text = std::fs::read_to_string(&path).expect("fuzz/wss/gateway.toml");
        let config = Config::parse(&path, &text).expect("fuzz config");
        let engine = Engine::load(&config, &dir.join("data"))
            .expect("fuzzing PKI: run fuzz/make-wss-seeds.sh first");
        let agencies = config.agencies.iter().map(|a| a.code.to_string()).collect();
        Setup { engine, agencies }
    })
}

fuzz_target!(|data: &[u8]| {
    let setup = setup();
    let policy = ServicePolicy::default();
    for version in [SoapVersion::V11, SoapVersion::V12] {
        let Ok(env) = envelope::parse(Bytes::copy_from_slice(data), version, &XmlLimits::default())
        else {
            continue;
        };
        if let Ok(verified) = setup.engine.verify(&policy, &env) {
            assert!(setup.agencies.contains(&verified.consumer().to_string()));
            assert!(!verified.replay().key.is_empty() && !verified.certificate().is_empty());
        }
    }
});
