//! Schema validation and mappings at the library level, through the `Service` hooks the
//! pipeline calls: the district's request validated, mapped to the provincial schema,
//! answered by the example provider, mapped back; invalid messages in both directions
//! and their faults. (The end-to-end run through the gateway with zeep is in the gateway's
//! own tests.) The service is the one
//! `conf/gateway.toml` declares, its contract loaded by `wsdl::load`.

use std::path::{Path, PathBuf};

use lienthong::config::Config;
use lienthong::model::SoapVersion;
use lienthong::pipeline::fault_map;
use lienthong::registry::Service;
use lienthong::schema::Direction;
use lienthong::soap::fault::FaultCode;
use lienthong::wsdl::Catalog;

const T: &str = "urn:tinh:tiep-nhan-ho-so:1";

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn service() -> Service {
    let c = Config::load(&repo().join("conf/gateway.toml")).unwrap_or_else(|e| panic!("{e}"));
    let sc = c
        .services
        .iter()
        .find(|s| s.name.as_str() == "tiep-nhan-ho-so")
        .expect("tiep-nhan-ho-so in conf/gateway.toml")
        .clone();
    let contract =
        lienthong::wsdl::load(&sc.wsdl, &Catalog::default()).unwrap_or_else(|e| panic!("{e}"));
    Service::load(&c.path, sc, contract, &Catalog::default()).unwrap_or_else(|e| panic!("{e}"))
}

fn golden(rel: &str) -> Vec<u8> {
    std::fs::read(repo().join("conf/mappings").join(rel)).unwrap()
}

#[test]
fn district_request_is_mapped_answered_and_mapped_back() {
    let svc = service();
    let op = &svc.contract.operations[1];
    let input = golden("ho-so-huyen-tinh/tests/day-du/input.xml");
    svc.validate(op, Direction::Request, &input).unwrap();
    let mapped = svc.map(op, Direction::Request, input).unwrap();
    let label = mapped.mapping.unwrap();
    assert!(label.starts_with("ho-so-huyen-tinh@"), "{label}");
    let provincial = String::from_utf8(mapped.payload).unwrap();
    assert!(
        provincial.contains("<t:NgayNop>2024-03-01</t:NgayNop>"),
        "{provincial}"
    );

    let answer =
        lienthong::providers::tiep_nhan_ho_so::answer(SoapVersion::V11, &provincial).unwrap();
    svc.validate(op, Direction::Response, answer.as_bytes())
        .unwrap();
    let back = svc
        .map(op, Direction::Response, answer.into_bytes())
        .unwrap();
    assert!(back.mapping.unwrap().starts_with("ket-qua-tinh-huyen@"));
    let back = String::from_utf8(back.payload).unwrap();
    assert!(
        back.contains(
            "<h:TrangThai>DA_TIEP_NHAN</h:TrangThai><h:NgayHenTra>15/03/2024</h:NgayHenTra>"
        ),
        "{back}"
    );
}

#[test]
fn provincial_operation_is_validated_against_the_contract_without_mapping() {
    let svc = service();
    let op = &svc.contract.operations[0];
    let good = golden("ho-so-huyen-tinh/tests/toi-thieu/expected.xml");
    svc.validate(op, Direction::Request, &good).unwrap();
    let same = svc.map(op, Direction::Request, good.clone()).unwrap();
    assert_eq!(same.payload, good);
    assert!(same.mapping.is_none());

    let bad = String::from_utf8(good)
        .unwrap()
        .replace("2024-02-29", "29/02/2024");
    let err = svc
        .validate(op, Direction::Request, bad.as_bytes())
        .unwrap_err();
    let fault = fault_map::validation(&err);
    assert_eq!(fault.code, FaultCode::Sender);
    assert_eq!(fault.code_label(), "lt:SchemaViolation");
    assert_eq!(fault.details.len(), 1, "{:?}", fault.details);
    assert!(
        fault.details[0].starts_with("/t:ThongTinHoSo/t:NgayNop: '29/02/2024' is not a valid value of the atomic type 'xs:date'"),
        "{:?}",
        fault.details
    );
    // A district document sent to the provincial operation is refused by its root.
    let district = golden("ho-so-huyen-tinh/tests/toi-thieu/input.xml");
    let err = svc.validate(op, Direction::Request, &district).unwrap_err();
    assert!(fault_map::validation(&err).details[0].contains("expected root element"));
}

#[test]
fn invalid_district_request_is_a_sender_fault_listing_each_violation() {
    let svc = service();
    let op = &svc.contract.operations[1];
    let bad = String::from_utf8(golden("ho-so-huyen-tinh/tests/day-du/input.xml"))
        .unwrap()
        .replace(
            "<NgayNop>01/03/2024</NgayNop>",
            "<NgayNop>2024-03-01</NgayNop>",
        )
        .replace("<SoBan>2</SoBan>", "<SoBan>hai</SoBan>");
    let err = svc
        .validate(op, Direction::Request, bad.as_bytes())
        .unwrap_err();
    let fault = fault_map::validation(&err);
    assert_eq!(fault.code, FaultCode::Sender);
    assert_eq!(fault.details.len(), 2, "{:?}", fault.details);
    // The document uses a default namespace: paths name elements as it writes them.
    assert!(
        fault.details[0].starts_with("/HoSo/NgayNop: [facet 'pattern'] The value '2024-03-01'"),
        "{:?}",
        fault.details
    );
    assert_eq!(
        fault.details[1],
        "/HoSo/DanhSachGiayTo/GiayTo[2]/SoBan: 'hai' is not a valid value of the atomic type 'xs:positiveInteger' (line 17)"
    );
}

