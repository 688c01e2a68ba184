//! `mot-cua`: the Đông Sơn district one-stop shop's dossier status lookup (000.00.21.H38),
//! wsdl/mot-cua/MotCua.wsdl, document/literal over SOAP 1.2 only.

use yaserde::{YaDeserialize, YaSerialize};

use super::fixtures;
use super::soap::{self, ProviderFault, SoapRequest};
use super::types::CoQuan;
use crate::model::SoapVersion;

pub const NS: &str = "urn:lgsp:h38:motcua:1.0";
pub const AGENCY: &str = "000.00.21.H38";
pub const ACTION: &str = "urn:lgsp:h38:motcua:TraCuuTrangThaiHoSo";

pub fn handle(req: &SoapRequest) -> Result<String, ProviderFault> {
    // The contract has a SOAP 1.2 binding only; a SOAP 1.1 envelope is not for this node
    // (SOAP 1.2 Part 1 §5.4.7 VersionMismatch).
    if req.version != SoapVersion::V12 {
        return Err(ProviderFault::version_mismatch(
            "Dịch vụ chỉ hỗ trợ SOAP 1.2 (this service speaks SOAP 1.2 only)",
        ));
    }
    if !req.root.is(NS, "TraCuuTrangThaiHoSo") {
        return Err(soap::unknown_operation(&req.root));
    }
    soap::check_action(req, "TraCuuTrangThaiHoSo", ACTION)?;
    let q: TraCuuTrangThaiHoSo = soap::decode(&req.payload)?;
    let ma = q.ma_ho_so.trim();
    let found = fixtures::ho_so()
        .iter()
        .find(|h| h.ma_ho_so == ma)
        .ok_or_else(|| {
            ProviderFault::business(
                AGENCY,
                "KHONG_TIM_THAY",
                format!("Không tìm thấy hồ sơ có mã {ma}"),
            )
        })?;
    soap::encode(&TraCuuTrangThaiHoSoResponse {
        ho_so: found.clone(),
    })
    .map_err(ProviderFault::server)
}

#[derive(Debug, Clone, Default, PartialEq, Eq, YaSerialize, YaDeserialize)]
#[yaserde(
    rename = "TraCuuTrangThaiHoSo",
    prefix = "mc",
    namespaces = { "mc" = "urn:lgsp:h38:motcua:1.0" }
)]
pub struct TraCuuTrangThaiHoSo {
    #[yaserde(rename = "MaHoSo", prefix = "mc")]
    pub ma_ho_so: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, YaSerialize, YaDeserialize)]
#[yaserde(
    rename = "TraCuuTrangThaiHoSoResponse",
    prefix = "mc",
    namespaces = { "mc" = "urn:lgsp:h38:motcua:1.0" }
)]
pub struct TraCuuTrangThaiHoSoResponse {
    #[yaserde(rename = "HoSo", prefix = "mc")]
    pub ho_so: TrangThaiHoSo,
}

/// `mc:TrangThaiHoSo` (schemas/mot-cua/HoSo.xsd).
#[derive(Debug, Clone, Default, PartialEq, Eq, YaSerialize, YaDeserialize)]
#[yaserde(prefix = "mc", namespaces = { "mc" = "urn:lgsp:h38:motcua:1.0" })]
pub struct TrangThaiHoSo {
    #[yaserde(rename = "MaHoSo", prefix = "mc")]
    pub ma_ho_so: String,
    #[yaserde(rename = "MaThuTuc", prefix = "mc")]
    pub ma_thu_tuc: String,
    #[yaserde(rename = "TenThuTuc", prefix = "mc")]
    pub ten_thu_tuc: String,
    #[yaserde(rename = "ChuHoSo", prefix = "mc")]
    pub chu_ho_so: String,
    /// MOI_TIEP_NHAN, DANG_XU_LY, CHO_BO_SUNG, TAM_DUNG, DA_CO_KET_QUA, DA_TRA_KET_QUA,
    /// TU_CHOI or DA_RUT.
    #[yaserde(rename = "TrangThai", prefix = "mc")]
    pub trang_thai: String,
    #[yaserde(rename = "NgayTiepNhan", prefix = "mc")]
    pub ngay_tiep_nhan: String,
    #[yaserde(rename = "NgayHenTra", prefix = "mc")]
    pub ngay_hen_tra: String,
    #[yaserde(rename = "NgayCoKetQua", prefix = "mc")]
    pub ngay_co_ket_qua: Option<String>,
    #[yaserde(rename = "DonViXuLy", prefix = "mc")]
    pub don_vi_xu_ly: CoQuan,
    #[yaserde(rename = "GhiChu", prefix = "mc")]
    pub ghi_chu: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::SoapVersion::{V11, V12};
    use crate::providers::soap::testing::call;
    use http::StatusCode;

    fn query(code: &str) -> String {
        format!(
            r#"<TraCuuTrangThaiHoSo xmlns="urn:lgsp:h38:motcua:1.0"><MaHoSo>{code}</MaHoSo></TraCuuTrangThaiHoSo>"#
        )
    }

    #[test]
    fn dossier_status() {
        let (status, body) = call("/mot-cua", V12, ACTION, &query("000.00.21.H38-261105-0012"));
        assert_eq!(status, StatusCode::OK, "{body}");
        assert!(body.contains(crate::xml::ns::SOAP12_ENV));
        assert!(
            body.contains("<mc:TrangThai>DA_TRA_KET_QUA</mc:TrangThai>"),
            "{body}"
        );
        assert!(body.contains("<mc:NgayHenTra>2026-11-19T17:00:00+07:00</mc:NgayHenTra>"));
        assert!(
            body.contains("<dm:TenCoQuan>Phòng Kinh tế và Hạ tầng huyện Đông Sơn</dm:TenCoQuan>")
        );
    }

    #[test]
    fn unknown_dossier_is_a_sender_fault() {
        let (status, body) = call("/mot-cua", V12, ACTION, &query("000.00.21.H38-261231-9999"));
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert!(
            body.contains("<soap:Value>soap:Sender</soap:Value>"),
            "{body}"
        );
        assert!(
            body.contains("<dm:MaLoi>KHONG_TIM_THAY</dm:MaLoi>"),
            "{body}"
        );
    }

    #[test]
    fn soap11_is_a_version_mismatch() {
        let (status, body) = call("/mot-cua", V11, ACTION, &query("000.00.21.H38-261118-0007"));
        assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
        assert!(
            body.contains("<faultcode>soap:VersionMismatch</faultcode>"),
            "{body}"
        );
    }

    #[test]
    fn prefixed_and_default_forms_read_the_same() {
        for form in [
            query("000.00.21.H38-261118-0007"),
            r#"<mc:TraCuuTrangThaiHoSo xmlns:mc="urn:lgsp:h38:motcua:1.0"><mc:MaHoSo>000.00.21.H38-261118-0007</mc:MaHoSo></mc:TraCuuTrangThaiHoSo>"#.to_string(),
        ] {
            let q: TraCuuTrangThaiHoSo = soap::decode(&form).unwrap();
            assert_eq!(q.ma_ho_so, "000.00.21.H38-261118-0007");
        }
        let wrong = r#"<mc:TraCuuTrangThaiHoSo xmlns:mc="urn:lgsp:h38:motcua:1.0"><MaHoSo>000.00.21.H38-261118-0007</MaHoSo></mc:TraCuuTrangThaiHoSo>"#;
        assert!(soap::decode::<TraCuuTrangThaiHoSo>(wrong).is_err());
    }
}
