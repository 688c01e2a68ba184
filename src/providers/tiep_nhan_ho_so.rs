//! Example provider: the provincial dossier registry (Trung tâm Phục vụ hành chính công
//! tỉnh, 000.00.40.H38), service `tiep-nhan-ho-so`. It speaks only the provincial schema
//! (`ThongTinHoSo` -> `KetQuaTiepNhanHoSo`); districts reach it through the gateway's
//! mapping. A pure function of the request payload, hooked into the providers server.
//!
//! Rules of this fixture registry: a dossier is received (MaTrangThai 1) with a due date
//! ten working days after submission (weekends skipped); it is refused (2) when it lists
//! no attached documents for a civil-status procedure (MaLinhVuc LV-HOTICH), or when it
//! was submitted in the future.

use chrono::{Datelike, Duration, NaiveDate, Weekday};

use crate::model::SoapVersion;
use crate::schema::tree::Tree;
use crate::xml::escape::text;

pub const NS: &str = "urn:tinh:tiep-nhan-ho-so:1";

/// Answers one `ThongTinHoSo` payload (the Body's child as a standalone document) with a
/// `KetQuaTiepNhanHoSo` payload, or a fault reason for a request it cannot read.
pub fn answer(_version: SoapVersion, payload_xml: &str) -> Result<String, String> {
    let t = Tree::parse(payload_xml, false).map_err(|e| format!("malformed request: {e}"))?;
    let root = t.root();
    if !root.is(NS, "ThongTinHoSo") {
        return Err(format!(
            "unknown operation: expected {{{NS}}}ThongTinHoSo, got {{{}}}{}",
            root.ns, root.local
        ));
    }
    let field = |name: &str| {
        t.children(0)
            .find(|(_, e)| e.is(NS, name))
            .map(|(_, e)| e.text.trim().to_string())
    };
    let so = field("SoHoSo").ok_or("SoHoSo is missing")?;
    let ngay_nop = field("NgayNop").ok_or("NgayNop is missing")?;
    let ngay_nop = NaiveDate::parse_from_str(&ngay_nop, "%Y-%m-%d")
        .map_err(|_| "NgayNop is not an xs:date".to_string())?;
    let linh_vuc = field("MaLinhVuc").unwrap_or_default();
    let tep_tin = t
        .children(0)
        .find(|(_, e)| e.is(NS, "ThanhPhanHoSo"))
        .map(|(i, _)| t.children(i).filter(|(_, e)| e.is(NS, "TepTin")).count())
        .unwrap_or(0);

    let today = chrono::Utc::now().date_naive();
    let refusal = if ngay_nop > today {
        Some("Ngày nộp sau ngày hiện tại")
    } else if linh_vuc == "LV-HOTICH" && tep_tin == 0 {
        Some("Hồ sơ hộ tịch thiếu thành phần hồ sơ")
    } else {
        None
    };
    let mut out = format!(
        "<t:KetQuaTiepNhanHoSo xmlns:t=\"{NS}\"><t:SoHoSo>{}</t:SoHoSo>",
        text(&so)
    );
    match refusal {
        Some(reason) => out.push_str(&format!(
            "<t:MaTrangThai>2</t:MaTrangThai><t:LyDo>{}</t:LyDo>",
            text(reason)
        )),
        None => out.push_str(&format!(
            "<t:MaTrangThai>1</t:MaTrangThai><t:NgayHenTraKetQua>{}</t:NgayHenTraKetQua>",
            working_days_after(ngay_nop, 10).format("%Y-%m-%d")
        )),
    }
    out.push_str("</t:KetQuaTiepNhanHoSo>");
    Ok(out)
}

fn working_days_after(mut d: NaiveDate, n: u32) -> NaiveDate {
    let mut left = n;
    while left > 0 {
        d += Duration::days(1);
        if !matches!(d.weekday(), Weekday::Sat | Weekday::Sun) {
            left -= 1;
        }
    }
    d
}

/// The HTTP providers' entry point: the pure [`answer`] behind the shared SOAP handling.
pub fn handle(req: &super::soap::SoapRequest) -> Result<String, super::soap::ProviderFault> {
    answer(req.version, &req.payload).map_err(super::soap::ProviderFault::client)
}

#[cfg(test)]
mod tests {
    use super::*;

    const REQ: &str = r#"<t:ThongTinHoSo xmlns:t="urn:tinh:tiep-nhan-ho-so:1" phienBan="1.0"><t:SoHoSo>S-1</t:SoHoSo><t:MaThuTuc>1</t:MaThuTuc><t:MaLinhVuc>LV-DATDAI</t:MaLinhVuc><t:NgayNop>2024-03-01</t:NgayNop></t:ThongTinHoSo>"#;

    #[test]
    fn receives_with_a_due_date_in_working_days() {
        let a = answer(SoapVersion::V11, REQ).unwrap();
        // Friday 1 March 2024 + 10 working days = Friday 15 March.
        assert!(
            a.contains("<t:MaTrangThai>1</t:MaTrangThai><t:NgayHenTraKetQua>2024-03-15<"),
            "{a}"
        );
    }

    #[test]
    fn refuses_civil_status_dossier_without_documents() {
        let a = answer(SoapVersion::V12, &REQ.replace("LV-DATDAI", "LV-HOTICH")).unwrap();
        assert!(
            a.contains("<t:MaTrangThai>2</t:MaTrangThai><t:LyDo>"),
            "{a}"
        );
    }

    #[test]
    fn faults_on_other_documents() {
        assert!(answer(SoapVersion::V11, "<x/>").is_err());
        assert!(answer(
            SoapVersion::V11,
            "<t:ThongTinHoSo xmlns:t=\"urn:tinh:tiep-nhan-ho-so:1\"/>"
        )
        .is_err());
    }
}
