//! `ho-tich`: the Department of Justice's civil-status lookup (000.00.12.H38),
//! wsdl/ho-tich/HoTich.wsdl, document/literal wrapped over SOAP 1.1 and 1.2.

use yaserde::{YaDeserialize, YaSerialize};

use super::fixtures;
use super::soap::{self, ProviderFault, SoapRequest};
use super::types::CoQuan;

pub const NS: &str = "urn:lgsp:h38:hotich:1.0";
pub const AGENCY: &str = "000.00.12.H38";
pub const ACTION_KHAI_SINH: &str = "urn:lgsp:h38:hotich:TraCuuKhaiSinh";
pub const ACTION_KET_HON: &str = "urn:lgsp:h38:hotich:TraCuuKetHon";

/// Answers one request: the payload of the answer's Body, or a fault.
pub fn handle(req: &SoapRequest) -> Result<String, ProviderFault> {
    if req.root.is(NS, "TraCuuKhaiSinh") {
        soap::check_action(req, "TraCuuKhaiSinh", ACTION_KHAI_SINH)?;
        let q: TraCuuKhaiSinh = soap::decode(&req.payload)?;
        let found = fixtures::khai_sinh()
            .iter()
            .find(|k| q.matches(k))
            .ok_or_else(|| not_found("khai sinh", &q.key()))?;
        encode(&TraCuuKhaiSinhResponse {
            khai_sinh: found.clone(),
        })
    } else if req.root.is(NS, "TraCuuKetHon") {
        soap::check_action(req, "TraCuuKetHon", ACTION_KET_HON)?;
        let q: TraCuuKetHon = soap::decode(&req.payload)?;
        let mut found: Vec<ThongTinKetHon> = fixtures::ket_hon()
            .iter()
            .filter(|k| q.matches(k))
            .cloned()
            .collect();
        if found.is_empty() {
            return Err(not_found("kết hôn", &q.key()));
        }
        // Most recent first, as the schema documents. ISO dates sort as strings.
        found.sort_by(|a, b| b.ngay_dang_ky.cmp(&a.ngay_dang_ky));
        encode(&TraCuuKetHonResponse { ket_hon: found })
    } else {
        Err(soap::unknown_operation(&req.root))
    }
}

fn not_found(what: &str, key: &str) -> ProviderFault {
    ProviderFault::business(
        AGENCY,
        "KHONG_TIM_THAY",
        format!("Không tìm thấy thông tin đăng ký {what} với {key}"),
    )
}

fn encode<T: yaserde::YaSerialize>(v: &T) -> Result<String, ProviderFault> {
    soap::encode(v).map_err(ProviderFault::server)
}

/// `ht:TraCuuKhaiSinh`: by SoDinhDanh, or by SoDangKy plus MaCoQuanDangKy (an xs:choice
/// the gateway has already validated; a direct caller sending neither gets not-found).
#[derive(Debug, Clone, Default, PartialEq, Eq, YaSerialize, YaDeserialize)]
#[yaserde(
    rename = "TraCuuKhaiSinh",
    prefix = "ht",
    namespaces = { "ht" = "urn:lgsp:h38:hotich:1.0" }
)]
pub struct TraCuuKhaiSinh {
    #[yaserde(rename = "SoDinhDanh", prefix = "ht")]
    pub so_dinh_danh: Option<String>,
    #[yaserde(rename = "SoDangKy", prefix = "ht")]
    pub so_dang_ky: Option<String>,
    #[yaserde(rename = "MaCoQuanDangKy", prefix = "ht")]
    pub ma_co_quan_dang_ky: Option<String>,
    #[yaserde(rename = "MucDich", prefix = "ht")]
    pub muc_dich: Option<String>,
}

impl TraCuuKhaiSinh {
    fn matches(&self, k: &ThongTinKhaiSinh) -> bool {
        match (
            &self.so_dinh_danh,
            &self.so_dang_ky,
            &self.ma_co_quan_dang_ky,
        ) {
            (Some(id), _, _) => k.nguoi_duoc_khai_sinh.so_dinh_danh.as_ref() == Some(id),
            (None, Some(so), Some(cq)) => {
                &k.so_dang_ky == so && &k.co_quan_dang_ky.ma_co_quan == cq
            }
            _ => false,
        }
    }

    fn key(&self) -> String {
        lookup_key(
            &self.so_dinh_danh,
            &self.so_dang_ky,
            &self.ma_co_quan_dang_ky,
        )
    }
}

