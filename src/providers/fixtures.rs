//! The example agencies' records: a handful of fictional citizens, enterprises and dossiers
//! of Thanh Hóa province (H38). Names, numbers and addresses are invented; identity numbers
//! follow the real layout (CCCD: birth-province code 038, sex/century digit, year, serial)
//! so that they pass the schemas' patterns.
//!
//! Lookup keys the README and conf/examples/ use:
//! - ho-tich TraCuuKhaiSinh: SoDinhDanh 038224001234 (Lê Minh Anh), 038196004567, 038094007890;
//!   or SoDangKy 48/1996 at 000.03.21.H38. TraCuuKetHon: 038094007890, 038089002468.
//!   Not found: 038200999999.
//! - dang-ky-kinh-doanh: 2801234567, 2802345678, 2803456789. Not found: 2809999999.
//! - mot-cua: 000.00.21.H38-261118-0007, 000.00.21.H38-261105-0012,
//!   000.00.21.H38-261120-0003. Not found: 000.00.21.H38-261231-9999.

use std::sync::OnceLock;

use super::dang_ky_kinh_doanh::{NguoiDaiDien, ThongTinDoanhNghiep};
use super::ho_tich::{
    NguoiDuocKhaiSinh, ThongTinChaMe, ThongTinKetHon, ThongTinKhaiSinh, ThongTinVoChong,
};
use super::mot_cua::TrangThaiHoSo;
use super::types::{CoQuan, DiaChi};

const PHUONG_DIEN_BIEN: (&str, &str) = (
    "000.05.27.H38",
    "UBND phường Điện Biên, thành phố Thanh Hóa",
);
const XA_DONG_TIEN: (&str, &str) = ("000.03.21.H38", "UBND xã Đông Tiến, huyện Đông Sơn");
const TT_RUNG_THONG: (&str, &str) = ("000.01.21.H38", "UBND thị trấn Rừng Thông, huyện Đông Sơn");

fn co_quan(c: (&str, &str)) -> CoQuan {
    CoQuan::new(c.0, c.1)
}

fn s(v: &str) -> String {
    v.to_string()
}

fn cha_me(ho_ten: &str, nam: &str, noi_cu_tru: &str) -> ThongTinChaMe {
    ThongTinChaMe {
        ho_ten: s(ho_ten),
        nam_sinh: s(nam),
        dan_toc: s("Kinh"),
        quoc_tich: s("VN"),
        noi_cu_tru: Some(s(noi_cu_tru)),
    }
}

/// Birth registrations (Sở Tư pháp's civil-status database).
pub fn khai_sinh() -> &'static [ThongTinKhaiSinh] {
    static ALL: OnceLock<Vec<ThongTinKhaiSinh>> = OnceLock::new();
    ALL.get_or_init(khai_sinh_records)
}

