//! rpc/literal validation end to end: the Body child of `dang-ky-kinh-doanh` is the rpc
//! wrapper `{urn:lgsp:h38:dkkd:wsdl:1.0}TraCuuDoanhNghiep`, declared by no schema; the
//! gateway validates its part accessors against the part types (WSDL 1.1 §3.5, WS-I BP 1.1
//! R2729) through the generated wrapper schema, both ways.

mod common;

use common::*;

const CONSUMER: &str = "000.00.00.H38";

fn post(gw: &Gateway, body: &str) -> HttpResponse {
    http(
        gw.gateway.addr,
        "POST",
        "/services/dang-ky-kinh-doanh",
        &[
            ("Content-Type", "text/xml; charset=utf-8"),
            ("SOAPAction", "\"urn:lgsp:h38:dkkd:TraCuuDoanhNghiep\""),
            ("X-Lienthong-Consumer", CONSUMER),
        ],
        body.as_bytes(),
    )
}

#[test]
fn rpc_part_accessors_are_validated_against_the_part_types() {
    let gw = Gateway::start(unsigned);
    let good = example("dang-ky-kinh-doanh-TraCuuDoanhNghiep");
    assert!(good.contains("<MaSoDoanhNghiep>2801234567</MaSoDoanhNghiep>"));

    // A valid request goes through, and the provider's answer validates (an invalid
    // answer would be an InvalidProviderAnswer fault).
    let r = post(&gw, &envelope11(&good));
    let t = r.text();
    assert_eq!(r.status, 200, "{t}");
    assert!(t.contains("TraCuuDoanhNghiepResponse"), "{t}");
    assert!(!t.contains("Fault"), "{t}");
    assert_eq!(gw.provider_calls(), 1);

    // Five digits do not match the part's type: refused before forwarding, the detail
    // naming the accessor.
    let short = good.replace(">2801234567<", ">28012<");
    let r = post(&gw, &envelope11(&short));
    let t = r.text();
    assert_eq!(r.status, 500, "{t}");
    assert!(
        t.contains("<faultcode>soap:Client</faultcode>")
            && t.contains("<lt:Code>lt:SchemaViolation</lt:Code>"),
        "{t}"
    );
    // The answer is sent as the gateway wrote it, so the quote may be escaped.
    assert!(
        t.replace("&apos;", "'")
            .contains("<lt:Problem>/dk:TraCuuDoanhNghiep/MaSoDoanhNghiep: [facet 'pattern']"),
        "{t}"
    );
    assert_eq!(gw.provider_calls(), 1);

    // A qualified accessor is not the part accessor (R2735: unqualified).
    let qualified = good.replace(
        "<MaSoDoanhNghiep>2801234567</MaSoDoanhNghiep>",
        "<dk:MaSoDoanhNghiep>2801234567</dk:MaSoDoanhNghiep>",
    );
    let r = post(&gw, &envelope11(&qualified));
    let t = r.text();
    assert_eq!(r.status, 500, "{t}");
    assert!(t.contains("SchemaViolation"), "{t}");

    // A missing part is refused too.
    let empty = good.replace("<MaSoDoanhNghiep>2801234567</MaSoDoanhNghiep>", "");
    let r = post(&gw, &envelope11(&empty));
    let t = r.text();
    assert_eq!(r.status, 500, "{t}");
    assert!(
        t.contains("SchemaViolation") && t.contains("MaSoDoanhNghiep"),
        "{t}"
    );
    assert_eq!(gw.provider_calls(), 1);
}