/// `ht:TraCuuKetHon`: by either spouse's SoDinhDanh, or by SoDangKy plus MaCoQuanDangKy.
#[derive(Debug, Clone, Default, PartialEq, Eq, YaSerialize, YaDeserialize)]
#[yaserde(
    rename = "TraCuuKetHon",
    prefix = "ht",
    namespaces = { "ht" = "urn:lgsp:h38:hotich:1.0" }
)]
pub struct TraCuuKetHon {
    #[yaserde(rename = "SoDinhDanh", prefix = "ht")]
    pub so_dinh_danh: Option<String>,
    #[yaserde(rename = "SoDangKy", prefix = "ht")]
    pub so_dang_ky: Option<String>,
    #[yaserde(rename = "MaCoQuanDangKy", prefix = "ht")]
    pub ma_co_quan_dang_ky: Option<String>,
    #[yaserde(rename = "MucDich", prefix = "ht")]
    pub muc_dich: Option<String>,
}

impl TraCuuKetHon {
    fn matches(&self, k: &ThongTinKetHon) -> bool {
        match (
            &self.so_dinh_danh,
            &self.so_dang_ky,
            &self.ma_co_quan_dang_ky,
        ) {
            (Some(id), _, _) => {
                k.chong.so_dinh_danh.as_ref() == Some(id) || k.vo.so_dinh_danh.as_ref() == Some(id)
            }
            (None, Some(so), Some(cq)) => {
                &k.so_dang_ky == so && &k.co_quan_dang_ky.ma_co_quan == cq
            }
            _ => false,
        }
    }

    fn key(&self) -> String {
        lookup_key(
            &self.so_dinh_danh,
            &self.so_dang_ky,
            &self.ma_co_quan_dang_ky,
        )
    }
}

fn lookup_key(id: &Option<String>, so: &Option<String>, cq: &Option<String>) -> String {
    match (id, so, cq) {
        (Some(id), _, _) => format!("số định danh {id}"),
        (None, Some(so), Some(cq)) => format!("số đăng ký {so} tại cơ quan {cq}"),
        _ => "yêu cầu không có số định danh hoặc số đăng ký".to_string(),
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, YaSerialize, YaDeserialize)]
#[yaserde(
    rename = "TraCuuKhaiSinhResponse",
    prefix = "ht",
    namespaces = { "ht" = "urn:lgsp:h38:hotich:1.0" }
)]
pub struct TraCuuKhaiSinhResponse {
    #[yaserde(rename = "KhaiSinh", prefix = "ht")]
    pub khai_sinh: ThongTinKhaiSinh,
}

/// `ht:ThongTinKhaiSinh` (schemas/ho-tich/KhaiSinh.xsd).
#[derive(Debug, Clone, Default, PartialEq, Eq, YaSerialize, YaDeserialize)]
#[yaserde(prefix = "ht", namespaces = { "ht" = "urn:lgsp:h38:hotich:1.0" })]
pub struct ThongTinKhaiSinh {
    #[yaserde(rename = "SoDangKy", prefix = "ht")]
    pub so_dang_ky: String,
    #[yaserde(rename = "QuyenSo", prefix = "ht")]
    pub quyen_so: Option<String>,
    #[yaserde(rename = "NgayDangKy", prefix = "ht")]
    pub ngay_dang_ky: String,
    #[yaserde(rename = "CoQuanDangKy", prefix = "ht")]
    pub co_quan_dang_ky: CoQuan,
    #[yaserde(rename = "NguoiDuocKhaiSinh", prefix = "ht")]
    pub nguoi_duoc_khai_sinh: NguoiDuocKhaiSinh,
    #[yaserde(rename = "Cha", prefix = "ht")]
    pub cha: Option<ThongTinChaMe>,
    #[yaserde(rename = "Me", prefix = "ht")]
    pub me: Option<ThongTinChaMe>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, YaSerialize, YaDeserialize)]
#[yaserde(prefix = "ht", namespaces = { "ht" = "urn:lgsp:h38:hotich:1.0" })]
pub struct NguoiDuocKhaiSinh {
    #[yaserde(rename = "HoTen", prefix = "ht")]
    pub ho_ten: String,
    /// 0 unknown, 1 male, 2 female (dm:GioiTinh).
    #[yaserde(rename = "GioiTinh", prefix = "ht")]
    pub gioi_tinh: String,
    #[yaserde(rename = "NgaySinh", prefix = "ht")]
    pub ngay_sinh: String,
    #[yaserde(rename = "NoiSinh", prefix = "ht")]
    pub noi_sinh: String,
    #[yaserde(rename = "DanToc", prefix = "ht")]
    pub dan_toc: String,
    #[yaserde(rename = "QuocTich", prefix = "ht")]
    pub quoc_tich: String,
    #[yaserde(rename = "SoDinhDanh", prefix = "ht")]
    pub so_dinh_danh: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, YaSerialize, YaDeserialize)]
