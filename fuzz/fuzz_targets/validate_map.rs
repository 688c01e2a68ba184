//! XSD validation and mapping (libxml2's streaming and tree passes, the identity-constraint
//! path finder, rule mappings and XSLT) on arbitrary payloads, against every operation of
//! every example service in `conf/gateway.toml`: never a panic or a crash in the FFI layer,
//! and the same bytes always get the same answer. A validation that read state a previous
//! pass left behind (the use-after-free of issue #10) answers differently the second time.
#![no_main]

use std::path::Path;
use std::sync::{Arc, OnceLock};

use libfuzzer_sys::fuzz_target;
use lienthong::config::Config;
use lienthong::schema::Direction;
use lienthong::registry::{Catalogue, Service};

fn services() -> &'static [Arc<Service>] {
    static SERVICES: OnceLock<Vec<Arc<Service>>> = OnceLock::new();
    SERVICES.get_or_init(|| {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../conf/gateway.toml");
        let text = std::fs::read_to_string(&path).expect("conf/gateway.toml");
        let config = Config::parse(&path, &text).expect("example config");
        let catalogue = Catalogue::load(&config).expect("example contracts");
        catalogue.services.values().cloned().collect()
    })
}

fuzz_target!(|data: &[u8]| {
    for service in services() {
        for op in &service.contract.operations {
            for direction in [Direction::Request, Direction::Response] {
                let first = service.validate(op, direction, data).map_err(|e| e.to_string());
                let again = service.validate(op, direction, data).map_err(|e| e.to_string());
                assert_eq!(first, again, "validation is not repeatable");
                if first.is_ok() {
                    let _ = service.map(op, direction, data.to_vec());
                }
            }
        }
    }
});
