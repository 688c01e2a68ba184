//! A real third-party SOAP stack (Python zeep) imports the WSDLs the gateway publishes and
//! calls through it: document/literal over SOAP 1.1 and 1.2, and rpc/literal.

mod common;

use common::*;

fn zeep(
    gw: &Gateway,
    service: &str,
    op: &str,
    args: &str,
    soap12: bool,
    consumer: &str,
) -> (i32, String, String) {
    let wsdl = gw.url(&format!("/services/{service}?wsdl"));
    let mut a = vec![
        "--wsdl",
        &wsdl,
        "--operation",
        op,
        "--args",
        args,
        "--consumer",
        consumer,
    ];
    if soap12 {
        a.push("--soap12");
    }
    python("zeep_call.py", &a)
}

#[test]
fn zeep_calls_published_services_through_the_gateway() {
    let gw = Gateway::start(unsigned);

    let (code, out, err) = zeep(
        &gw,
        "ho-tich",
        "TraCuuKhaiSinh",
        r#"{"SoDinhDanh": "038224001234"}"#,
        false,
        "000.00.00.H38",
    );
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("038224001234"), "{out}");

    let (code, out, err) = zeep(
        &gw,
        "ho-tich",
        "TraCuuKhaiSinh",
        r#"{"SoDinhDanh": "038224001234"}"#,
        true,
        "000.00.00.H38",
    );
    assert_eq!(code, 0, "SOAP 1.2: {out}{err}");

    let (code, out, err) = zeep(
        &gw,
        "mot-cua",
        "TraCuuTrangThaiHoSo",
        r#"{"MaHoSo": "000.00.21.H38-261118-0007"}"#,
        true,
        "000.00.00.H38",
    );
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("261118-0007"), "{out}");

    let (code, out, err) = zeep(
        &gw,
        "dang-ky-kinh-doanh",
        "TraCuuDoanhNghiep",
        r#"{"MaSoDoanhNghiep": "2801234567"}"#,
        false,
        "000.00.00.H38",
    );
    assert_eq!(code, 0, "rpc/literal: {out}{err}");
    assert!(out.contains("2801234567"), "{out}");
    assert_eq!(gw.provider_calls(), 4);

    // A provider's own fault reaches zeep as a fault.
    let (code, out, _) = zeep(
        &gw,
        "ho-tich",
        "TraCuuKhaiSinh",
        r#"{"SoDinhDanh": "038200999999"}"#,
        false,
        "000.00.00.H38",
    );
    assert_eq!(code, 3, "{out}");
    // A refused call too, and it never reaches the provider.
    let (code, out, _) = zeep(
        &gw,
        "ho-tich",
        "TraCuuKetHon",
        r#"{"SoDinhDanh": "038094007890"}"#,
        false,
        "000.00.21.H38",
    );
    assert_eq!(code, 3, "{out}");
    assert!(
        out.contains(r#""fault": "soap:Client""#) && out.contains(r#""code": "lt:AccessDenied""#),
        "{out}"
    );
    assert_eq!(gw.provider_calls(), 5);
}

#[test]
fn zeep_signs_its_call_and_verifies_the_gateways_signed_answer() {
    // Default policy: signature required.
    let gw = Gateway::start(|_| {});
    let pki = gw.data_dir().join("pki");
    let key = pki.join("agencies/000.00.00.H38.key");
    let cert = pki.join("agencies/000.00.00.H38.crt");
    let server = pki.join("gateway.crt");
    let wsdl = gw.url("/services/ho-tich?wsdl");
    let args = [
        "--wsdl",
        &wsdl,
        "--operation",
        "TraCuuKhaiSinh",
        "--args",
        r#"{"SoDinhDanh": "038224001234"}"#,
        "--key",
        key.to_str().unwrap(),
        "--cert",
        cert.to_str().unwrap(),
        "--server-cert",
        server.to_str().unwrap(),
    ];
    let (code, out, err) = python("zeep_call.py", &args);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("038224001234"), "{out}");
    let mut a12 = args.to_vec();
    a12.push("--soap12");
    let (code, out, err) = python("zeep_call.py", &a12);
    assert_eq!(code, 0, "SOAP 1.2: {out}{err}");

    // Unsigned: refused with a WS-Security fault, which zeep reads as a fault.
    let (code, out, _) = python("zeep_call.py", &args[..6]);
    assert_eq!(code, 3, "{out}");
    assert!(
        out.contains(r#""fault": "soap:Client""#)
            && out.contains(r#""code": "wsse:InvalidSecurity""#),
        "{out}"
    );
    assert_eq!(gw.provider_calls(), 2);
}

#[test]
fn zeep_speaking_the_district_schema_reaches_the_provincial_registry_through_a_mapping() {
    let gw = Gateway::start(unsigned);
    let args = r#"{"MaHoSo": "H38.21-240302-0007", "MaThuTuc": "1.000656", "LinhVuc": "DD", "NgayNop": "29/02/2024",
        "NguoiNop": {"HoTen": "Trần Văn Nam", "SoCCCD": "038088004321", "DiaChi": "Thị trấn Rừng Thông"},
        "MaDonVi": "000.00.21.H38"}"#;
    let (code, out, err) = zeep(
        &gw,
        "tiep-nhan-ho-so",
        "TiepNhanHoSoHuyen",
        args,
        false,
        "000.00.21.H38",
    );
    assert_eq!(code, 0, "{out}{err}");
    // The answer comes back in the district's schema (dd/MM/yyyy dates, district status).
    assert!(
        out.contains("DA_TIEP_NHAN") && out.contains("14/03/2024"),
        "{out}"
    );
    // A date the mapping cannot convert: a fault zeep reads, nothing forwarded.
    let bad = args.replace("29/02/2024", "31/02/2024");
    let (code, out, _) = zeep(
        &gw,
        "tiep-nhan-ho-so",
        "TiepNhanHoSoHuyen",
        &bad,
        false,
        "000.00.21.H38",
    );
    assert_eq!(code, 3, "{out}");
    assert!(
        out.contains(r#""fault": "soap:Client""#) && out.contains(r#""code": "lt:MappingFailed""#),
        "{out}"
    );
    assert_eq!(gw.provider_calls(), 1);
}
