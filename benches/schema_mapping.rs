//! Schema validation and mapping on the example documents: a district dossier (`HoSo`)
//! and a ministry citizen record (v1), each at ~2 KB and ~1 MB (the repeated groups
//! grown). Goal (issue 4): validation + mapping of a 2 KB message under 100 µs on one
//! core, and linear in size (compare the 1 MB / 2 KB ratio with 512).
//!
//! Run: `cargo bench --bench schema_mapping`. Criterion measures wall time, which a loaded
//! machine inflates; `cargo test --release --test schema_mapping -- --ignored --nocapture`
//! prints thread CPU time per message for the same documents.

use std::path::PathBuf;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};

use lienthong::mapping::Mapping;
use lienthong::schema::Direction;

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A `HoSo` of about `size` bytes: the golden input with its document list grown.
fn ho_so(size: usize) -> Vec<u8> {
    let base = std::fs::read_to_string(
        repo().join("conf/mappings/ho-so-huyen-tinh/tests/day-du/input.xml"),
    )
    .unwrap();
    let item = "    <GiayTo><TenGiayTo>Bản sao giấy tờ tùy thân của người đi đăng ký</TenGiayTo><SoBan>1</SoBan><BanChinh>K</BanChinh></GiayTo>\n";
    let n = size.saturating_sub(base.len()) / item.len();
    let doc = base.replacen(
        "  </DanhSachGiayTo>",
        &format!("{}  </DanhSachGiayTo>", item.repeat(n)),
        1,
    );
    doc.into_bytes()
}

/// A v1 `ThongTinCongDan` of about `size` bytes: family members grown.
fn cong_dan(size: usize) -> Vec<u8> {
    let base = std::fs::read_to_string(
        repo().join("conf/mappings/cong-dan-v1-v2/tests/ho-ten-ba-tu/input.xml"),
    )
    .unwrap();
    let item = "  <ThanhVien><HoTen>Nguyễn Thị Minh Khai</HoTen><QuanHe>Con</QuanHe></ThanhVien>\n";
    let n = size.saturating_sub(base.len()) / item.len();
    base.replacen(
        "</ThongTinCongDan>",
        &format!("{}</ThongTinCongDan>", item.repeat(n)),
        1,
    )
    .into_bytes()
}

fn bench(c: &mut Criterion) {
    let ho_so_map =
        Mapping::load(&repo().join("conf/mappings/ho-so-huyen-tinh/mapping.toml")).unwrap();
    let cong_dan_map =
        Mapping::load(&repo().join("conf/mappings/cong-dan-v1-v2/mapping.toml")).unwrap();
    let sizes = [("2KB", 2 * 1024), ("1MB", 1024 * 1024)];

    let mut g = c.benchmark_group("validate");
    for (label, size) in sizes {
        let doc = ho_so(size);
        ho_so_map
            .source
            .schemas
            .validate(&doc, Some(&ho_so_map.source.root))
            .unwrap();
        g.throughput(Throughput::Bytes(doc.len() as u64));
        g.bench_with_input(BenchmarkId::new("ho-so", label), &doc, |b, d| {
            b.iter(|| {
                ho_so_map
                    .source
                    .schemas
                    .validate(d, Some(&ho_so_map.source.root))
                    .unwrap()
            })
        });
    }
    g.finish();

    // Mapping includes validating the output against the target schema.
    let mut g = c.benchmark_group("map");
    for (label, size) in sizes {
        for (name, m, doc) in [
            ("ho-so-huyen-tinh", &ho_so_map, ho_so(size)),
            ("cong-dan-v1-v2", &cong_dan_map, cong_dan(size)),
        ] {
            m.apply(&doc, Direction::Request).unwrap();
            g.throughput(Throughput::Bytes(doc.len() as u64));
            g.bench_with_input(BenchmarkId::new(name, label), &doc, |b, d| {
                b.iter(|| m.apply(d, Direction::Request).unwrap())
            });
        }
    }
    g.finish();

    // What a thread pays once per schema set (compiled lazily per thread, not Send).
    let mut g = c.benchmark_group("compile");
    let wsdl = repo().join("wsdl/tiep-nhan-ho-so/TiepNhanHoSo.wsdl");
    g.bench_function("tiep-nhan-ho-so contract", |b| {
        b.iter(|| lienthong::schema::SchemaSet::compile(&[], std::slice::from_ref(&wsdl)).unwrap())
    });
    g.finish();

    // What the gateway does per mapped request: validate the input, map, validate output.
    let mut g = c.benchmark_group("validate+map");
    for (label, size) in sizes {
        let doc = ho_so(size);
        g.throughput(Throughput::Bytes(doc.len() as u64));
        g.bench_with_input(BenchmarkId::new("ho-so-huyen-tinh", label), &doc, |b, d| {
            b.iter(|| {
                ho_so_map
                    .source
                    .schemas
                    .validate(d, Some(&ho_so_map.source.root))
                    .unwrap();
                ho_so_map.apply(d, Direction::Request).unwrap()
            })
        });
    }
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(20);
    targets = bench
}
criterion_main!(benches);
