//! `dang-ky-kinh-doanh`: the Department of Planning and Investment's business-registration
//! lookup (000.00.13.H38), wsdl/dang-ky-kinh-doanh/DangKyKinhDoanh.wsdl, rpc/literal over
//! SOAP 1.1.
//!
//! rpc/literal (WSDL 1.1 §3.5, WS-I BP 1.1 R2729/R2735): the Body's child is named after the
//! operation (answer: operation + "Response") in the `soap:body namespace`; its children are
//! the message parts, unqualified, each holding content of the part's schema type.

use yaserde::{YaDeserialize, YaSerialize};

use super::fixtures;
use super::soap::{self, ProviderFault, SoapRequest};
use super::types::{CoQuan, DiaChi};

/// The `soap:body namespace` of the binding: the rpc wrapper's namespace.
pub const RPC_NS: &str = "urn:lgsp:h38:dkkd:wsdl:1.0";
/// The namespace of schemas/dang-ky-kinh-doanh/DoanhNghiep.xsd.
pub const NS: &str = "urn:lgsp:h38:dkkd:1.0";
pub const AGENCY: &str = "000.00.13.H38";
pub const ACTION: &str = "urn:lgsp:h38:dkkd:TraCuuDoanhNghiep";

pub fn handle(req: &SoapRequest) -> Result<String, ProviderFault> {
    if !req.root.is(RPC_NS, "TraCuuDoanhNghiep") {
        return Err(soap::unknown_operation(&req.root));
    }
    soap::check_action(req, "TraCuuDoanhNghiep", ACTION)?;
    let q: TraCuuDoanhNghiep = soap::decode(&req.payload)?;
    let ma = q.ma_so_doanh_nghiep.trim();
    let found = fixtures::doanh_nghiep()
        .iter()
        .find(|d| d.ma_so_doanh_nghiep == ma)
        .ok_or_else(|| {
            ProviderFault::business(
                AGENCY,
                "KHONG_TIM_THAY",
                format!("Không tìm thấy doanh nghiệp có mã số {ma}"),
            )
        })?;
    soap::encode(&TraCuuDoanhNghiepResponse {
        doanh_nghiep: found.clone(),
    })
    .map_err(ProviderFault::server)
}

/// The rpc wrapper of the request, with its one part.
#[derive(Debug, Clone, Default, PartialEq, Eq, YaSerialize, YaDeserialize)]
#[yaserde(
    rename = "TraCuuDoanhNghiep",
    prefix = "dk",
    namespaces = { "dk" = "urn:lgsp:h38:dkkd:wsdl:1.0" }
)]
pub struct TraCuuDoanhNghiep {
    /// Part accessor: unqualified (WS-I BP 1.1 R2735).
    #[yaserde(rename = "MaSoDoanhNghiep")]
    pub ma_so_doanh_nghiep: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, YaSerialize, YaDeserialize)]
#[yaserde(
    rename = "TraCuuDoanhNghiepResponse",
    prefix = "dk",
    namespaces = { "dk" = "urn:lgsp:h38:dkkd:wsdl:1.0" }
)]
pub struct TraCuuDoanhNghiepResponse {
    #[yaserde(rename = "DoanhNghiep")]
    pub doanh_nghiep: ThongTinDoanhNghiep,
}

/// `dn:ThongTinDoanhNghiep`: the content of the `DoanhNghiep` part.
#[derive(Debug, Clone, Default, PartialEq, Eq, YaSerialize, YaDeserialize)]
#[yaserde(namespaces = { "dn" = "urn:lgsp:h38:dkkd:1.0" })]
pub struct ThongTinDoanhNghiep {
    #[yaserde(rename = "MaSoDoanhNghiep", prefix = "dn")]
    pub ma_so_doanh_nghiep: String,
    #[yaserde(rename = "TenDoanhNghiep", prefix = "dn")]
    pub ten_doanh_nghiep: String,
    #[yaserde(rename = "TenTiengNuocNgoai", prefix = "dn")]
    pub ten_tieng_nuoc_ngoai: Option<String>,
    #[yaserde(rename = "TenVietTat", prefix = "dn")]
    pub ten_viet_tat: Option<String>,
    /// TNHH_1TV, TNHH_2TV, CO_PHAN, HOP_DANH or TU_NHAN.
    #[yaserde(rename = "LoaiHinh", prefix = "dn")]
    pub loai_hinh: String,
    #[yaserde(rename = "DiaChiTruSo", prefix = "dn")]
    pub dia_chi_tru_so: DiaChi,
    #[yaserde(rename = "NguoiDaiDien", prefix = "dn")]
    pub nguoi_dai_dien: Vec<NguoiDaiDien>,
    /// Charter capital in dong, a whole number.
    #[yaserde(rename = "VonDieuLe", prefix = "dn")]
    pub von_dieu_le: Option<String>,
    #[yaserde(rename = "NgayDangKyLanDau", prefix = "dn")]
    pub ngay_dang_ky_lan_dau: String,
    #[yaserde(rename = "NgayThayDoiGanNhat", prefix = "dn")]
    pub ngay_thay_doi_gan_nhat: Option<String>,
    #[yaserde(rename = "TinhTrang", prefix = "dn")]
    pub tinh_trang: String,
    #[yaserde(rename = "CoQuanDangKy", prefix = "dn")]
    pub co_quan_dang_ky: CoQuan,
}