#[yaserde(prefix = "ht", namespaces = { "ht" = "urn:lgsp:h38:hotich:1.0" })]
pub struct ThongTinChaMe {
    #[yaserde(rename = "HoTen", prefix = "ht")]
    pub ho_ten: String,
    #[yaserde(rename = "NamSinh", prefix = "ht")]
    pub nam_sinh: String,
    #[yaserde(rename = "DanToc", prefix = "ht")]
    pub dan_toc: String,
    #[yaserde(rename = "QuocTich", prefix = "ht")]
    pub quoc_tich: String,
    #[yaserde(rename = "NoiCuTru", prefix = "ht")]
    pub noi_cu_tru: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, YaSerialize, YaDeserialize)]
#[yaserde(
    rename = "TraCuuKetHonResponse",
    prefix = "ht",
    namespaces = { "ht" = "urn:lgsp:h38:hotich:1.0" }
)]
pub struct TraCuuKetHonResponse {
    #[yaserde(rename = "KetHon", prefix = "ht")]
    pub ket_hon: Vec<ThongTinKetHon>,
}

/// `ht:ThongTinKetHon` (schemas/ho-tich/KetHon.xsd).
#[derive(Debug, Clone, Default, PartialEq, Eq, YaSerialize, YaDeserialize)]
#[yaserde(prefix = "ht", namespaces = { "ht" = "urn:lgsp:h38:hotich:1.0" })]
pub struct ThongTinKetHon {
    #[yaserde(rename = "SoDangKy", prefix = "ht")]
    pub so_dang_ky: String,
    #[yaserde(rename = "NgayDangKy", prefix = "ht")]
    pub ngay_dang_ky: String,
    #[yaserde(rename = "CoQuanDangKy", prefix = "ht")]
    pub co_quan_dang_ky: CoQuan,
    #[yaserde(rename = "Chong", prefix = "ht")]
    pub chong: ThongTinVoChong,
    #[yaserde(rename = "Vo", prefix = "ht")]
    pub vo: ThongTinVoChong,
    /// CON_HIEU_LUC, DA_LY_HON or DA_HUY.
    #[yaserde(rename = "TinhTrang", prefix = "ht")]
    pub tinh_trang: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, YaSerialize, YaDeserialize)]
#[yaserde(prefix = "ht", namespaces = { "ht" = "urn:lgsp:h38:hotich:1.0" })]
pub struct ThongTinVoChong {
    #[yaserde(rename = "HoTen", prefix = "ht")]
    pub ho_ten: String,
    #[yaserde(rename = "NgaySinh", prefix = "ht")]
    pub ngay_sinh: String,
    #[yaserde(rename = "DanToc", prefix = "ht")]
    pub dan_toc: String,
    #[yaserde(rename = "QuocTich", prefix = "ht")]
    pub quoc_tich: String,
    #[yaserde(rename = "SoDinhDanh", prefix = "ht")]
    pub so_dinh_danh: Option<String>,
    #[yaserde(rename = "NoiCuTru", prefix = "ht")]
    pub noi_cu_tru: String,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::SoapVersion::{V11, V12};
    use crate::providers::soap::testing::call;
    use http::StatusCode;

    const BY_ID: &str = r#"<ht:TraCuuKhaiSinh xmlns:ht="urn:lgsp:h38:hotich:1.0"><ht:SoDinhDanh>038224001234</ht:SoDinhDanh></ht:TraCuuKhaiSinh>"#;

    #[test]
    fn birth_by_id_in_both_versions() {
        for v in [V11, V12] {
            let (status, body) = call("/ho-tich", v, ACTION_KHAI_SINH, BY_ID);
            assert_eq!(status, StatusCode::OK, "{body}");
            assert!(body.contains(v.envelope_ns()), "{body}");
            assert!(
                body.contains("<ht:TraCuuKhaiSinhResponse xmlns:ht=\"urn:lgsp:h38:hotich:1.0\">")
            );
            assert!(body.contains("<ht:HoTen>Lê Minh Anh</ht:HoTen>"), "{body}");
            assert!(
                body.contains("<dm:MaCoQuan>000.05.27.H38</dm:MaCoQuan>"),
                "{body}"
            );
        }
    }

