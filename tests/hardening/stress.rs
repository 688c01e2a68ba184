//! The process survives hostile and sloppy traffic: 50,000 requests from 16 concurrent
//! keep-alive clients, a mix of valid, invalid and hostile
//! messages across every example service and both SOAP versions. At the end the gateway is
//! alive and answers, every request got an HTTP answer of the right kind, and the audit store
//! holds exactly one record per request, its chain verified. Prints what it measured
//! (requests, statuses, rate, RSS at start and end).
//!
//! The 50,000 run is the release build's (`cargo test --release --test hardening stress`); a debug build, as plain `cargo test` makes, sends 5,000 in the same
//! mix, since its unoptimised envelope scan and signing run about ten times slower.
//! `LIENTHONG_STRESS_REQUESTS=N` sets the count either way.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use lienthong::model::SoapVersion;

use crate::common::*;
use crate::traffic::*;

const CLIENTS: usize = 16;
const DEFAULT_REQUESTS: usize = if cfg!(debug_assertions) {
    5_000
} else {
    50_000
};

/// What one slot of the 20-slot cycle sends.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Kind {
    Valid,
    Replay,
    SchemaInvalid,
    MappingFailing,
    Tampered,
    Unsigned,
    Unauthorised,
    Truncated,
    Doctype,
    WrongContentType,
    Garbage,
    UnknownService,
    TooDeep,
    Oversized,
}

/// One cycle of 20 requests: a quarter valid, the rest invalid or hostile.
const CYCLE: [Kind; 20] = [
    Kind::Valid,
    Kind::Valid,
    Kind::Valid,
    Kind::Valid,
    Kind::Valid,
    Kind::Replay,
    Kind::SchemaInvalid,
    Kind::SchemaInvalid,
    Kind::MappingFailing,
    Kind::Tampered,
    Kind::Tampered,
    Kind::Unsigned,
    Kind::Unsigned,
    Kind::Unauthorised,
    Kind::Truncated,
    Kind::Doctype,
    Kind::WrongContentType,
    Kind::Garbage,
    Kind::UnknownService,
    Kind::TooDeep,
];

/// One keep-alive HTTP/1.1 connection; reopened when the gateway closes it.
struct Conn {
    addr: SocketAddr,
    stream: Option<TcpStream>,
}

impl Conn {
    /// Sends one request and reads its answer: `None` when no answer came.
    fn send(&mut self, path: &str, content_type: &str, body: &[u8]) -> Option<u16> {
        if self.stream.is_none() {
            let s = TcpStream::connect(self.addr).ok()?;
            s.set_read_timeout(Some(Duration::from_secs(60))).ok()?;
            s.set_nodelay(true).ok()?;
            self.stream = Some(s);
        }
        let s = self.stream.as_mut()?;
        let head = format!(
            "POST {path} HTTP/1.1\r\nHost: {}\r\nContent-Type: {content_type}\r\nSOAPAction: \"\"\r\nContent-Length: {}\r\n\r\n",
            self.addr,
            body.len()
        );
        let answer = s
            .write_all(head.as_bytes())
            .and_then(|_| s.write_all(body))
            .ok()
            .and_then(|_| read_answer(s));
        match answer {
            Some((status, keep)) => {
                if !keep {
                    self.stream = None;
                }
                Some(status)
            }
            None => {
                self.stream = None;
                None
            }
        }
    }
}

/// Reads one response with a Content-Length body: (status, whether the connection stays).
fn read_answer(s: &mut TcpStream) -> Option<(u16, bool)> {
    let mut head = Vec::with_capacity(512);
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        if s.read(&mut byte).ok()? == 0 {
            return None;
        }
        head.push(byte[0]);
        if head.len() > 16 * 1024 {
            return None;
        }
    }
    let head = String::from_utf8_lossy(&head).to_ascii_lowercase();
    let status: u16 = head.split(' ').nth(1)?.parse().ok()?;
    let header = |name: &str| {
        head.lines()
            .find_map(|l| l.strip_prefix(name).map(|v| v.trim().to_string()))
    };
    let len: usize = header("content-length:")?.parse().ok()?;
    let mut body = vec![0u8; len];
    s.read_exact(&mut body).ok()?;
    let keep = header("connection:").is_none_or(|v| v != "close");
    Some((status, keep))
}