fn khai_sinh_records() -> Vec<ThongTinKhaiSinh> {
    vec![
        ThongTinKhaiSinh {
            so_dang_ky: s("125/2024"),
            quyen_so: Some(s("01/2024")),
            ngay_dang_ky: s("2024-03-28"),
            co_quan_dang_ky: co_quan(PHUONG_DIEN_BIEN),
            nguoi_duoc_khai_sinh: NguoiDuocKhaiSinh {
                ho_ten: s("Lê Minh Anh"),
                gioi_tinh: s("1"),
                ngay_sinh: s("2024-03-15"),
                noi_sinh: s("Bệnh viện Đa khoa tỉnh Thanh Hóa"),
                dan_toc: s("Kinh"),
                quoc_tich: s("VN"),
                so_dinh_danh: Some(s("038224001234")),
            },
            cha: Some(cha_me(
                "Lê Văn Hùng",
                "1992",
                "Số 12 phố Trường Thi, phường Điện Biên, thành phố Thanh Hóa",
            )),
            me: Some(cha_me(
                "Nguyễn Thị Thu Hà",
                "1994",
                "Số 12 phố Trường Thi, phường Điện Biên, thành phố Thanh Hóa",
            )),
        },
        ThongTinKhaiSinh {
            so_dang_ky: s("48/1996"),
            quyen_so: Some(s("01/1996")),
            ngay_dang_ky: s("1996-08-20"),
            co_quan_dang_ky: co_quan(XA_DONG_TIEN),
            nguoi_duoc_khai_sinh: NguoiDuocKhaiSinh {
                ho_ten: s("Trịnh Thị Mai"),
                gioi_tinh: s("2"),
                ngay_sinh: s("1996-08-02"),
                noi_sinh: s("Trạm y tế xã Đông Tiến, huyện Đông Sơn, tỉnh Thanh Hóa"),
                dan_toc: s("Kinh"),
                quoc_tich: s("VN"),
                so_dinh_danh: Some(s("038196004567")),
            },
            cha: Some(cha_me(
                "Trịnh Văn Quang",
                "1968",
                "Thôn Tân Lập, xã Đông Tiến, huyện Đông Sơn",
            )),
            me: Some(cha_me(
                "Lê Thị Lan",
                "1970",
                "Thôn Tân Lập, xã Đông Tiến, huyện Đông Sơn",
            )),
        },
        ThongTinKhaiSinh {
            so_dang_ky: s("212/1994"),
            quyen_so: None,
            ngay_dang_ky: s("1994-12-05"),
            co_quan_dang_ky: co_quan(TT_RUNG_THONG),
            nguoi_duoc_khai_sinh: NguoiDuocKhaiSinh {
                ho_ten: s("Hoàng Đức Thắng"),
                gioi_tinh: s("1"),
                ngay_sinh: s("1994-11-20"),
                noi_sinh: s("Bệnh viện Đa khoa huyện Đông Sơn, tỉnh Thanh Hóa"),
                dan_toc: s("Kinh"),
                quoc_tich: s("VN"),
                so_dinh_danh: Some(s("038094007890")),
            },
            cha: None,
            me: Some(cha_me(
                "Hoàng Thị Nga",
                "1972",
                "Khu phố 3, thị trấn Rừng Thông, huyện Đông Sơn",
            )),
        },
    ]
}

fn vo_chong(ho_ten: &str, ngay_sinh: &str, id: &str, noi_cu_tru: &str) -> ThongTinVoChong {
    ThongTinVoChong {
        ho_ten: s(ho_ten),
        ngay_sinh: s(ngay_sinh),
        dan_toc: s("Kinh"),
        quoc_tich: s("VN"),
        so_dinh_danh: Some(s(id)),
        noi_cu_tru: s(noi_cu_tru),
    }
}

/// Marriage registrations.
pub fn ket_hon() -> &'static [ThongTinKetHon] {
    static ALL: OnceLock<Vec<ThongTinKetHon>> = OnceLock::new();
    ALL.get_or_init(ket_hon_records)
}

fn ket_hon_records() -> Vec<ThongTinKetHon> {
    let binh = || {
        vo_chong(
            "Nguyễn Văn Bình",
            "1989-02-11",
            "038089002468",
            "Số 7 đường Hạc Thành, phường Điện Biên, thành phố Thanh Hóa",
        )
    };
    vec![
        ThongTinKetHon {
            so_dang_ky: s("37/2021"),
            ngay_dang_ky: s("2021-05-14"),
            co_quan_dang_ky: co_quan(XA_DONG_TIEN),
            chong: vo_chong(
                "Hoàng Đức Thắng",
                "1994-11-20",
                "038094007890",
                "Khu phố 3, thị trấn Rừng Thông, huyện Đông Sơn",
            ),
            vo: vo_chong(
                "Trịnh Thị Mai",
                "1996-08-02",
                "038196004567",
                "Thôn Tân Lập, xã Đông Tiến, huyện Đông Sơn",
            ),
            tinh_trang: s("CON_HIEU_LUC"),
        },
        ThongTinKetHon {
            so_dang_ky: s("15/2015"),
            ngay_dang_ky: s("2015-01-09"),
            co_quan_dang_ky: co_quan(PHUONG_DIEN_BIEN),
            chong: binh(),
            vo: vo_chong(
                "Phạm Thị Hoa",
                "1991-06-30",
                "038191003579",
                "Số 22 phố Lê Hoàn, phường Điện Biên, thành phố Thanh Hóa",
            ),
            tinh_trang: s("DA_LY_HON"),
        },
        ThongTinKetHon {
            so_dang_ky: s("102/2019"),
            ngay_dang_ky: s("2019-10-05"),
            co_quan_dang_ky: co_quan(PHUONG_DIEN_BIEN),
            chong: binh(),
            vo: vo_chong(
                "Đỗ Thị Ngọc Lan",
                "1993-04-17",
                "038193005791",
                "Số 7 đường Hạc Thành, phường Điện Biên, thành phố Thanh Hóa",
            ),
            tinh_trang: s("CON_HIEU_LUC"),
        },
    ]
}