    #[test]
    fn birth_by_register_entry_default_namespace() {
        let q = r#"<TraCuuKhaiSinh xmlns="urn:lgsp:h38:hotich:1.0"><SoDangKy>48/1996</SoDangKy><MaCoQuanDangKy>000.03.21.H38</MaCoQuanDangKy><MucDich>Kiểm tra</MucDich></TraCuuKhaiSinh>"#;
        let (status, body) = call("/ho-tich", V11, ACTION_KHAI_SINH, q);
        assert_eq!(status, StatusCode::OK, "{body}");
        assert!(
            body.contains("<ht:HoTen>Trịnh Thị Mai</ht:HoTen>"),
            "{body}"
        );
        // Same entry number at another authority is another record.
        let other = q.replace("000.03.21.H38", "000.01.21.H38");
        let (status, _) = call("/ho-tich", V11, ACTION_KHAI_SINH, &other);
        assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
    }

    #[test]
    fn unknown_person_is_a_client_fault_with_detail() {
        let q = BY_ID.replace("038224001234", "038200999999");
        let (status, body) = call("/ho-tich", V11, ACTION_KHAI_SINH, &q);
        assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
        assert!(
            body.contains("<faultcode>soap:Client</faultcode>"),
            "{body}"
        );
        assert!(
            body.contains("<dm:MaLoi>KHONG_TIM_THAY</dm:MaLoi>"),
            "{body}"
        );
        assert!(
            body.contains("<dm:CoQuanXuLy>000.00.12.H38</dm:CoQuanXuLy>"),
            "{body}"
        );
        assert!(body.contains("038200999999"), "{body}");
        let (status, body) = call("/ho-tich", V12, ACTION_KHAI_SINH, &q);
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert!(
            body.contains("<soap:Value>soap:Sender</soap:Value>"),
            "{body}"
        );
        assert!(body.contains("<soap:Detail><dm:LoiNghiepVu"), "{body}");
    }

    #[test]
    fn marriages_of_a_person_most_recent_first() {
        let q = r#"<p:TraCuuKetHon xmlns:p="urn:lgsp:h38:hotich:1.0"><p:SoDinhDanh>038089002468</p:SoDinhDanh></p:TraCuuKetHon>"#;
        let (status, body) = call("/ho-tich", V12, ACTION_KET_HON, q);
        assert_eq!(status, StatusCode::OK, "{body}");
        let first = body.find("102/2019").expect("2019 marriage");
        let second = body.find("15/2015").expect("2015 marriage");
        assert!(first < second, "{body}");
        assert!(body.contains("<ht:TinhTrang>DA_LY_HON</ht:TinhTrang>"));
        // Either spouse finds the record.
        let wife = q.replace("038089002468", "038196004567");
        let (status, body) = call("/ho-tich", V11, ACTION_KET_HON, &wife);
        assert_eq!(status, StatusCode::OK, "{body}");
        assert!(body.contains("37/2021"), "{body}");
    }

    #[test]
    fn action_must_name_the_operation_in_the_body() {
        let (status, body) = call("/ho-tich", V11, ACTION_KET_HON, BY_ID);
        assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
        assert!(body.contains("soap:Client"), "{body}");
        let q = r#"<ht:TraCuuLyHon xmlns:ht="urn:lgsp:h38:hotich:1.0"/>"#;
        let (_, body) = call("/ho-tich", V11, ACTION_KET_HON, q);
        assert!(body.contains("TraCuuLyHon"), "{body}");
    }

