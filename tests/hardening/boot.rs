//! Boot (issue #12 item 5): `serve` refuses a bad start with every problem of every layer
//! at once, as `file:line: reason`, not only the first layer's.

use crate::common::*;

#[test]
fn serve_refuses_with_the_contract_the_key_and_the_audit_store_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let wsdl = broken_wsdl(dir.path());
    let missing_key = dir.path().join("nope.key").display().to_string();
    let config = write_config(dir.path(), "127.0.0.1:9".parse().unwrap(), |doc| {
        let s = &mut doc.get_mut("services").unwrap().as_array_mut().unwrap()[0];
        s.as_table_mut()
            .unwrap()
            .insert("wsdl".into(), wsdl.display().to_string().into());
        doc.entry("security")
            .or_insert_with(|| toml::Value::Table(Default::default()))
            .as_table_mut()
            .unwrap()
            .insert("key".into(), missing_key.into());
    });
    // Under a regular file, so no directory can be made for it.
    let store = config.join("audit.db");
    let out = std::process::Command::new(bin())
        .args(["serve", "--listen", "127.0.0.1:0", "--config"])
        .arg(&config)
        .arg("--data-dir")
        .arg(dir.path().join("data"))
        .arg("--audit-db")
        .arg(&store)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains(&format!("{}:4:", wsdl.display())), "{err}");
    assert!(err.contains("nope.key"), "{err}");
    assert!(err.contains("cannot open the audit store"), "{err}");
}