const PHONG_DKKD: (&str, &str) = (
    "000.01.13.H38",
    "Phòng Đăng ký kinh doanh - Sở Kế hoạch và Đầu tư tỉnh Thanh Hóa",
);

fn dai_dien(ho_ten: &str, chuc_danh: &str, id: Option<&str>) -> NguoiDaiDien {
    NguoiDaiDien {
        ho_ten: s(ho_ten),
        chuc_danh: s(chuc_danh),
        so_dinh_danh: id.map(s),
    }
}

/// Enterprises (National Business Registration System extract).
pub fn doanh_nghiep() -> &'static [ThongTinDoanhNghiep] {
    static ALL: OnceLock<Vec<ThongTinDoanhNghiep>> = OnceLock::new();
    ALL.get_or_init(doanh_nghiep_records)
}

fn doanh_nghiep_records() -> Vec<ThongTinDoanhNghiep> {
    vec![
        ThongTinDoanhNghiep {
            ma_so_doanh_nghiep: s("2801234567"),
            ten_doanh_nghiep: s("Công ty TNHH Một thành viên Xây dựng Hàm Rồng"),
            ten_tieng_nuoc_ngoai: Some(s("HAM RONG CONSTRUCTION COMPANY LIMITED")),
            ten_viet_tat: Some(s("HAM RONG CONS CO., LTD")),
            loai_hinh: s("TNHH_1TV"),
            dia_chi_tru_so: DiaChi {
                so_nha_duong: Some(s("Số 45 đường Lê Lợi")),
                xa_phuong: s("Phường Điện Biên"),
                quan_huyen: s("Thành phố Thanh Hóa"),
                tinh_thanh: s("Tỉnh Thanh Hóa"),
            },
            nguoi_dai_dien: vec![dai_dien("Lê Văn Hùng", "Giám đốc", Some("038092003344"))],
            von_dieu_le: Some(s("5000000000")),
            ngay_dang_ky_lan_dau: s("2015-06-12"),
            ngay_thay_doi_gan_nhat: Some(s("2023-02-20")),
            tinh_trang: s("DANG_HOAT_DONG"),
            co_quan_dang_ky: co_quan(PHONG_DKKD),
        },
        ThongTinDoanhNghiep {
            ma_so_doanh_nghiep: s("2802345678"),
            ten_doanh_nghiep: s("Công ty Cổ phần Chế biến Nông sản Đông Sơn"),
            ten_tieng_nuoc_ngoai: Some(s("DONG SON AGRICULTURAL PROCESSING JOINT STOCK COMPANY")),
            ten_viet_tat: None,
            loai_hinh: s("CO_PHAN"),
            dia_chi_tru_so: DiaChi {
                so_nha_duong: Some(s("Lô B2, Cụm công nghiệp Đông Tiến")),
                xa_phuong: s("Xã Đông Tiến"),
                quan_huyen: s("Huyện Đông Sơn"),
                tinh_thanh: s("Tỉnh Thanh Hóa"),
            },
            nguoi_dai_dien: vec![
                dai_dien("Trịnh Văn Quang", "Chủ tịch Hội đồng quản trị", None),
                dai_dien("Đỗ Thị Ngọc Lan", "Tổng Giám đốc", Some("038193005791")),
            ],
            von_dieu_le: Some(s("18500000000")),
            ngay_dang_ky_lan_dau: s("2018-09-03"),
            ngay_thay_doi_gan_nhat: Some(s("2026-07-01")),
            tinh_trang: s("TAM_NGUNG_KINH_DOANH"),
            co_quan_dang_ky: co_quan(PHONG_DKKD),
        },
        ThongTinDoanhNghiep {
            ma_so_doanh_nghiep: s("2803456789"),
            ten_doanh_nghiep: s("Doanh nghiệp tư nhân Thương mại Minh Khai"),
            ten_tieng_nuoc_ngoai: None,
            ten_viet_tat: None,
            loai_hinh: s("TU_NHAN"),
            dia_chi_tru_so: DiaChi {
                so_nha_duong: None,
                xa_phuong: s("Thị trấn Rừng Thông"),
                quan_huyen: s("Huyện Đông Sơn"),
                tinh_thanh: s("Tỉnh Thanh Hóa"),
            },
            nguoi_dai_dien: vec![dai_dien("Phạm Minh Khai", "Chủ doanh nghiệp", None)],
            von_dieu_le: None,
            ngay_dang_ky_lan_dau: s("2009-04-21"),
            ngay_thay_doi_gan_nhat: None,
            tinh_trang: s("DA_GIAI_THE"),
            co_quan_dang_ky: co_quan(PHONG_DKKD),
        },
    ]
}

