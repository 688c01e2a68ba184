//! Load generator for the running binary (not a criterion bench): sends N requests over C
//! keep-alive connections and reports requests/s and latency percentiles.
//!
//! Requests are prepared before the clock starts: plain envelopes, or envelopes each signed
//! once as an agency (unique Timestamp and signature, so the replay cache accepts each one).
//!
//! ```text
//! cargo bench --bench loadgen -- --url http://127.0.0.1:8080/services/ho-tich \
//!     --payload conf/examples/ho-tich-TraCuuKhaiSinh.xml [--sign-as CODE --data-dir data] \
//!     [--consumer CODE] [--requests 20000] [--connections 64] [--pad-to 2048]
//! ```

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;

struct Args {
    url: String,
    payload: String,
    sign_as: Option<String>,
    data_dir: String,
    consumer: Option<String>,
    requests: usize,
    connections: usize,
    pad_to: usize,
}

fn args() -> Args {
    let mut a = Args {
        url: String::new(),
        payload: "conf/examples/ho-tich-TraCuuKhaiSinh.xml".into(),
        sign_as: None,
        data_dir: "data".into(),
        consumer: None,
        requests: 20_000,
        connections: 64,
        pad_to: 2048,
    };
    let mut it = std::env::args().skip(1);
    while let Some(k) = it.next() {
        let mut v = || it.next().unwrap_or_else(|| panic!("{k} needs a value"));
        match k.as_str() {
            "--url" => a.url = v(),
            "--payload" => a.payload = v(),
            "--sign-as" => a.sign_as = Some(v()),
            "--data-dir" => a.data_dir = v(),
            "--consumer" => a.consumer = Some(v()),
            "--requests" => a.requests = v().parse().expect("--requests"),
            "--connections" => a.connections = v().parse().expect("--connections"),
            "--pad-to" => a.pad_to = v().parse().expect("--pad-to"),
            "--bench" => {}
            other => panic!("unknown argument {other}"),
        }
    }
    assert!(!a.url.is_empty(), "--url is required");
    a
}

/// A SOAP 1.1 envelope around the payload, padded with a comment in the header to `pad_to`.
fn envelope(payload: &str, pad_to: usize) -> String {
    let payload = payload.trim();
    let payload = match payload.strip_prefix("<?xml") {
        Some(rest) => rest[rest.find("?>").unwrap() + 2..].trim(),
        None => payload,
    };
    let head = r#"<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"><soapenv:Header>"#;
    let tail =
        format!("</soapenv:Header><soapenv:Body>{payload}</soapenv:Body></soapenv:Envelope>");
    let pad = pad_to.saturating_sub(head.len() + tail.len() + 7);
    format!("{head}<!--{}-->{tail}", "x".repeat(pad))
}

fn prepare(a: &Args) -> Vec<Bytes> {
    let payload = std::fs::read_to_string(&a.payload).expect("payload file");
    let plain = envelope(&payload, a.pad_to);
    let Some(code) = &a.sign_as else {
        return vec![Bytes::from(plain); a.requests];
    };
    let dir = std::path::Path::new(&a.data_dir);
    let signer = lienthong::wssec::Signer::load(
        &lienthong::wssec::pki::agency_key(dir, code),
        &lienthong::wssec::pki::agency_cert(dir, code),
        None,
        None,
    )
    .expect("agency key (run `lienthong pki init` first)");
    let ttl = chrono::Duration::seconds(300);
    let t = Instant::now();
    let out: Vec<Bytes> = (0..a.requests)
        .map(|_| {
            Bytes::from(
                signer
                    .sign(plain.as_bytes(), &Default::default(), ttl)
                    .expect("sign"),
            )
        })
        .collect();
    eprintln!(
        "signed {} requests of {} bytes in {:?}",
        out.len(),
        out[0].len(),
        t.elapsed()
    );
    out
}

fn main() {
    let a = args();
    let bodies = Arc::new(prepare(&a));
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async move {
        let client: Client<_, Full<Bytes>> = Client::builder(TokioExecutor::new())
            .pool_max_idle_per_host(a.connections)
            .build_http();
        let next = Arc::new(AtomicUsize::new(0));
        let started = Instant::now();
        let mut tasks = Vec::new();
        for _ in 0..a.connections {
            let (client, bodies, next, url, consumer) =
                (client.clone(), bodies.clone(), next.clone(), a.url.clone(), a.consumer.clone());
            tasks.push(tokio::spawn(async move {
                let mut lat = Vec::new();
                let mut errors = 0usize;
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= bodies.len() {
                        break;
                    }
                    let mut req = http::Request::post(&url)
                        .header("content-type", "text/xml; charset=utf-8")
                        .header("soapaction", "\"\"");
                    if let Some(c) = &consumer {
                        req = req.header("x-lienthong-consumer", c);
                    }
                    let req = req.body(Full::new(bodies[i].clone())).unwrap();
                    let t = Instant::now();
                    match client.request(req).await {
                        Ok(resp) => {
                            let ok = resp.status().is_success();
                            let _ = resp.into_body().collect().await;
                            if !ok {
                                errors += 1;
                            }
                        }
                        Err(_) => errors += 1,
                    }
                    lat.push(t.elapsed());
                }
                (lat, errors)
            }));
        }
        let mut all: Vec<Duration> = Vec::new();
        let mut errors = 0;
        for t in tasks {
            let (l, e) = t.await.unwrap();
            all.extend(l);
            errors += e;
        }
        let elapsed = started.elapsed();
        all.sort();
        let pct = |p: f64| all[((all.len() as f64 * p) as usize).min(all.len() - 1)];
        println!(
            "requests {}  connections {}  errors {}  {:.0} req/s  p50 {:.2} ms  p90 {:.2} ms  p99 {:.2} ms",
            all.len(),
            a.connections,
            errors,
            all.len() as f64 / elapsed.as_secs_f64(),
            pct(0.50).as_secs_f64() * 1e3,
            pct(0.90).as_secs_f64() * 1e3,
            pct(0.99).as_secs_f64() * 1e3
        );
    });
}
