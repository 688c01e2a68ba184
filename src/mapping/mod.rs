//! Translation between agencies' schemas: rule-based mappings (TOML) or XSLT 1.0,
//! checked against both XSDs when loaded.
//!
//! - [`file`]: the TOML format as written (documented in `docs/MAPPINGS.md`).
//! - [`path`], [`transform`]: paths and value transforms.
//! - [`check`]: the load-time checker (paths exist, types fit, required targets produced)
//!   and the coverage report.
//! - [`engine`]: running a checked plan; whole output or an error, never half.
//! - [`xslt`]: the XSLT 1.0 alternative, with file and network access disabled.
//! - [`golden`]: golden pairs (`tests/CASE/{input,expected}.xml`) beside each mapping.
//!
//! A loaded [`Mapping`] always validates what it produces against the target schema.

/// A payload after mapping, with the mapping's name and version for the audit record
/// (`None` when the operation has no mapping and the payload went through as it was).
pub struct Mapped {
    pub payload: Vec<u8>,
    pub mapping: Option<String>,
}

pub mod check;
pub mod engine;
pub mod file;
pub mod golden;
pub mod path;
pub mod transform;
pub mod xslt;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::Deserialize;
use sha2::{Digest, Sha256};

use crate::problem::{Problem, Problems};
use crate::schema::model::Xsd;
use crate::schema::tree::Tree;
use crate::schema::{Direction, SchemaSet};
use crate::xml::QName;

pub use check::Coverage;

/// `[[services.mappings]]`: which mapping applies to which operation and direction.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Binding {
    pub operation: String,
    /// Consumer request -> provider request.
    pub request: Option<std::path::PathBuf>,
    /// Provider answer -> consumer answer.
    pub response: Option<std::path::PathBuf>,
}

impl Binding {
    pub fn resolve_paths(&mut self, base: &Path) {
        for p in [&mut self.request, &mut self.response]
            .into_iter()
            .flatten()
        {
            if p.is_relative() {
                *p = base.join(&*p);
            }
        }
    }
}

/// A mapping failed on a message; nothing of it is forwarded.
#[derive(Debug, thiserror::Error)]
#[error("mapping {mapping}: {failure}")]
pub struct MappingError {
    /// `name@version` of the mapping.
    pub mapping: String,
    pub direction: Direction,
    pub failure: Failure,
}

#[derive(Debug, Clone, thiserror::Error)]
pub enum Failure {
    #[error("cannot map {path}: {problem}")]
    Value { path: String, problem: String },
    #[error("required value missing: {path}")]
    Missing { path: String },
    #[error("the document cannot be mapped: {0}")]
    Input(String),
    #[error("the mapped document does not match the target schema ({} problems)", violations.len())]
    Output { violations: Vec<String> },
}

enum Kind {
    Rules(engine::Plan),
    Xslt(xslt::Stylesheet),
}

/// One side of a mapping: its schema (compiled for validation, read for checking).
pub struct Side {
    pub schema_files: Vec<PathBuf>,
    pub root: QName,
    pub schemas: SchemaSet,
}

/// A mapping that passed its checks.
pub struct Mapping {
    pub name: String,
    pub description: Option<String>,
    /// First 12 hex digits of SHA-256 over the file and the tables/stylesheet it uses.
    pub version: String,
    pub file: PathBuf,
    pub source: Side,
    pub target: Side,
    pub coverage: Coverage,
    kind: Kind,
}

impl std::fmt::Debug for Mapping {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Mapping({})", self.label())
    }
}