#[test]
fn invalid_provider_answer_is_a_receiver_fault() {
    let svc = service();
    let op = &svc.contract.operations[1];
    let bad = format!("<t:KetQuaTiepNhanHoSo xmlns:t=\"{T}\"><t:SoHoSo>1</t:SoHoSo><t:MaTrangThai>9</t:MaTrangThai></t:KetQuaTiepNhanHoSo>");
    let err = svc
        .validate(op, Direction::Response, bad.as_bytes())
        .unwrap_err();
    let fault = fault_map::validation(&err);
    assert_eq!(fault.code, FaultCode::Receiver);
    assert_eq!(fault.code_label(), "lt:InvalidProviderAnswer");
    assert!(
        fault.details.is_empty(),
        "provider internals stay out of the fault"
    );
}

#[test]
fn a_value_the_mapping_cannot_convert_fails_whole_as_a_sender_fault() {
    let svc = service();
    let op = &svc.contract.operations[1];
    let input = golden("ho-so-huyen-tinh/tests/loi-ngay-nop/input.xml");
    // dd/MM/yyyy by pattern, so valid for the district's schema...
    svc.validate(op, Direction::Request, &input).unwrap();
    // ...but not a date: nothing is forwarded.
    let Err(err) = svc.map(op, Direction::Request, input) else {
        panic!("mapped a non-date");
    };
    let fault = fault_map::mapping(&err);
    assert_eq!(fault.code, FaultCode::Sender);
    assert_eq!(fault.code_label(), "lt:MappingFailed");
    assert_eq!(
        fault.details,
        vec![
            "cannot map /h:HoSo/h:NgayNop: '31/02/2024' is not a valid date in the form dd/MM/yyyy"
        ]
    );
}

#[test]
fn a_mapping_bound_the_wrong_way_round_is_refused_at_load() {
    let good = service();
    let mut sc = good.config.clone();
    for b in &mut sc.mappings {
        if let Some(r) = &b.request {
            b.request = Some(
                r.with_file_name("x")
                    .parent()
                    .unwrap()
                    .parent()
                    .unwrap()
                    .join("ket-qua-tinh-huyen/mapping.toml"),
            );
        }
    }
    let err = Service::load(
        &good.config.wsdl,
        sc,
        good.contract.clone(),
        &Catalog::default(),
    )
    .err()
    .expect("refused");
    let msg = err.to_string();
    assert!(msg.contains("ket-qua-tinh-huyen/mapping.toml: bound to tiep-nhan-ho-so TiepNhanHoSoHuyen (Request): the mapping reads {urn:tinh:tiep-nhan-ho-so:1}KetQuaTiepNhanHoSo but the operation's request element is {urn:mot-cua-huyen:ho-so:1}HoSo"), "{msg}");
}

#[test]
fn payloads_for_the_zeep_end_to_end_are_documented_and_valid() {
    // docs/MAPPINGS.md quotes this file as the district's request body.
    let svc = service();
    let op = &svc.contract.operations[1];
    let p = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("conf/mappings/ho-so-huyen-tinh/tests/toi-thieu/input.xml");
    svc.validate(op, Direction::Request, &std::fs::read(p).unwrap())
        .unwrap();
}

/// CPU time per message on one thread, independent of machine load (criterion measures
/// wall time): `cargo test --release --test schema_mapping -- --ignored --nocapture`.
#[test]
#[ignore]
fn cpu_time_per_2kb_message() {
    use lienthong::mapping::Mapping;
    fn cpu() -> std::time::Duration {
        let mut ts = libc::timespec {
            tv_sec: 0,
            tv_nsec: 0,
        };
        // SAFETY: a valid timespec for the duration of the call.
        unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
        std::time::Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
    }
    let m = Mapping::load(&repo().join("conf/mappings/ho-so-huyen-tinh/mapping.toml")).unwrap();
    let base = String::from_utf8(golden("ho-so-huyen-tinh/tests/day-du/input.xml")).unwrap();
    let item = "    <GiayTo><TenGiayTo>Bản sao giấy tờ tùy thân của người đi đăng ký</TenGiayTo><SoBan>1</SoBan><BanChinh>K</BanChinh></GiayTo>\n";
    for (label, size) in [("2KB", 2048usize), ("1MB", 1 << 20)] {
        let n = size.saturating_sub(base.len()) / item.len();
        let doc = base.replacen(
            "  </DanhSachGiayTo>",
            &format!("{}  </DanhSachGiayTo>", item.repeat(n)),
            1,
        );
        let iters = if size > 4096 { 5 } else { 2000 };
        let root = &m.source.root;
        let time = |f: &dyn Fn()| {
            f();
            let t0 = cpu();
            for _ in 0..iters {
                f();
            }
            (cpu() - t0) / iters
        };
        let v = time(&|| {
            m.source
                .schemas
                .validate(doc.as_bytes(), Some(root))
                .unwrap()
        });
        let a = time(&|| {
            m.apply(doc.as_bytes(), Direction::Request).unwrap();
        });
        let out = m.apply(doc.as_bytes(), Direction::Request).unwrap();
        let p = time(&|| {
            lienthong::schema::tree::Tree::parse(&doc, false).unwrap();
        });
        let o = time(&|| {
            m.target
                .schemas
                .validate(&out, Some(&m.target.root))
                .unwrap()
        });
        println!("{label}: tree parse {p:?}, output validation {o:?}");
        println!("{label} ({} bytes): validate {v:?}, map (incl. output validation) {a:?}, validate+map {:?}", doc.len(), v + a);
    }
}
