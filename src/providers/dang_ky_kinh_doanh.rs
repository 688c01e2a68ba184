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
    // A branch (10-3 digits) is looked up under its parent enterprise's code.
    let found = fixtures::doanh_nghiep()
        .into_iter()
        .find(|d| d.ma_so_doanh_nghiep == ma)
        .ok_or_else(|| {
            ProviderFault::business(
                AGENCY,
                "KHONG_TIM_THAY",
                format!("Không tìm thấy doanh nghiệp có mã số {ma}"),
            )
        })?;
    soap::encode(&TraCuuDoanhNghiepResponse {
        doanh_nghiep: found,
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
