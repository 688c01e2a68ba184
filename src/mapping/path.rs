//! Paths in mapping files: `p:A/p:B`, `p:A/@attr`, `.`, with prefixes from the file's
//! `[namespaces]` table. Relative to the current element (the root, or a `for_each` item).

use std::collections::BTreeMap;

use crate::xml::QName;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    Element(QName),
    Attribute(QName),
}

#[derive(Debug, Clone)]
pub struct Path {
    pub steps: Vec<Step>,
    /// As written, for messages.
    pub text: String,
}

impl Path {
    pub fn parse(text: &str, namespaces: &BTreeMap<String, String>) -> Result<Path, String> {
        let t = text.trim();
        if t.is_empty() {
            return Err("empty path".into());
        }
        if t == "." {
            return Ok(Path {
                steps: Vec::new(),
                text: t.into(),
            });
        }
        if t.starts_with('/') {
            return Err(format!(
                "path `{t}` must be relative to the current element (drop the leading /)"
            ));
        }
        let parts: Vec<&str> = t.split('/').collect();
        let mut steps = Vec::with_capacity(parts.len());
        for (i, p) in parts.iter().enumerate() {
            let (attr, name) = match p.strip_prefix('@') {
                Some(n) => (true, n),
                None => (false, *p),
            };
            if attr && i + 1 != parts.len() {
                return Err(format!(
                    "path `{t}`: an attribute can only be the last step"
                ));
            }
            let q = qname(name, namespaces, attr).map_err(|e| format!("path `{t}`: {e}"))?;
            steps.push(if attr {
                Step::Attribute(q)
            } else {
                Step::Element(q)
            });
        }
        Ok(Path {
            steps,
            text: t.into(),
        })
    }
}

/// `prefix:local` (or `local`: no namespace) resolved against the file's prefixes.
pub fn qname(
    name: &str,
    namespaces: &BTreeMap<String, String>,
    attribute: bool,
) -> Result<QName, String> {
    let valid = |s: &str| {
        !s.is_empty()
            && s.chars()
                .all(|c| c.is_alphanumeric() || matches!(c, '_' | '-' | '.'))
            && !s.starts_with(|c: char| c.is_ascii_digit() || c == '-' || c == '.')
    };
    match name.split_once(':') {
        Some((p, l)) => {
            if !valid(l) {
                return Err(format!("`{name}` is not a valid name"));
            }
            let uri = namespaces
                .get(p)
                .ok_or_else(|| format!("prefix `{p}` is not declared in [namespaces]"))?;
            Ok(QName::new(uri.clone(), l))
        }
        None => {
            if !valid(name) {
                return Err(format!("`{name}` is not a valid name"));
            }
            // Unprefixed attributes are in no namespace (Namespaces in XML §6.2); so are
            // unprefixed elements here, unless a default is declared as `"" = URI`.
            let uri = if attribute {
                String::new()
            } else {
                namespaces.get("").cloned().unwrap_or_default()
            };
            Ok(QName::new(uri, name))
        }
    }
}

/// `prefix:local` for messages, with the file's own prefixes.
pub fn display(q: &QName, namespaces: &BTreeMap<String, String>) -> String {
    if q.ns.is_empty() {
        return q.local.clone();
    }
    match namespaces
        .iter()
        .find(|(p, u)| **u == q.ns && !p.is_empty())
    {
        Some((p, _)) => format!("{p}:{}", q.local),
        None => q.local.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_steps_and_refuses_bad_paths() {
        let ns: BTreeMap<String, String> = [("h".to_string(), "urn:h".to_string())].into();
        let p = Path::parse("h:A/h:B/@x", &ns).unwrap();
        assert_eq!(p.steps.len(), 3);
        assert_eq!(p.steps[2], Step::Attribute(QName::new("", "x")));
        assert!(Path::parse(".", &ns).unwrap().steps.is_empty());
        assert!(Path::parse("/h:A", &ns).is_err());
        assert!(Path::parse("@x/h:A", &ns).is_err());
        let e = Path::parse("q:A", &ns).unwrap_err();
        assert!(e.contains("prefix `q` is not declared"), "{e}");
    }
}