    /// docs/LIBRARIES.md, "yaserde drops elements in an unexpected namespace": yaserde
    /// skips elements whose namespace it does not expect. Every namespace form a caller or
    /// the gateway may use must keep every element; a form yaserde would drop from must be
    /// refused, never answered from a partial read.
    #[test]
    fn no_element_is_dropped_whatever_the_namespace_form() {
        let expected = TraCuuKhaiSinh {
            so_dinh_danh: Some("038224001234".into()),
            muc_dich: Some("Cấp hộ chiếu".into()),
            ..Default::default()
        };
        let forms = [
            // Prefix declared on the payload root (what envelope::build sends on).
            r#"<ht:TraCuuKhaiSinh xmlns:ht="urn:lgsp:h38:hotich:1.0"><ht:SoDinhDanh>038224001234</ht:SoDinhDanh><ht:MucDich>Cấp hộ chiếu</ht:MucDich></ht:TraCuuKhaiSinh>"#,
            // Default namespace.
            r#"<TraCuuKhaiSinh xmlns="urn:lgsp:h38:hotich:1.0"><SoDinhDanh>038224001234</SoDinhDanh><MucDich>Cấp hộ chiếu</MucDich></TraCuuKhaiSinh>"#,
            // Another prefix, as zeep writes (ns0).
            r#"<ns0:TraCuuKhaiSinh xmlns:ns0="urn:lgsp:h38:hotich:1.0"><ns0:SoDinhDanh>038224001234</ns0:SoDinhDanh><ns0:MucDich>Cấp hộ chiếu</ns0:MucDich></ns0:TraCuuKhaiSinh>"#,
            // Prefix redeclared on a child, default namespace on another.
            r#"<a:TraCuuKhaiSinh xmlns:a="urn:lgsp:h38:hotich:1.0"><b:SoDinhDanh xmlns:b="urn:lgsp:h38:hotich:1.0">038224001234</b:SoDinhDanh><MucDich xmlns="urn:lgsp:h38:hotich:1.0">Cấp hộ chiếu</MucDich></a:TraCuuKhaiSinh>"#,
            // Unused extra declarations (inherited from an envelope) on the root.
            r#"<ht:TraCuuKhaiSinh xmlns:ht="urn:lgsp:h38:hotich:1.0" xmlns="urn:other" xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><ht:SoDinhDanh>038224001234</ht:SoDinhDanh><ht:MucDich>Cấp hộ chiếu</ht:MucDich></ht:TraCuuKhaiSinh>"#,
        ];
        for form in forms {
            let q: TraCuuKhaiSinh = soap::decode(form).unwrap_or_else(|e| panic!("{e}: {form}"));
            assert_eq!(q, expected, "{form}");
            let (status, body) = call(
                "/ho-tich",
                crate::model::SoapVersion::V11,
                ACTION_KHAI_SINH,
                form,
            );
            assert_eq!(status, StatusCode::OK, "{form}\n{body}");
        }
        // An element in a namespace the type does not expect: yaserde alone would skip it
        // and answer from what is left; the guard refuses instead.
        let foreign = r#"<ht:TraCuuKhaiSinh xmlns:ht="urn:lgsp:h38:hotich:1.0"><x:SoDinhDanh xmlns:x="urn:lgsp:h38:hotich:2.0">038224001234</x:SoDinhDanh></ht:TraCuuKhaiSinh>"#;
        let silently: TraCuuKhaiSinh = yaserde::de::from_str(foreign).unwrap();
        assert_eq!(
            silently.so_dinh_danh, None,
            "yaserde drops it, which is why we check"
        );
        let err = soap::decode::<TraCuuKhaiSinh>(foreign).unwrap_err();
        assert!(
            err.reason.contains("{urn:lgsp:h38:hotich:2.0}SoDinhDanh"),
            "{err}"
        );
        let unqualified = r#"<ht:TraCuuKhaiSinh xmlns:ht="urn:lgsp:h38:hotich:1.0"><SoDinhDanh>038224001234</SoDinhDanh></ht:TraCuuKhaiSinh>"#;
        assert!(soap::decode::<TraCuuKhaiSinh>(unqualified).is_err());
        let unknown = r#"<ht:TraCuuKhaiSinh xmlns:ht="urn:lgsp:h38:hotich:1.0"><ht:SoDinhDanh>038224001234</ht:SoDinhDanh><ht:HoTen>X</ht:HoTen></ht:TraCuuKhaiSinh>"#;
        assert!(soap::decode::<TraCuuKhaiSinh>(unknown).is_err());
    }

    #[test]
    fn envelope_level_declarations_reach_the_payload() {
        // Prefix declared on the Envelope only, as many clients write it.
        let env = r#"<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:ht="urn:lgsp:h38:hotich:1.0"><soapenv:Header/><soapenv:Body><ht:TraCuuKhaiSinh><ht:SoDinhDanh>038224001234</ht:SoDinhDanh></ht:TraCuuKhaiSinh></soapenv:Body></soapenv:Envelope>"#;
        let r =
            crate::providers::answer("/ho-tich", Some("text/xml"), Some("\"\""), env.as_bytes());
        let body = String::from_utf8(r.body).unwrap();
        assert_eq!(r.status, StatusCode::OK, "{body}");
        assert!(body.contains("Lê Minh Anh"));
    }
}
