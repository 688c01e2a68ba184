//! The real gateway under valgrind's memcheck, fed every kind of request the outside world
//! sends, concurrently: valid, schema-invalid, mapping-failing, unsigned, badly signed,
//! unauthorised and malformed, to every example service in SOAP 1.1 and 1.2. It passes only
//! when memcheck saw no invalid read or write and no use of freed memory (the class of
//! defect libxml2's reused validation context caused). Bounded: some 150 requests.

use std::sync::Arc;

use crate::common::*;
use crate::traffic::{mix, send};

/// valgrind's exit status when it found errors (`--error-exitcode`).
const MEMCHECK_FOUND_ERRORS: i32 = 99;

/// memcheck error kinds that mean memory was read, written or freed where it must not be.
const FORBIDDEN_KINDS: &[&str] = &[
    "InvalidRead",
    "InvalidWrite",
    "InvalidFree",
    "MismatchedFree",
    "InvalidJump",
    "InvalidMemPool",
    "FishyValue",
];

#[test]
fn memcheck_sees_no_invalid_access_under_a_concurrent_hostile_mix() {
    let out = tempfile::tempdir().unwrap();
    let xml = out.path().join("memcheck.xml");
    let xml_arg = format!("--xml-file={}", xml.display());
    let wrapper = [
        "valgrind",
        "--tool=memcheck",
        "--error-exitcode=99",
        "--leak-check=no",
        "--errors-for-leak-kinds=none",
        "--xml=yes",
        &xml_arg,
        "--num-callers=30",
    ];
    let mut gw = Gateway::start_under(&wrapper, |_| {});
    let data = gw.data_dir();
    let cases = Arc::new(mix(&data));
    // Four clients at once, each taking the whole mix in its own order; fresh signatures
    // for the second round (a signature is accepted once).
    let mut rounds = vec![cases];
    rounds.push(Arc::new(mix(&data)));
    let addr = gw.gateway.addr;
    for round in rounds {
        let workers: Vec<_> = (0..4)
            .map(|w| {
                let round = round.clone();
                std::thread::spawn(move || {
                    let n = round.len();
                    let mut failures = Vec::new();
                    for i in 0..n {
                        // Worker w takes every fourth case, starting at w (each is sent
                        // once: a signed one twice would be a replay).
                        if i % 4 != w {
                            continue;
                        }
                        let case = &round[i];
                        let r = send(addr, case);
                        if !case.statuses.contains(&r.status) {
                            failures.push(format!(
                                "{}: HTTP {} {}",
                                case.label,
                                r.status,
                                r.text()
                            ));
                        }
                    }
                    failures
                })
            })
            .collect();
        let failures: Vec<String> = workers
            .into_iter()
            .flat_map(|w| w.join().unwrap())
            .collect();
        assert!(failures.is_empty(), "{failures:#?}");
    }
    let status = gw.gateway.terminate();
    let report = std::fs::read_to_string(&xml).unwrap_or_default();
    let kinds: Vec<&str> = report
        .split("<kind>")
        .skip(1)
        .filter_map(|k| k.split("</kind>").next())
        .collect();
    let forbidden: Vec<&&str> = kinds
        .iter()
        .filter(|k| FORBIDDEN_KINDS.contains(k))
        .collect();
    assert!(
        forbidden.is_empty(),
        "memcheck found {forbidden:?} (all kinds: {kinds:?}); report in {}:\n{}",
        xml.display(),
        first_errors(&report)
    );
    assert!(
        status.code() != Some(MEMCHECK_FOUND_ERRORS),
        "memcheck found errors of kinds {kinds:?}:\n{}",
        first_errors(&report)
    );
    assert!(
        report.contains("</valgrindoutput>"),
        "valgrind did not finish its report"
    );
}

/// The first few `<error>` blocks of a memcheck XML report, for the failure message.
fn first_errors(report: &str) -> String {
    report
        .split("<error>")
        .skip(1)
        .take(3)
        .map(|e| e.split("</error>").next().unwrap_or(""))
        .collect::<Vec<_>>()
        .join("\n----\n")
}
