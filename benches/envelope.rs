//! The envelope stage on its own: the hardened parse every request and every answer goes
//! through before anything else looks at them, and the re-serialised payload the XSD
//! validator reads. Inputs: a district dossier (`HoSo`) grown to ~2 KB and ~100 KB inside
//! a SOAP 1.1 envelope with one header block, as a consumer sends it.
//!
//! Run: `cargo bench --bench envelope`.

use std::path::PathBuf;

use bytes::Bytes;
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};

use lienthong::config::Limits;
use lienthong::model::SoapVersion;
use lienthong::soap::envelope;

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A SOAP 1.1 request around a `HoSo` of about `size` bytes (its document list grown).
fn request(size: usize) -> Bytes {
    let base = std::fs::read_to_string(
        repo().join("conf/mappings/ho-so-huyen-tinh/tests/day-du/input.xml"),
    )
    .unwrap();
    let base = match base.strip_prefix("<?xml") {
        Some(rest) => rest[rest.find("?>").unwrap() + 2..].to_string(),
        None => base,
    };
    let item = "    <GiayTo><TenGiayTo>Bản sao giấy tờ tùy thân của người đi đăng ký</TenGiayTo><SoBan>1</SoBan><BanChinh>K</BanChinh></GiayTo>\n";
    let n = size.saturating_sub(base.len() + 400) / item.len();
    let payload = base.replacen(
        "  </DanhSachGiayTo>",
        &format!("{}  </DanhSachGiayTo>", item.repeat(n)),
        1,
    );
    Bytes::from(format!(
        r#"<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"><soapenv:Header><lt:Exchange xmlns:lt="urn:lienthong:exchange:1.0" soapenv:mustUnderstand="0"><lt:Consumer>000.00.00.H38</lt:Consumer><lt:Service>mot-cua</lt:Service></lt:Exchange></soapenv:Header><soapenv:Body>{}</soapenv:Body></soapenv:Envelope>"#,
        payload.trim()
    ))
}

fn bench(c: &mut Criterion) {
    let limits = Limits::default().xml();
    let mut g = c.benchmark_group("envelope");
    for (label, size) in [("2KB", 2 * 1024), ("100KB", 100 * 1024)] {
        let doc = request(size);
        g.throughput(Throughput::Bytes(doc.len() as u64));
        g.bench_with_input(BenchmarkId::new("parse", label), &doc, |b, doc| {
            b.iter(|| envelope::parse(doc.clone(), SoapVersion::V11, &limits).unwrap())
        });
        let env = envelope::parse(doc.clone(), SoapVersion::V11, &limits).unwrap();
        g.bench_with_input(
            BenchmarkId::new("payload_document", label),
            &env,
            |b, env| b.iter(|| env.payload_document()),
        );
    }
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(50);
    targets = bench
}
criterion_main!(benches);
