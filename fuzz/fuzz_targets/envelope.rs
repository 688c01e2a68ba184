//! The hardened envelope scan on arbitrary bytes, both SOAP versions. Beyond "never panics,
//! never hangs": whatever it accepts, the pieces the gateway validates, signs and forwards
//! (the payload and header documents, the rebuilt envelope) must themselves be accepted by
//! the same scan, so nothing malformed can be produced from an accepted message.
#![no_main]

use bytes::Bytes;
use libfuzzer_sys::fuzz_target;
use lienthong::model::SoapVersion;
use lienthong::pipeline::envelope;
use lienthong::xml::limits::XmlLimits;

fuzz_target!(|data: &[u8]| {
    let limits = XmlLimits::default();
    for version in [SoapVersion::V11, SoapVersion::V12] {
        let Ok(env) = envelope::parse(Bytes::copy_from_slice(data), version, &limits) else {
            continue;
        };
        let payload = env.payload_document();
        assert!(
            envelope::root_name(&payload).is_some(),
            "payload document without a root"
        );
        let headers: Vec<Vec<u8>> = env.headers.iter().map(|h| env.header_document(h)).collect();
        let rebuilt = envelope::build(version, &headers, &payload);
        let again = envelope::parse(Bytes::from(rebuilt), version, &limits)
            .expect("an envelope rebuilt from an accepted one is accepted");
        assert_eq!(again.payload.name, env.payload.name);
        assert_eq!(again.headers.len(), env.headers.len());
    }
});
