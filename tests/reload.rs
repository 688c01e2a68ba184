//! Reload on `lienthong reload` / SIGHUP: a changed mapping is swapped in atomically; a broken
//! one is refused with its location and the previous one stays in service.

mod common;

use std::time::Duration;

use common::*;

const DISTRICT: &str = "000.00.21.H38";

fn day_du() -> String {
    payload("conf/mappings/ho-so-huyen-tinh/tests/day-du/input.xml")
}

#[test]
fn reload_swaps_good_mappings_and_keeps_the_old_on_error() {
    // The service's request mapping is a copy the test can edit.
    let work = tempfile::tempdir().unwrap();
    let copy = work.path().join("ho-so-huyen-tinh");
    std::fs::create_dir_all(&copy).unwrap();
    for e in std::fs::read_dir(repo().join("conf/mappings/ho-so-huyen-tinh")).unwrap() {
        let e = e.unwrap();
        if e.file_type().unwrap().is_file() {
            std::fs::copy(e.path(), copy.join(e.file_name())).unwrap();
        }
    }
    let mapping = copy.join("mapping.toml");
    // Its schema paths were relative to conf/mappings/NAME/: make them absolute.
    let text = std::fs::read_to_string(&mapping).unwrap();
    let schemas = format!("\"{}/", repo().join("schemas").display());
    std::fs::write(&mapping, text.replace("\"../../../schemas/", &schemas)).unwrap();
    let m2 = mapping.clone();
    let gw = Gateway::start(move |doc| {
        unsigned(doc);
        for s in doc.get_mut("services").unwrap().as_array_mut().unwrap() {
            if let Some(toml::Value::Array(ms)) = s.get_mut("mappings") {
                for m in ms {
                    if m.get("request")
                        .and_then(|r| r.as_str())
                        .is_some_and(|r| r.contains("ho-so-huyen-tinh"))
                    {
                        m.as_table_mut()
                            .unwrap()
                            .insert("request".into(), m2.display().to_string().into());
                    }
                }
            }
        }
    });
    let call = || {
        http(
            gw.gateway.addr,
            "POST",
            "/services/tiep-nhan-ho-so",
            &[
                ("Content-Type", "text/xml"),
                ("X-Lienthong-Consumer", DISTRICT),
            ],
            envelope11(&day_du()).as_bytes(),
        )
    };
    assert_eq!(call().status, 200);

    // A broken mapping: `lienthong reload` refuses it with file:line, the gateway keeps serving.
    let good = std::fs::read_to_string(&mapping).unwrap();
    std::fs::write(&mapping, good.replacen("[", "[[oops", 1)).unwrap();
    let out = gw.cli(&["reload"]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains(&format!("{}:", mapping.display())), "{err}");
    assert_eq!(call().status, 200);

    // Repaired: reload succeeds and the gateway logs the swap.
    std::fs::write(&mapping, &good).unwrap();
    let out = gw.cli(&["reload"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        wait_for(Duration::from_secs(10), || gw
            .gateway
            .log_text()
            .contains("reload done")),
        "{}",
        gw.gateway.log_text()
    );
    assert_eq!(call().status, 200);
}
