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
    assert!(out.contains("AccessDenied"), "{out}");
    assert_eq!(gw.provider_calls(), 5);
}
