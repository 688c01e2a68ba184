//! WS-Security cost: verify and sign of a 2 KB and a 100 KB envelope with RSA-2048 and
//! P-256 keys, next to raw OpenSSL sign/verify with the same keys, and the ratios.
//!
//! `cargo bench --bench wssec -- --warm-up-time 1 --measurement-time 3`

use std::time::{Duration, Instant};

use bytes::Bytes;
use criterion::{black_box, BenchmarkId, Criterion};
use lienthong::config::Config;
use lienthong::model::SoapVersion;
use lienthong::soap::envelope::{self, Envelope};
use lienthong::wssec::{pki, Engine, ServicePolicy, Signer};
use openssl::hash::MessageDigest;
use openssl::pkey::{PKey, Private};

const CONSUMER: &str = "000.00.21.H38";

struct Setup {
    _dir: tempfile::TempDir,
    engine: Engine,
    keys: Vec<(&'static str, Signer, PKey<Private>)>,
}

fn setup() -> Setup {
    let dir = tempfile::tempdir().unwrap();
    let text = format!(
        "[gateway]\nnode_id = \"bench\"\n[security]\nreplay = \"memory\"\n[[agencies]]\ncode = \"{CONSUMER}\"\nname = \"UBND huyện Đông Sơn\"\n"
    );
    let path = dir.path().join("gateway.toml");
    std::fs::write(&path, &text).unwrap();
    let config = Config::parse(&path, &text).unwrap();
    pki::init(
        dir.path(),
        "bench",
        &config.agencies,
        false,
        Default::default(),
    )
    .unwrap();
    let engine = Engine::load(&config, dir.path()).unwrap();
    let ca = openssl::x509::X509::from_pem(&std::fs::read(dir.path().join("pki/ca.crt")).unwrap())
        .unwrap();
    let ca_key =
        PKey::private_key_from_pem(&std::fs::read(dir.path().join("pki/ca.key")).unwrap()).unwrap();

    let rsa_key =
        PKey::private_key_from_pem(&std::fs::read(pki::agency_key(dir.path(), CONSUMER)).unwrap())
            .unwrap();
    let rsa = Signer::load(
        &pki::agency_key(dir.path(), CONSUMER),
        &pki::agency_cert(dir.path(), CONSUMER),
        None,
        None,
    )
    .unwrap();
    let group = openssl::ec::EcGroup::from_curve_name(openssl::nid::Nid::X9_62_PRIME256V1).unwrap();
    let ec_key = PKey::from_ec_key(openssl::ec::EcKey::generate(&group).unwrap()).unwrap();
    let ec_key = PKey::private_key_from_pkcs8(&ec_key.private_key_to_pkcs8().unwrap()).unwrap();
    let ec_cert = pki::issue_for(
        &ec_key,
        CONSUMER,
        "EC",
        Some(CONSUMER),
        (&ca, &ca_key),
        pki::LEAF_VALIDITY,
    )
    .unwrap();
    let ec = Signer::new(ec_key.clone(), ec_cert, None).unwrap();
    Setup {
        _dir: dir,
        engine,
        keys: vec![("RSA-2048", rsa, rsa_key), ("P-256", ec, ec_key)],
    }
}

/// A document/literal request of about `size` bytes.
fn request(size: usize) -> Vec<u8> {
    let mut payload =
        String::from(r#"<ht:TraCuuKhaiSinh xmlns:ht="urn:lienthong:example:ho-tich:1">"#);
    let mut i = 0;
    while payload.len() + 600 < size {
        payload.push_str(&format!(
            "<ht:NguoiLienQuan><ht:SoDinhDanh>0012030{i:05}</ht:SoDinhDanh><ht:HoTen>Nguyễn Văn An</ht:HoTen><ht:NgaySinh>1990-01-{:02}</ht:NgaySinh><ht:NoiSinh>Đông Sơn, Thanh Hóa</ht:NoiSinh></ht:NguoiLienQuan>",
            i % 28 + 1
        ));
        i += 1;
    }
    payload.push_str("</ht:TraCuuKhaiSinh>");
    envelope::build(SoapVersion::V11, &[], payload.as_bytes())
}

fn parse(bytes: &[u8]) -> Envelope {
    envelope::parse(
        Bytes::copy_from_slice(bytes),
        SoapVersion::V11,
        &Default::default(),
    )
    .unwrap()
}

fn raw_sign(key: &PKey<Private>, data: &[u8]) -> Vec<u8> {
    let mut s = openssl::sign::Signer::new(MessageDigest::sha256(), key).unwrap();
    s.update(data).unwrap();
    s.sign_to_vec().unwrap()
}

fn raw_verify(key: &PKey<openssl::pkey::Public>, data: &[u8], sig: &[u8]) -> bool {
    let mut v = openssl::sign::Verifier::new(MessageDigest::sha256(), key).unwrap();
    v.update(data).unwrap();
    v.verify(sig).unwrap()
}

fn ttl() -> chrono::Duration {
    chrono::Duration::seconds(3600)
}

fn bench(c: &mut Criterion, s: &Setup) {
    let policy = ServicePolicy::default();
    // What the raw operations sign: about the size of a canonical SignedInfo.
    let signed_info = vec![b'x'; 900];
    for (name, signer, key) in &s.keys {
        let public = PKey::public_key_from_der(&key.public_key_to_der().unwrap()).unwrap();
        let sig = raw_sign(key, &signed_info);
        let mut g = c.benchmark_group(format!("wssec/{name}"));
        g.bench_function("raw openssl sign", |b| {
            b.iter(|| raw_sign(key, black_box(&signed_info)))
        });
        g.bench_function("raw openssl verify", |b| {
            b.iter(|| raw_verify(&public, black_box(&signed_info), &sig))
        });
        for (label, size) in [("2KB", 2 * 1024), ("100KB", 100 * 1024)] {
            let req = request(size);
            g.bench_with_input(BenchmarkId::new("sign", label), &req, |b, req| {
                b.iter(|| {
                    signer
                        .sign(black_box(req), &Default::default(), ttl())
                        .unwrap()
                })
            });
            let env = parse(&signer.sign(&req, &Default::default(), ttl()).unwrap());
            g.bench_with_input(BenchmarkId::new("verify", label), &env, |b, env| {
                b.iter(|| s.engine.verify(&policy, black_box(env)).unwrap())
            });
        }
        g.finish();
    }
}

/// Operations per second of `a` and of `b`, measured in alternating slices for about
/// `time` in all, so that load from elsewhere on a shared machine falls on both alike.
fn side_by_side(time: Duration, mut a: impl FnMut(), mut b: impl FnMut()) -> (f64, f64) {
    const ROUNDS: u32 = 10;
    let slice = time / (2 * ROUNDS);
    let run = |f: &mut dyn FnMut(), spent: &mut Duration, n: &mut u64| {
        let start = Instant::now();
        while start.elapsed() < slice {
            f();
            *n += 1;
        }
        *spent += start.elapsed();
    };
    a();
    b();
    let (mut ta, mut tb, mut na, mut nb) = (Duration::ZERO, Duration::ZERO, 0, 0);
    for _ in 0..ROUNDS {
        run(&mut a, &mut ta, &mut na);
        run(&mut b, &mut tb, &mut nb);
    }
    (na as f64 / ta.as_secs_f64(), nb as f64 / tb.as_secs_f64())
}

fn ratios(s: &Setup) {
    let policy = ServicePolicy::default();
    let signed_info = vec![b'x'; 900];
    let t = Duration::from_millis(1400);
    println!(
        "\n{:<9} {:>6} {:>12} {:>12} {:>9}   {:>12} {:>12} {:>9}",
        "key", "size", "sign/s", "raw sign/s", "ratio", "verify/s", "raw ver/s", "ratio"
    );
    for (name, signer, key) in &s.keys {
        let public = PKey::public_key_from_der(&key.public_key_to_der().unwrap()).unwrap();
        let sig = raw_sign(key, &signed_info);
        for (label, size) in [("2KB", 2 * 1024), ("100KB", 100 * 1024)] {
            let req = request(size);
            let (sign, raw_s) = side_by_side(
                t,
                || {
                    signer.sign(&req, &Default::default(), ttl()).unwrap();
                },
                || {
                    raw_sign(key, &signed_info);
                },
            );
            let env = parse(&signer.sign(&req, &Default::default(), ttl()).unwrap());
            let (verify, raw_v) = side_by_side(
                t,
                || {
                    s.engine.verify(&policy, &env).unwrap();
                },
                || {
                    raw_verify(&public, &signed_info, &sig);
                },
            );
            println!(
                "{name:<9} {label:>6} {sign:>12.0} {raw_s:>12.0} {:>8.0}%   {verify:>12.0} {raw_v:>12.0} {:>8.0}%",
                100.0 * sign / raw_s,
                100.0 * verify / raw_v
            );
        }
    }
}

fn main() {
    let s = setup();
    let mut c = Criterion::default().configure_from_args();
    bench(&mut c, &s);
    c.final_summary();
    ratios(&s);
}
