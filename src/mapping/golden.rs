//! Golden pairs kept beside a mapping, as integrators keep regression cases:
//! `tests/CASE/input.xml` with either `expected.xml` (compared after canonicalisation:
//! namespace URIs not prefixes, attributes sorted, whitespace-only text ignored) or
//! `expected-error.txt` (a text the error must contain).

use std::path::{Path, PathBuf};

use super::Mapping;
use crate::schema::tree::Tree;
use crate::schema::Direction;

#[derive(Debug)]
pub struct CaseResult {
    pub name: String,
    pub dir: PathBuf,
    /// `Err` says why the case failed.
    pub outcome: Result<(), String>,
}

/// The case directories of the mapping at `file`, sorted by name.
pub fn cases(file: &Path) -> Vec<PathBuf> {
    let dir = file.parent().unwrap_or(Path::new(".")).join("tests");
    let mut out: Vec<PathBuf> = std::fs::read_dir(&dir)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.join("input.xml").is_file())
        .collect();
    out.sort();
    out
}

pub fn run(m: &Mapping) -> Vec<CaseResult> {
    cases(&m.file)
        .into_iter()
        .map(|dir| CaseResult {
            name: dir
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default(),
            outcome: run_case(m, &dir),
            dir,
        })
        .collect()
}

/// What the gateway does: validate against the source schema, map (which validates
/// against the target schema).
pub fn map_validated(m: &Mapping, input: &[u8]) -> Result<Vec<u8>, String> {
    m.source
        .schemas
        .validate(input, Some(&m.source.root))
        .map_err(|v| format!("input does not match the source schema: {}", v.join("; ")))?;
    m.apply(input, Direction::Request).map_err(|e| {
        let mut s = e.failure.to_string();
        if let super::Failure::Output { violations } = &e.failure {
            s.push_str(": ");
            s.push_str(&violations.join("; "));
        }
        s
    })
}

fn run_case(m: &Mapping, dir: &Path) -> Result<(), String> {
    let input = std::fs::read(dir.join("input.xml")).map_err(|e| format!("input.xml: {e}"))?;
    let got = map_validated(m, &input);
    let expected_err = dir.join("expected-error.txt");
    if expected_err.is_file() {
        let want = std::fs::read_to_string(&expected_err).map_err(|e| e.to_string())?;
        let want = want.trim();
        return match got {
            Ok(_) => Err(format!(
                "expected an error containing `{want}`, the mapping succeeded"
            )),
            Err(e) if e.contains(want) => Ok(()),
            Err(e) => Err(format!("expected an error containing `{want}`, got `{e}`")),
        };
    }
    let expected = std::fs::read_to_string(dir.join("expected.xml"))
        .map_err(|e| format!("expected.xml: {e}"))?;
    let got = got?;
    let got = String::from_utf8(got).map_err(|_| "output is not UTF-8".to_string())?;
    let (a, b) = (canonical(&expected)?, canonical(&got)?);
    if a == b {
        return Ok(());
    }
    let (la, lb): (Vec<&str>, Vec<&str>) = (a.lines().collect(), b.lines().collect());
    let i = la
        .iter()
        .zip(&lb)
        .position(|(x, y)| x != y)
        .unwrap_or(la.len().min(lb.len()));
    Err(format!(
        "output differs at canonical line {}:\n  expected: {}\n  got:      {}",
        i + 1,
        la.get(i).unwrap_or(&"<end>"),
        lb.get(i).unwrap_or(&"<end>")
    ))
}

/// One element per line, `{ns}local attr="v"... = text`, indented by depth.
pub fn canonical(xml: &str) -> Result<String, String> {
    let t = Tree::parse(xml, false)?;
    let mut out = String::new();
    fn go(t: &Tree, i: usize, depth: usize, out: &mut String) {
        let e = &t.nodes[i];
        out.push_str(&"  ".repeat(depth));
        out.push_str(&format!("{{{}}}{}", e.ns, e.local));
        let mut attrs: Vec<_> = e.attrs.iter().collect();
        attrs.sort();
        for (ns, l, v) in attrs {
            out.push_str(&format!(" {{{ns}}}{l}={v:?}"));
        }
        let text = e.text.trim();
        if !text.is_empty() {
            out.push_str(&format!(" = {text:?}"));
        }
        out.push('\n');
        for &c in &e.children {
            go(t, c, depth + 1, out);
        }
    }
    go(&t, 0, 0, &mut out);
    Ok(out)
}