impl Mapping {
    /// Loads and checks a mapping file; every problem is reported as `file:line: reason`.
    pub fn load(file: &Path) -> Result<Mapping, Problems> {
        let text = std::fs::read_to_string(file)
            .map_err(|e| Problems(vec![Problem::file(file, format!("cannot read: {e}"))]))?;
        let line = |span: Option<std::ops::Range<usize>>| {
            span.map(|s| crate::xml::line_of(text.as_bytes(), s.start))
                .unwrap_or(1)
        };
        let raw: file::RawMapping = toml::from_str(&text).map_err(|e| {
            Problems(vec![Problem::at(
                file,
                line(e.span()),
                e.message().trim().to_string(),
            )])
        })?;
        let dir = file.parent().unwrap_or(Path::new(".")).to_path_buf();
        let mut hasher = Sha256::new();
        hasher.update(text.as_bytes());
        let mut problems = Vec::new();

        // Code lists.
        let mut tables = BTreeMap::new();
        for (name, t) in &raw.tables {
            let at = line(Some(t.span()));
            let t = t.get_ref();
            let mut values = t.values.clone();
            if let Some(csv) = &t.csv {
                let path = dir.join(csv);
                match std::fs::read_to_string(&path) {
                    Ok(body) => {
                        hasher.update(body.as_bytes());
                        if let Err(p) = read_csv(&path, &body, &mut values) {
                            problems.push(p);
                        }
                    }
                    Err(e) => problems.push(Problem::at(
                        file,
                        at,
                        format!("table `{name}`: cannot read {}: {e}", path.display()),
                    )),
                }
            }
            if values.is_empty() {
                problems.push(Problem::at(file, at, format!("table `{name}` is empty")));
            }
            tables.insert(
                name.clone(),
                Arc::new(transform::Table {
                    name: name.clone(),
                    values,
                    default: t.default.clone(),
                }),
            );
        }

        let header = raw.mapping.get_ref();
        let side = |s: &toml::Spanned<file::Side>, what: &str, problems: &mut Vec<Problem>| {
            let files: Vec<PathBuf> = s
                .get_ref()
                .schema
                .to_vec()
                .iter()
                .map(|p| dir.join(p))
                .collect();
            let at = line(Some(s.span()));
            let root = match path::qname(&s.get_ref().root, &raw.namespaces, false) {
                Ok(q) => q,
                Err(e) => {
                    problems.push(Problem::at(file, at, format!("{what} root: {e}")));
                    QName::new("", "")
                }
            };
            let compiled = SchemaSet::compile(&files, &[])
                .map_err(|p| problems.extend(p.0))
                .ok();
            let model = Xsd::load(&files).map_err(|p| problems.extend(p.0)).ok();
            (files, root, compiled, model)
        };
        let (sf, sroot, sset, smodel) = side(&raw.source, "source", &mut problems);
        let (tf, troot, tset, tmodel) = side(&raw.target, "target", &mut problems);
        let (Some(sset), Some(smodel), Some(tset), Some(tmodel)) = (sset, smodel, tset, tmodel)
        else {
            return Err(Problems(problems));
        };

        let (kind, coverage) = match &header.xslt {
            Some(x) => {
                if !raw.rules.is_empty() {
                    problems.push(Problem::at(
                        file,
                        line(Some(raw.mapping.span())),
                        "a mapping has either `xslt` or `[[rules]]`, not both",
                    ));
                }
                let path = dir.join(x);
                match std::fs::read(&path) {
                    Ok(bytes) => {
                        hasher.update(&bytes);
                        match xslt::Stylesheet::load(&path) {
                            Ok(s) => (Some(Kind::Xslt(s)), Coverage::default()),
                            Err(p) => {
                                problems.extend(p.0);
                                (None, Coverage::default())
                            }
                        }
                    }
                    Err(e) => {
                        problems.push(Problem::at(
                            file,
                            line(Some(raw.mapping.span())),
                            format!("cannot read stylesheet {}: {e}", path.display()),
                        ));
                        (None, Coverage::default())
                    }
                }
            }
            None => {
                let mut checker =
                    check::Checker::new(file, &text, &smodel, &tmodel, &raw.namespaces, &tables);
                let planned = checker.plan(&raw);
                problems.extend(checker.problems);
                match planned {
                    Some((plan, cov)) => (Some(Kind::Rules(plan)), cov),
                    None => (None, Coverage::default()),
                }
            }
        };
        if !problems.is_empty() {
            return Err(Problems(problems));
        }
        let version = hex::encode(hasher.finalize())[..12].to_string();
        Ok(Mapping {
            name: header.name.clone(),
            description: header.description.clone(),
            version,
            file: file.to_path_buf(),
            source: Side {
                schema_files: sf,
                root: sroot,
                schemas: sset,
            },
            target: Side {
                schema_files: tf,
                root: troot,
                schemas: tset,
            },
            coverage,
            kind: kind.expect("no problems means a kind"),
        })
    }

