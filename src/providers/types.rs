//! Payload types shared by the example services: the `dm:` types of
//! schemas/common/DanhMuc.xsd. Local elements of a complex type live in the namespace of
//! the schema that declares the type (XSD 1.0 Part 1 §3.3.2, elementFormDefault
//! "qualified"), so the children of `ht:CoQuanDangKy` are `dm:MaCoQuan` and `dm:TenCoQuan`.

use yaserde::{YaDeserialize, YaSerialize};

pub const DANH_MUC_NS: &str = "urn:lgsp:h38:danhmuc:1.0";

/// `dm:CoQuan`: an agency code and name.
#[derive(Debug, Clone, Default, PartialEq, Eq, YaSerialize, YaDeserialize)]
#[yaserde(prefix = "dm", namespaces = { "dm" = "urn:lgsp:h38:danhmuc:1.0" })]
pub struct CoQuan {
    #[yaserde(rename = "MaCoQuan", prefix = "dm")]
    pub ma_co_quan: String,
    #[yaserde(rename = "TenCoQuan", prefix = "dm")]
    pub ten_co_quan: String,
}

impl CoQuan {
    pub fn new(ma: &str, ten: &str) -> Self {
        Self {
            ma_co_quan: ma.into(),
            ten_co_quan: ten.into(),
        }
    }
}

/// `dm:DiaChi`: an administrative address.
#[derive(Debug, Clone, Default, PartialEq, Eq, YaSerialize, YaDeserialize)]
#[yaserde(prefix = "dm", namespaces = { "dm" = "urn:lgsp:h38:danhmuc:1.0" })]
pub struct DiaChi {
    #[yaserde(rename = "SoNhaDuong", prefix = "dm")]
    pub so_nha_duong: Option<String>,
    #[yaserde(rename = "XaPhuong", prefix = "dm")]
    pub xa_phuong: String,
    #[yaserde(rename = "QuanHuyen", prefix = "dm")]
    pub quan_huyen: String,
    #[yaserde(rename = "TinhThanh", prefix = "dm")]
    pub tinh_thanh: String,
}