/// Resident set size of a process, in KiB.
pub fn rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

/// What one client saw.
#[derive(Default)]
struct Tally {
    statuses: BTreeMap<(Kind, u16), usize>,
    unanswered: Vec<String>,
    wrong: Vec<String>,
    sent: usize,
}

fn client(addr: SocketAddr, data: std::path::PathBuf, worker: usize, requests: usize) -> Tally {
    let calls = calls();
    let signers: std::collections::HashMap<&str, lienthong::wssec::Signer> =
        [PROVINCE, DISTRICT, PLANNING]
            .into_iter()
            .map(|a| (a, signer(&data, a)))
            .collect();
    let signer = |agency: &str| &signers[agency];
    let mut conn = Conn { addr, stream: None };
    let mut tally = Tally::default();
    let mut last_valid: Option<(usize, Vec<u8>)> = None;
    // Messages whose refusal does not depend on their signature being fresh, made once.
    let tampered_ones: Vec<Vec<u8>> = calls
        .iter()
        .map(|c| {
            tampered(
                sign_with(signer(c.agency), c.version, &c.payload),
                &c.payload,
            )
        })
        .collect();
    for i in 0..requests {
        let n = worker + i * CLIENTS;
        let kind = if n % 1000 == 999 {
            Kind::Oversized
        } else {
            CYCLE[n % CYCLE.len()]
        };
        let ci = (n / CYCLE.len()) % calls.len();
        let call = &calls[ci];
        let mut service = call.service;
        let mut content_type = content_type(call.version);
        let body: Vec<u8> = match kind {
            Kind::Valid => {
                let b = sign_with(signer(call.agency), call.version, &call.payload);
                last_valid = Some((ci, b.clone()));
                b
            }
            Kind::Replay => match &last_valid {
                Some((j, b)) => {
                    service = calls[*j].service;
                    content_type = crate::traffic::content_type(calls[*j].version);
                    b.clone()
                }
                None => sign_with(signer(call.agency), call.version, "<x/>"),
            },
            Kind::SchemaInvalid => sign_with(
                signer(call.agency),
                call.version,
                &schema_invalid(&call.payload),
            ),
            Kind::MappingFailing => sign_with(
                signer(DISTRICT),
                call.version,
                &district_case("loi-ngay-nop"),
            ),
            Kind::Tampered => tampered_ones[ci].clone(),
            Kind::Unsigned => {
                lienthong::soap::envelope::build(call.version, &[], call.payload.as_bytes())
            }
            Kind::Unauthorised => sign_with(signer(PLANNING), call.version, &call.payload),
            Kind::Truncated => {
                let b = lienthong::soap::envelope::build(
                    call.version,
                    &[],
                    call.payload.as_bytes(),
                );
                b[..b.len() / 2].to_vec()
            }
            Kind::Doctype => format!(
                "<!DOCTYPE e [<!ENTITY a \"aaaaaaaaaa\"><!ENTITY b \"&a;&a;&a;&a;&a;&a;&a;&a;\">]>{}",
                String::from_utf8_lossy(&lienthong::soap::envelope::build(
                    call.version,
                    &[],
                    b"<e>&b;</e>"
                ))
            )
            .into_bytes(),
            Kind::WrongContentType => {
                content_type = match call.version {
                    SoapVersion::V11 => "application/soap+xml; charset=utf-8",
                    SoapVersion::V12 => "text/xml; charset=utf-8",
                };
                lienthong::soap::envelope::build(call.version, &[], call.payload.as_bytes())
            }
            Kind::Garbage => (0..512u32)
                .map(|k| (k.wrapping_mul(2_654_435_761).wrapping_add(n as u32) >> 13) as u8)
                .collect(),
            Kind::UnknownService => {
                service = "khong-co";
                lienthong::soap::envelope::build(call.version, &[], call.payload.as_bytes())
            }
            Kind::TooDeep => {
                let deep = format!("{}{}", "<d>".repeat(200), "</d>".repeat(200));
                lienthong::soap::envelope::build(call.version, &[], deep.as_bytes())
            }
            Kind::Oversized => vec![b' '; 11 * 1024 * 1024],
        };
        let path = format!("/services/{service}");
        tally.sent += 1;
        let status = if kind == Kind::Oversized {
            // The gateway answers 413 without reading the body, then closes: one connection
            // of its own, so no keep-alive client loses its place.
            let r = http(
                addr,
                "POST",
                &path,
                &[("Content-Type", content_type)],
                &body,
            );
            Some(r.status)
        } else {
            conn.send(&path, content_type, &body)
        };
        match status {
            None => tally.unanswered.push(format!("#{n} {kind:?} {service}")),
            Some(s) => {
                *tally.statuses.entry((kind, s)).or_default() += 1;
                let ok = match kind {
                    Kind::Valid => s == 200,
                    _ => s >= 400,
                };
                if !ok && tally.wrong.len() < 20 {
                    tally.wrong.push(format!(
                        "#{n} {kind:?} {service} {}: HTTP {s}",
                        call.version.label()
                    ));
                }
            }
        }
    }
    tally
}