    /// An XSLT mapping: checked by compiling, not path by path (no coverage report).
    pub fn is_xslt(&self) -> bool {
        matches!(self.kind, Kind::Xslt(_))
    }

    /// `name@version`, as the audit record keeps it.
    pub fn label(&self) -> String {
        format!("{}@{}", self.name, self.version)
    }

    /// Maps a standalone source document and validates the result against the target
    /// schema. The input is expected to have been validated against the source schema.
    pub fn apply(&self, input: &[u8], direction: Direction) -> Result<Vec<u8>, MappingError> {
        let fail = |failure| MappingError {
            mapping: self.label(),
            direction,
            failure,
        };
        let out = match &self.kind {
            Kind::Rules(plan) => {
                let text = std::str::from_utf8(input)
                    .map_err(|_| fail(Failure::Input("not UTF-8".into())))?;
                let tree = Tree::parse(text, false).map_err(|e| fail(Failure::Input(e)))?;
                plan.run(&tree).map_err(fail)?
            }
            Kind::Xslt(sheet) => sheet.transform(input).map_err(fail)?,
        };
        self.target
            .schemas
            .validate(&out, Some(&self.target.root))
            .map_err(|violations| fail(Failure::Output { violations }))?;
        Ok(out)
    }
}

/// `source,target` lines after a header line; `#` comments and blank lines skipped.
fn read_csv(path: &Path, body: &str, into: &mut BTreeMap<String, String>) -> Result<(), Problem> {
    for (i, l) in body.lines().enumerate().skip(1) {
        let l = l.trim();
        if l.is_empty() || l.starts_with('#') {
            continue;
        }
        let mut cols = l.splitn(3, ',');
        let (Some(a), Some(b)) = (cols.next(), cols.next()) else {
            return Err(Problem::at(path, i + 1, "expected `source,target`"));
        };
        let (a, b) = (a.trim().trim_matches('"'), b.trim().trim_matches('"'));
        if into.insert(a.to_string(), b.to_string()).is_some() {
            return Err(Problem::at(path, i + 1, format!("code `{a}` listed twice")));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::SoapVersion;

    fn repo() -> PathBuf {
        PathBuf::from(env!("CARGO_MANIFEST_DIR"))
    }

    /// The district->province mapping, edited, in a temporary directory.
    fn variant(edit: impl Fn(String) -> String) -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let src = repo().join("conf/mappings/ho-so-huyen-tinh");
        let text = std::fs::read_to_string(src.join("mapping.toml"))
            .unwrap()
            .replace(
                "../../../schemas/",
                &format!("{}/schemas/", repo().display()),
            );
        std::fs::copy(src.join("linh-vuc.csv"), dir.path().join("linh-vuc.csv")).unwrap();
        let file = dir.path().join("mapping.toml");
        std::fs::write(&file, edit(text)).unwrap();
        (dir, file)
    }

    fn problems(edit: impl Fn(String) -> String) -> String {
        let (_d, f) = variant(edit);
        Mapping::load(&f).unwrap_err().to_string()
    }

    fn line_of(text: &str, needle: &str) -> usize {
        text.lines().position(|l| l.contains(needle)).unwrap() + 1
    }

    #[test]
    fn the_unedited_variant_loads() {
        let (_d, f) = variant(|t| t);
        let m = Mapping::load(&f).unwrap();
        assert_eq!(m.name, "ho-so-huyen-tinh");
        assert_eq!(m.version.len(), 12);
        assert!(m.coverage.required_missing.is_empty());
    }

    #[test]
    fn a_source_path_that_does_not_exist_is_refused_with_file_line_and_path() {
        let (_d, f) = variant(|t| t.replace("from = \"h:MaThuTuc\"", "from = \"h:MaThuTucc\""));
        let text = std::fs::read_to_string(&f).unwrap();
        let err = Mapping::load(&f).unwrap_err().to_string();
        let line = line_of(&text, "h:MaThuTucc") - 1; // the rule's `[[rules]]` line
        assert!(
            err.contains(&format!(
                "mapping.toml:{line}: source path `h:MaThuTucc`: no element h:MaThuTucc here"
            )),
            "{err}"
        );
    }

    #[test]
    fn a_target_path_that_does_not_exist_is_refused() {
        let err = problems(|t| {
            t.replace(
                "to = \"t:ChuHoSo/t:DiaChi\"",
                "to = \"t:ChuHoSo/t:DiaChiNha\"",
            )
        });
        assert!(
            err.contains(
                "target path `t:ChuHoSo/t:DiaChiNha`: no element t:DiaChiNha after step 1"
            ),
            "{err}"
        );
    }

    #[test]
    fn a_date_without_a_date_transform_does_not_fit() {
        let err = problems(|t| t.replace("transform = [\"date(dd/MM/yyyy)\"]", ""));
        assert!(
            err.contains("types do not fit: target `t:NgayNop` is xs:date but `h:NgayNop` gives text; add a transform such as date(dd/MM/yyyy)"),
            "{err}"
        );
        // A date transform into a string target is fine; into a number it is not.
        let err = problems(|t| {
            t.replace(
                "to = \"t:SoLuong\"",
                "to = \"t:SoLuong\"\n  transform = [\"date(dd/MM/yyyy)\"]",
            )
        });
        assert!(
            err.contains("target `t:SoLuong` is xs:positiveInteger but `h:SoBan` gives an xs:date"),
            "{err}"
        );
    }

    #[test]
    fn a_required_target_nothing_writes_is_refused() {
        let err = problems(|t| {
            t.replace(
                "to = \"t:KenhNop\"\nconst = \"LIEN_THONG_HUYEN\"",
                "to = \"t:GhiChu\"\nconst = \"x\"",
            )
        });
        assert!(
            err.contains("required target element /t:ThongTinHoSo/t:KenhNop is not produced"),
            "{err}"
        );
        let err = problems(|t| t.replace("to = \"@phienBan\"", "to = \"t:SoHoSo\""));
        assert!(
            err.contains("required target attribute /t:ThongTinHoSo/@phienBan is not produced"),
            "{err}"
        );
    }

    #[test]
    fn constants_and_code_lists_are_checked_against_the_target_type() {
        let err =
            problems(|t| t.replace("const = \"LIEN_THONG_HUYEN\"", "const = \"QUA_BUU_DIEN\""));
        assert!(
            err.contains(
                "const: 'QUA_BUU_DIEN' is not one of the values target `t:KenhNop` allows"
            ),
            "{err}"
        );
        let err = problems(|t| t.replace("K = \"false\"", "K = \"khong\""));
        assert!(
            err.contains("code list `co-khong`: 'khong' is not a valid xs:boolean"),
            "{err}"
        );
    }

    #[test]
    fn malformed_files_and_unknown_transforms_are_refused() {
        let err = problems(|t| {
            t.replace(
                "[[rules]]\nfrom = \"h:MaHoSo\"",
                "[[rules]]\nfrom = \"h:MaHoSo\"\nfrom_typo = 1",
            )
        });
        assert!(err.contains("unknown field `from_typo`"), "{err}");
        let err = problems(|t| t.replace("\"date(dd/MM/yyyy)\"", "\"date(dd/MMM/yyyy)\""));
        assert!(
            err.contains("transform: pattern `dd/MMM/yyyy`: unknown letter `M`")
                || err.contains("transform:"),
            "{err}"
        );
        let err = problems(|t| {
            t.replace(
                "\"collapse\"]\n\n[[rules]]\nfrom = \"h:NguoiNop/h:SoCCCD\"",
                "\"shout\"]\n\n[[rules]]\nfrom = \"h:NguoiNop/h:SoCCCD\"",
            )
        });
        assert!(err.contains("unknown transform `shout`"), "{err}");
        let err = problems(|t| {
            t.replace(
                "for_each = \"h:DanhSachGiayTo/h:GiayTo\"",
                "from = \"h:DanhSachGiayTo/h:GiayTo/h:TenGiayTo\"",
            )
        });
        assert!(
            err.contains("can repeat") || err.contains("nested `rules` need a `for_each`"),
            "{err}"
        );
    }

    #[test]
    fn for_each_needs_a_repeatable_target() {
        let err = problems(|t| {
            t.replace(
                "to = \"t:ThanhPhanHoSo/t:TepTin\"",
                "to = \"t:ThanhPhanHoSo\"",
            )
        });
        assert!(
            err.contains("for_each target `t:ThanhPhanHoSo` cannot repeat"),
            "{err}"
        );
    }

    #[test]
    fn a_bad_value_fails_the_whole_mapping_naming_element_and_problem() {
        let m = Mapping::load(&repo().join("conf/mappings/ho-so-huyen-tinh/mapping.toml")).unwrap();
        let input = std::fs::read_to_string(
            repo().join("conf/mappings/ho-so-huyen-tinh/tests/day-du/input.xml"),
        )
        .unwrap()
        .replace(
            "<SoBan>2</SoBan><BanChinh>K</BanChinh>",
            "<SoBan>2</SoBan><BanChinh>X</BanChinh>",
        );
        let e = m.apply(input.as_bytes(), Direction::Request).unwrap_err();
        assert_eq!(
            e.failure.to_string(),
            "cannot map /h:HoSo/h:DanhSachGiayTo/h:GiayTo[2]/h:BanChinh: 'X' is not in code list `co-khong`"
        );
    }

    #[test]
    fn xslt_cannot_read_files_and_broken_stylesheets_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let xsl = dir.path().join("x.xsl");
        std::fs::write(
            &xsl,
            r#"<xsl:stylesheet version="1.0" xmlns:xsl="http://www.w3.org/1999/XSL/Transform"><xsl:template match="/"><r><xsl:value-of select="document('file:///etc/hostname')"/></r></xsl:template></xsl:stylesheet>"#,
        )
        .unwrap();
        let s = xslt::Stylesheet::load(&xsl).unwrap();
        let out = s.transform(b"<a/>");
        match out {
            Err(_) => {}
            Ok(bytes) => {
                let host = std::fs::read_to_string("/etc/hostname").unwrap_or_default();
                let text = String::from_utf8_lossy(&bytes);
                assert!(
                    host.trim().is_empty() || !text.contains(host.trim()),
                    "{text}"
                );
            }
        }
        std::fs::write(&xsl, "<xsl:stylesheet version=\"1.0\" xmlns:xsl=\"http://www.w3.org/1999/XSL/Transform\"><xsl:bogus/></xsl:stylesheet>").unwrap();
        assert!(xslt::Stylesheet::load(&xsl).is_err());
        std::fs::write(&xsl, "<not-xml").unwrap();
        assert!(xslt::Stylesheet::load(&xsl).is_err());
    }

    /// The district's request -> validated -> mapped -> valid for the province -> the
    /// provincial provider answers -> validated -> mapped back -> valid for the district.
    #[test]
    fn district_to_province_and_back() {
        let req =
            Mapping::load(&repo().join("conf/mappings/ho-so-huyen-tinh/mapping.toml")).unwrap();
        let resp =
            Mapping::load(&repo().join("conf/mappings/ket-qua-tinh-huyen/mapping.toml")).unwrap();
        let input =
            std::fs::read(repo().join("conf/mappings/ho-so-huyen-tinh/tests/day-du/input.xml"))
                .unwrap();
        req.source
            .schemas
            .validate(&input, Some(&req.source.root))
            .unwrap();
        let provincial = req.apply(&input, Direction::Request).unwrap();
        let provincial = String::from_utf8(provincial).unwrap();
        let answer =
            crate::providers::tiep_nhan_ho_so::answer(SoapVersion::V12, &provincial).unwrap();
        resp.source
            .schemas
            .validate(answer.as_bytes(), Some(&resp.source.root))
            .unwrap();
        let back = resp.apply(answer.as_bytes(), Direction::Response).unwrap();
        let back = String::from_utf8(back).unwrap();
        assert!(back.contains("<h:MaHoSo>H38.21-240301-0001</h:MaHoSo><h:TrangThai>DA_TIEP_NHAN</h:TrangThai><h:NgayHenTra>15/03/2024</h:NgayHenTra>"), "{back}");
    }

    #[test]
    fn every_shipped_golden_case_passes() {
        for dir in std::fs::read_dir(repo().join("conf/mappings")).unwrap() {
            let file = dir.unwrap().path().join("mapping.toml");
            let m = Mapping::load(&file).unwrap_or_else(|e| panic!("{e}"));
            let results = golden::run(&m);
            assert!(results.len() >= 2, "{}", file.display());
            for r in results {
                assert!(r.outcome.is_ok(), "{} {}: {:?}", m.name, r.name, r.outcome);
            }
        }
    }
}
