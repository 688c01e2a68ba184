//! The small part of RFC 3986 that import locations need: telling absolute URIs from
//! relative references, resolving one against a base, `file:` URIs (percent-decoded by
//! [`crate::percent`]), and lexical path normalisation (no file system access, so `..` never escapes silently).

use std::path::{Component, Path, PathBuf};

/// `scheme:` per RFC 3986 §3.1. One-letter schemes are taken for Windows drive letters.
pub(crate) fn scheme(s: &str) -> Option<&str> {
    let colon = s.find(':')?;
    let scheme = &s[..colon];
    let mut chars = scheme.chars();
    let first = chars.next()?;
    (scheme.len() > 1
        && first.is_ascii_alphabetic()
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.')))
    .then_some(scheme)
}

pub(crate) fn is_absolute(s: &str) -> bool {
    scheme(s).is_some()
}

/// The local path of a `file:` URI (`file:///a/b`, `file:/a/b`, `file://localhost/a/b`).
pub(crate) fn file_path(uri: &str) -> Option<PathBuf> {
    let rest = uri.strip_prefix("file:")?;
    let path = if let Some(r) = rest.strip_prefix("//") {
        let slash = r.find('/')?;
        let host = &r[..slash];
        if !(host.is_empty() || host.eq_ignore_ascii_case("localhost")) {
            return None;
        }
        &r[slash..]
    } else {
        rest
    };
    Some(PathBuf::from(crate::percent::decode_lenient(strip_query(
        path,
    ))))
}

/// Drops `?query` and `#fragment`.
pub(crate) fn strip_query(s: &str) -> &str {
    let end = s.find(['?', '#']).unwrap_or(s.len());
    &s[..end]
}

/// Resolves a relative reference against an absolute base URI (RFC 3986 §5.2, without
/// query or fragment handling, which import locations do not use).
pub(crate) fn resolve(base: &str, reference: &str) -> String {
    if is_absolute(reference) {
        return reference.to_string();
    }
    let base = strip_query(base);
    // Where the path starts: after `scheme://authority`, or after `scheme:`.
    let path_start = match base.find("://") {
        Some(i) => base[i + 3..].find('/').map_or(base.len(), |j| i + 3 + j),
        None => base.find(':').map_or(0, |i| i + 1),
    };
    let authority = &base[..path_start];
    let path = if reference.starts_with("//") {
        let scheme = scheme(base).unwrap_or("http");
        return format!("{scheme}:{reference}");
    } else if reference.starts_with('/') {
        reference.to_string()
    } else {
        let dir = match base[path_start..].rfind('/') {
            Some(j) => &base[path_start..path_start + j + 1],
            None => "/",
        };
        format!("{dir}{reference}")
    };
    format!("{authority}{}", remove_dot_segments(&path))
}

/// RFC 3986 §5.2.4 on a `/`-separated path.
fn remove_dot_segments(path: &str) -> String {
    let mut out: Vec<&str> = Vec::new();
    let segments: Vec<&str> = path.split('/').collect();
    let last = segments.len() - 1;
    for (i, seg) in segments.iter().enumerate() {
        match *seg {
            "." => {
                if i == last {
                    out.push("");
                }
            }
            ".." => {
                if out.len() > 1 {
                    out.pop();
                }
                if i == last {
                    out.push("");
                }
            }
            s => out.push(s),
        }
    }
    out.join("/")
}

/// Removes `.` and resolves `..` lexically (`a/b/../c` -> `a/c`).
pub(crate) fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                let popped =
                    matches!(out.components().next_back(), Some(Component::Normal(_))) && out.pop();
                if !popped && !out.has_root() {
                    out.push("..");
                }
            }
            other => out.push(other.as_os_str()),
        }
    }
    out
}

/// `target` relative to directory `base`, `/`-separated (`../x/y.xsd` when outside).
pub(crate) fn relative_to(base: &Path, target: &Path) -> String {
    let b: Vec<Component> = base.components().collect();
    let t: Vec<Component> = target.components().collect();
    let common = b.iter().zip(&t).take_while(|(x, y)| x == y).count();
    let mut parts: Vec<String> = Vec::new();
    for _ in common..b.len() {
        parts.push("..".into());
    }
    for c in &t[common..] {
        parts.push(c.as_os_str().to_string_lossy().into_owned());
    }
    parts.join("/")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn absolute_or_relative() {
        assert!(is_absolute("http://example.org/a.xsd"));
        assert!(is_absolute("urn:x"));
        assert!(!is_absolute("a/b.xsd"));
        assert!(!is_absolute("C:\\x.xsd"));
        assert!(!is_absolute("../a:b.xsd"));
    }

    #[test]
    fn resolves_against_urls() {
        let base = "http://docs.example.org/wsn/b-2.xsd";
        assert_eq!(
            resolve(base, "t-1.xsd"),
            "http://docs.example.org/wsn/t-1.xsd"
        );
        assert_eq!(
            resolve(base, "../wsrf/bf-2.xsd"),
            "http://docs.example.org/wsrf/bf-2.xsd"
        );
        assert_eq!(resolve(base, "/x.xsd"), "http://docs.example.org/x.xsd");
        assert_eq!(resolve(base, "https://o/y"), "https://o/y");
    }

    #[test]
    fn file_uris_and_coding() {
        assert_eq!(
            file_path("file:///a/b%20c.xsd"),
            Some(PathBuf::from("/a/b c.xsd"))
        );
        assert_eq!(file_path("file://localhost/a"), Some(PathBuf::from("/a")));
        assert_eq!(file_path("file://host/a"), None);
    }

    #[test]
    fn paths() {
        assert_eq!(
            normalize(Path::new("/a/b/../c/./d")),
            PathBuf::from("/a/c/d")
        );
        assert_eq!(normalize(Path::new("/../a")), PathBuf::from("/a"));
        assert_eq!(
            relative_to(Path::new("/w/s"), Path::new("/w/s/x/a.xsd")),
            "x/a.xsd"
        );
        assert_eq!(
            relative_to(Path::new("/w/s"), Path::new("/w/t/a.xsd")),
            "../t/a.xsd"
        );
    }
}