#[test]
fn the_gateway_survives_a_flood_of_hostile_and_sloppy_requests() {
    let requests: usize = std::env::var("LIENTHONG_STRESS_REQUESTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(DEFAULT_REQUESTS);
    let gw = Gateway::start(|_| {});
    let pid = gw.gateway.child.id();
    let rss_start = rss_kib(pid);
    let addr = gw.gateway.addr;
    let data = gw.data_dir();
    let started = Instant::now();
    let per_client = requests.div_ceil(CLIENTS);
    let clients: Vec<_> = (0..CLIENTS)
        .map(|w| {
            let data = data.clone();
            std::thread::spawn(move || client(addr, data, w, per_client))
        })
        .collect();
    let tallies: Vec<Tally> = clients.into_iter().map(|c| c.join().unwrap()).collect();
    let elapsed = started.elapsed();
    let rss_end = rss_kib(pid);

    let sent: usize = tallies.iter().map(|t| t.sent).sum();
    let mut statuses: BTreeMap<(Kind, u16), usize> = BTreeMap::new();
    for t in &tallies {
        for (k, v) in &t.statuses {
            *statuses.entry(*k).or_default() += v;
        }
    }
    let unanswered: Vec<&String> = tallies.iter().flat_map(|t| &t.unanswered).collect();
    let wrong: Vec<&String> = tallies.iter().flat_map(|t| &t.wrong).collect();
    println!(
        "stress: {sent} requests from {CLIENTS} clients in {:.1} s ({:.0} req/s); RSS {} KiB at start, {} KiB at end",
        elapsed.as_secs_f64(),
        sent as f64 / elapsed.as_secs_f64(),
        rss_start,
        rss_end
    );
    for ((kind, status), n) in &statuses {
        println!("  {kind:?} -> HTTP {status}: {n}");
    }
    assert!(
        unanswered.is_empty(),
        "{} unanswered: {unanswered:?}",
        unanswered.len()
    );
    assert!(wrong.is_empty(), "{wrong:#?}");

    // Alive: it still answers its own WSDL and a fresh valid call.
    let r = http(addr, "GET", "/services/ho-tich?wsdl", &[], b"");
    assert_eq!(r.status, 200);
    let call = &calls()[0];
    let body = signed(&data, call.agency, call.version, &call.payload);
    let r = send(
        addr,
        &Case {
            label: "after".into(),
            service: call.service,
            version: call.version,
            body,
            statuses: &[200],
        },
    );
    assert_eq!(r.status, 200, "{}", r.text());

    // One record per request (the last call included), the chain intact.
    let out = gw.cli(&["audit", "verify", "--json"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let records: u64 = report["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["records"].as_u64().unwrap())
        .sum();
    println!("stress: {records} audit records for {} requests", sent + 1);
    assert_eq!(records, sent as u64 + 1);
}