/// Dossiers at the Đông Sơn district one-stop shop.
pub fn ho_so() -> &'static [TrangThaiHoSo] {
    static ALL: OnceLock<Vec<TrangThaiHoSo>> = OnceLock::new();
    ALL.get_or_init(ho_so_records)
}

fn ho_so_records() -> Vec<TrangThaiHoSo> {
    vec![
        TrangThaiHoSo {
            ma_ho_so: s("000.00.21.H38-261118-0007"),
            ma_thu_tuc: s("2.000575"),
            ten_thu_tuc: s("Đăng ký thành lập hộ kinh doanh"),
            chu_ho_so: s("Trịnh Thị Mai"),
            trang_thai: s("DANG_XU_LY"),
            ngay_tiep_nhan: s("2026-11-18T08:42:00+07:00"),
            ngay_hen_tra: s("2026-11-21T17:00:00+07:00"),
            ngay_co_ket_qua: None,
            don_vi_xu_ly: CoQuan::new("000.04.21.H38", "Phòng Tài chính - Kế hoạch huyện Đông Sơn"),
            ghi_chu: None,
        },
        TrangThaiHoSo {
            ma_ho_so: s("000.00.21.H38-261105-0012"),
            ma_thu_tuc: s("1.009994"),
            ten_thu_tuc: s("Cấp giấy phép xây dựng nhà ở riêng lẻ"),
            chu_ho_so: s("Hoàng Đức Thắng"),
            trang_thai: s("DA_TRA_KET_QUA"),
            ngay_tiep_nhan: s("2026-11-05T09:15:00+07:00"),
            ngay_hen_tra: s("2026-11-19T17:00:00+07:00"),
            ngay_co_ket_qua: Some(s("2026-11-17T15:30:00+07:00")),
            don_vi_xu_ly: CoQuan::new("000.06.21.H38", "Phòng Kinh tế và Hạ tầng huyện Đông Sơn"),
            ghi_chu: Some(s("Đã trả kết quả trực tiếp tại Bộ phận một cửa")),
        },
        TrangThaiHoSo {
            ma_ho_so: s("000.00.21.H38-261120-0003"),
            ma_thu_tuc: s("2.000815"),
            ten_thu_tuc: s("Chứng thực bản sao từ bản chính giấy tờ, văn bản"),
            chu_ho_so: s("Nguyễn Văn Bình"),
            trang_thai: s("CHO_BO_SUNG"),
            ngay_tiep_nhan: s("2026-11-20T14:05:00+07:00"),
            ngay_hen_tra: s("2026-11-20T16:30:00+07:00"),
            ngay_co_ket_qua: None,
            don_vi_xu_ly: CoQuan::new("000.05.21.H38", "Phòng Tư pháp huyện Đông Sơn"),
            ghi_chu: Some(s(
                "Thiếu bản chính giấy tờ để đối chiếu; đề nghị công dân bổ sung",
            )),
        },
    ]
}