/// `dn:NguoiDaiDienPhapLuat`: a legal representative.
#[derive(Debug, Clone, Default, PartialEq, Eq, YaSerialize, YaDeserialize)]
#[yaserde(prefix = "dn", namespaces = { "dn" = "urn:lgsp:h38:dkkd:1.0" })]
pub struct NguoiDaiDien {
    #[yaserde(rename = "HoTen", prefix = "dn")]
    pub ho_ten: String,
    #[yaserde(rename = "ChucDanh", prefix = "dn")]
    pub chuc_danh: String,
    #[yaserde(rename = "SoDinhDanh", prefix = "dn")]
    pub so_dinh_danh: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::SoapVersion::V11;
    use crate::providers::soap::testing::call;
    use http::StatusCode;

    fn query(code: &str) -> String {
        format!(
            r#"<dk:TraCuuDoanhNghiep xmlns:dk="urn:lgsp:h38:dkkd:wsdl:1.0"><MaSoDoanhNghiep>{code}</MaSoDoanhNghiep></dk:TraCuuDoanhNghiep>"#
        )
    }

    #[test]
    fn enterprise_by_code() {
        let (status, body) = call("/dang-ky-kinh-doanh", V11, ACTION, &query("2802345678"));
        assert_eq!(status, StatusCode::OK, "{body}");
        assert!(body.contains(r#"<dk:TraCuuDoanhNghiepResponse xmlns:dk="urn:lgsp:h38:dkkd:wsdl:1.0"><DoanhNghiep xmlns:dn="urn:lgsp:h38:dkkd:1.0"><dn:MaSoDoanhNghiep>2802345678</dn:MaSoDoanhNghiep>"#), "{body}");
        assert!(body.contains("<dn:TinhTrang>TAM_NGUNG_KINH_DOANH</dn:TinhTrang>"));
        // Two legal representatives, in order.
        let a = body.find("Trịnh Văn Quang").unwrap();
        let b = body.find("Đỗ Thị Ngọc Lan").unwrap();
        assert!(a < b);
    }

    #[test]
    fn unknown_enterprise_is_a_client_fault() {
        let (status, body) = call("/dang-ky-kinh-doanh", V11, ACTION, &query("2809999999"));
        assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
        assert!(
            body.contains("<faultcode>soap:Client</faultcode>"),
            "{body}"
        );
        assert!(
            body.contains("<dm:MaLoi>KHONG_TIM_THAY</dm:MaLoi>"),
            "{body}"
        );
        assert!(body.contains("<dm:CoQuanXuLy>000.00.13.H38</dm:CoQuanXuLy>"));
    }

    #[test]
    fn rpc_part_accessor_must_be_unqualified() {
        // WS-I BP 1.1 R2735: part accessors have no namespace. A qualified accessor would
        // be skipped by yaserde; it is refused rather than answered as "not found".
        let qualified = r#"<dk:TraCuuDoanhNghiep xmlns:dk="urn:lgsp:h38:dkkd:wsdl:1.0"><dk:MaSoDoanhNghiep>2801234567</dk:MaSoDoanhNghiep></dk:TraCuuDoanhNghiep>"#;
        let err = soap::decode::<TraCuuDoanhNghiep>(qualified).unwrap_err();
        assert_eq!(err.code, soap::FaultClass::Client);
        // A default namespace on the wrapper puts the accessor in it too: also refused.
        let defaulted = r#"<TraCuuDoanhNghiep xmlns="urn:lgsp:h38:dkkd:wsdl:1.0"><MaSoDoanhNghiep>2801234567</MaSoDoanhNghiep></TraCuuDoanhNghiep>"#;
        assert!(soap::decode::<TraCuuDoanhNghiep>(defaulted).is_err());
        // The forms that keep the accessor unqualified all read the same value.
        for form in [
            query("2801234567"),
            r#"<ns0:TraCuuDoanhNghiep xmlns:ns0="urn:lgsp:h38:dkkd:wsdl:1.0" xmlns:dn="urn:lgsp:h38:dkkd:1.0"><MaSoDoanhNghiep xmlns="">2801234567</MaSoDoanhNghiep></ns0:TraCuuDoanhNghiep>"#.to_string(),
        ] {
            let q: TraCuuDoanhNghiep = soap::decode(&form).unwrap_or_else(|e| panic!("{e}: {form}"));
            assert_eq!(q.ma_so_doanh_nghiep, "2801234567");
        }
    }

    #[test]
    fn response_round_trips_without_loss() {
        let all = fixtures::doanh_nghiep();
        for d in all {
            let xml = soap::encode(&TraCuuDoanhNghiepResponse {
                doanh_nghiep: d.clone(),
            })
            .unwrap();
            let back: TraCuuDoanhNghiepResponse = soap::decode(&xml).unwrap();
            assert_eq!(&back.doanh_nghiep, d);
        }
    }
}
