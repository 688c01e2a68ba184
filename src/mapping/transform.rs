//! Value transforms, written in a mapping as `transform = ["trim", "date(dd/MM/yyyy)"]`:
//! each parsed once at load, applied in order at run time. A transform that cannot handle
//! a value fails the whole mapping (nothing half-mapped).

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::{Datelike, NaiveDate, NaiveDateTime, NaiveTime};

use crate::schema::model::Family;

/// A code list: source code -> target code.
#[derive(Debug, Clone, Default)]
pub struct Table {
    pub name: String,
    pub values: BTreeMap<String, String>,
    /// Used for codes not in `values`; without it an unknown code fails the mapping.
    pub default: Option<String>,
}

#[derive(Debug, Clone)]
pub enum Transform {
    Trim,
    Upper,
    Lower,
    /// Trim and collapse inner whitespace runs to one space (xs:token's rule).
    Collapse,
    /// `date(FROM)` -> xs:date, or `date(FROM, TO)` -> the TO pattern.
    Date {
        from: Pattern,
        to: Option<Pattern>,
    },
    /// `datetime(FROM)` -> xs:dateTime, or `datetime(FROM, TO)`.
    DateTime {
        from: Pattern,
        to: Option<Pattern>,
    },
    Lookup(Arc<Table>),
    /// `number(DECIMALS)` or `number(DECIMALS, vn)` (input `1.234.567,5`).
    Number {
        decimals: usize,
        vietnamese: bool,
    },
    /// `split(SEP, first|last|rest|init|middle|N)`.
    Split {
        sep: String,
        part: Part,
    },
    /// `replace(FROM, TO)`.
    Replace {
        from: String,
        to: String,
    },
    /// `prefix(TEXT)` / `suffix(TEXT)`.
    Prefix(String),
    Suffix(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Part {
    First,
    Last,
    /// Everything after the first part.
    Rest,
    /// Everything before the last part.
    Init,
    /// Between the first and the last part (Vietnamese middle names).
    Middle,
    Index(isize),
}

/// A date/time pattern of `yyyy MM dd HH mm ss` tokens and literal characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pattern {
    pub text: String,
    chrono: String,
}

impl Pattern {
    pub fn parse(text: &str) -> Result<Pattern, String> {
        let mut chrono = String::new();
        let mut rest = text;
        let mut seen = false;
        while !rest.is_empty() {
            let tok = [
                ("yyyy", "%Y"),
                ("MM", "%m"),
                ("dd", "%d"),
                ("HH", "%H"),
                ("mm", "%M"),
                ("ss", "%S"),
            ]
            .iter()
            .find(|(t, _)| rest.starts_with(t));
            match tok {
                Some((t, c)) => {
                    chrono.push_str(c);
                    rest = &rest[t.len()..];
                    seen = true;
                }
                None => {
                    let ch = rest.chars().next().expect("non-empty");
                    if ch.is_ascii_alphabetic() {
                        return Err(format!(
                            "pattern `{text}`: unknown letter `{ch}` (use yyyy MM dd HH mm ss)"
                        ));
                    }
                    if ch == '%' {
                        chrono.push_str("%%");
                    } else {
                        chrono.push(ch);
                    }
                    rest = &rest[ch.len_utf8()..];
                }
            }
        }
        if !seen {
            return Err(format!("pattern `{text}` has no date or time field"));
        }
        Ok(Pattern {
            text: text.to_string(),
            chrono,
        })
    }

    fn has_time(&self) -> bool {
        self.chrono.contains("%H")
    }

    fn has_date(&self) -> bool {
        self.chrono.contains("%Y") || self.chrono.contains("%d")
    }
}

impl Transform {
    /// Parses one transform; `tables` are the mapping's code lists.
    pub fn parse(spec: &str, tables: &BTreeMap<String, Arc<Table>>) -> Result<Transform, String> {
        let spec = spec.trim();
        let (name, args) = match spec.find('(') {
            Some(i) if spec.ends_with(')') => {
                (&spec[..i], split_args(&spec[i + 1..spec.len() - 1]))
            }
            Some(_) => return Err(format!("`{spec}`: missing closing parenthesis")),
            None => (spec, Vec::new()),
        };
        let n = args.len();
        let want = |lo: usize, hi: usize| -> Result<(), String> {
            if n < lo || n > hi {
                Err(format!(
                    "`{spec}`: {name} takes {lo}..={hi} arguments, got {n}"
                ))
            } else {
                Ok(())
            }
        };
        Ok(match name.trim() {
            "trim" => {
                want(0, 0)?;
                Transform::Trim
            }
            "upper" => {
                want(0, 0)?;
                Transform::Upper
            }
            "lower" => {
                want(0, 0)?;
                Transform::Lower
            }
            "collapse" => {
                want(0, 0)?;
                Transform::Collapse
            }
            "date" | "datetime" => {
                want(1, 2)?;
                let from = Pattern::parse(&args[0])?;
                let to = args.get(1).map(|t| Pattern::parse(t)).transpose()?;
                if name == "date" {
                    Transform::Date { from, to }
                } else {
                    Transform::DateTime { from, to }
                }
            }
            "lookup" => {
                want(1, 1)?;
                let t = tables
                    .get(&args[0])
                    .ok_or_else(|| format!("`{spec}`: no table `{}` in [tables]", args[0]))?;
                Transform::Lookup(t.clone())
            }
            "number" => {
                want(1, 2)?;
                let decimals = args[0]
                    .parse()
                    .map_err(|_| format!("`{spec}`: decimals must be a number"))?;
                let vietnamese = match args.get(1).map(String::as_str) {
                    None => false,
                    Some("vn") => true,
                    Some(o) => return Err(format!("`{spec}`: unknown number style `{o}` (vn)")),
                };
                Transform::Number {
                    decimals,
                    vietnamese,
                }
            }
            "split" => {
                want(2, 2)?;
                if args[0].is_empty() {
                    return Err(format!("`{spec}`: empty separator"));
                }
                let part = match args[1].as_str() {
                    "first" => Part::First,
                    "last" => Part::Last,
                    "rest" => Part::Rest,
                    "init" => Part::Init,
                    "middle" => Part::Middle,
                    i => Part::Index(i.parse().map_err(|_| {
                        format!("`{spec}`: part must be first, last, rest, init, middle or an index")
                    })?),
                };
                Transform::Split {
                    sep: args[0].clone(),
                    part,
                }
            }
            "replace" => {
                want(2, 2)?;
                if args[0].is_empty() {
                    return Err(format!("`{spec}`: nothing to replace"));
                }
                Transform::Replace {
                    from: args[0].clone(),
                    to: args[1].clone(),
                }
            }
            "prefix" => {
                want(1, 1)?;
                Transform::Prefix(args[0].clone())
            }
            "suffix" => {
                want(1, 1)?;
                Transform::Suffix(args[0].clone())
            }
            other => {
                return Err(format!(
                    "unknown transform `{other}` (trim, upper, lower, collapse, date, datetime, lookup, number, split, replace, prefix, suffix)"
                ))
            }
        })
    }

    /// Applies the transform; the error says what is wrong with the value.
    pub fn apply(&self, v: String) -> Result<String, String> {
        Ok(match self {
            Transform::Trim => v.trim().to_string(),
            Transform::Upper => v.to_uppercase(),
            Transform::Lower => v.to_lowercase(),
            Transform::Collapse => v.split_whitespace().collect::<Vec<_>>().join(" "),
            Transform::Date { from, to } => {
                let d = parse_date(v.trim(), from)?;
                match to {
                    // xs:date lexical form, without a strftime pass.
                    None => format!("{:04}-{:02}-{:02}", d.year(), d.month(), d.day()),
                    Some(p) => d.format(&p.chrono).to_string(),
                }
            }
            Transform::DateTime { from, to } => {
                let t = v.trim();
                let dt = if from.has_time() {
                    NaiveDateTime::parse_from_str(t, &from.chrono)
                        .map_err(|_| not_a(t, "date and time", &from.text))?
                } else {
                    parse_date(t, from)?.and_time(NaiveTime::MIN)
                };
                match to {
                    None => dt.format("%Y-%m-%dT%H:%M:%S").to_string(),
                    Some(p) => dt.format(&p.chrono).to_string(),
                }
            }
            Transform::Lookup(t) => match t.values.get(v.trim()) {
                Some(x) => x.clone(),
                None => match &t.default {
                    Some(d) => d.clone(),
                    None => {
                        return Err(format!(
                            "'{}' is not in code list `{}`",
                            shorten(&v),
                            t.name
                        ))
                    }
                },
            },
            Transform::Number {
                decimals,
                vietnamese,
            } => format_number(v.trim(), *decimals, *vietnamese)?,
            Transform::Split { sep, part } => {
                let parts: Vec<&str> = if sep == " " {
                    v.split_whitespace().collect()
                } else {
                    v.split(sep.as_str()).map(str::trim).collect()
                };
                let n = parts.len();
                let join = |s: &[&str]| s.join(sep);
                match part {
                    Part::First => parts.first().map(|s| s.to_string()).unwrap_or_default(),
                    Part::Last => parts.last().map(|s| s.to_string()).unwrap_or_default(),
                    Part::Rest => join(parts.get(1..).unwrap_or(&[])),
                    Part::Init => join(&parts[..n.saturating_sub(1)]),
                    Part::Middle if n >= 2 => join(&parts[1..n - 1]),
                    Part::Middle => String::new(),
                    Part::Index(i) => {
                        let idx = if *i < 0 { n as isize + i } else { *i };
                        usize::try_from(idx)
                            .ok()
                            .and_then(|i| parts.get(i))
                            .map(|s| s.to_string())
                            .unwrap_or_default()
                    }
                }
            }
            Transform::Replace { from, to } => v.replace(from.as_str(), to),
            Transform::Prefix(p) => format!("{p}{v}"),
            Transform::Suffix(s) => format!("{v}{s}"),
        })
    }

    /// The value family after this transform, given the one before; `None` means the
    /// transform yields values from a known list (checked one by one).
    pub fn family(&self, before: Family) -> Family {
        match self {
            Transform::Trim | Transform::Collapse => before,
            Transform::Date { to: None, .. } => Family::Date,
            Transform::Date { to: Some(p), .. } if p.text == "yyyy-MM-dd" => Family::Date,
            Transform::DateTime { to: None, .. } => Family::DateTime,
            Transform::Number { .. } => Family::Number,
            _ => Family::Text,
        }
    }

    /// Checks done at load: a date pattern that cannot produce a date, etc.
    pub fn check(&self) -> Result<(), String> {
        match self {
            Transform::Date { from, .. } if !from.has_date() => Err(format!(
                "date pattern `{}` has no day/year field",
                from.text
            )),
            _ => Ok(()),
        }
    }
}

fn parse_date(t: &str, p: &Pattern) -> Result<NaiveDate, String> {
    NaiveDate::parse_from_str(t, &p.chrono).map_err(|_| not_a(t, "date", &p.text))
}

fn not_a(v: &str, what: &str, pattern: &str) -> String {
    format!(
        "'{}' is not a valid {what} in the form {pattern}",
        shorten(v)
    )
}

/// Values quoted in errors are capped: they end up in faults and logs.
pub fn shorten(v: &str) -> String {
    if v.chars().count() <= 40 {
        v.to_string()
    } else {
        format!("{}...", v.chars().take(40).collect::<String>())
    }
}

fn format_number(t: &str, decimals: usize, vietnamese: bool) -> Result<String, String> {
    let plain: String = if vietnamese {
        t.chars()
            .filter(|c| *c != '.' && *c != ' ')
            .map(|c| if c == ',' { '.' } else { c })
            .collect()
    } else {
        t.chars().filter(|c| *c != ',' && *c != ' ').collect()
    };
    let ok = !plain.is_empty()
        && plain
            .trim_start_matches(['-', '+'])
            .chars()
            .all(|c| c.is_ascii_digit() || c == '.')
        && plain.matches('.').count() <= 1
        && plain
            .trim_start_matches(['-', '+'])
            .chars()
            .any(|c| c.is_ascii_digit());
    if !ok {
        return Err(format!("'{}' is not a number", shorten(t)));
    }
    let neg = plain.starts_with('-');
    let digits = plain.trim_start_matches(['-', '+']);
    let (int, frac) = digits.split_once('.').unwrap_or((digits, ""));
    let int = int.trim_start_matches('0');
    let int = if int.is_empty() { "0" } else { int };
    // Round half away from zero on the decimal digits, without going through f64.
    let mut frac: Vec<u8> = frac.bytes().map(|b| b - b'0').collect();
    let mut int: Vec<u8> = int.bytes().map(|b| b - b'0').collect();
    if frac.len() > decimals {
        let round_up = frac[decimals] >= 5;
        frac.truncate(decimals);
        if round_up {
            let mut carry = true;
            for d in frac.iter_mut().rev().chain(int.iter_mut().rev()) {
                if !carry {
                    break;
                }
                if *d == 9 {
                    *d = 0;
                } else {
                    *d += 1;
                    carry = false;
                }
            }
            if carry {
                int.insert(0, 1);
            }
        }
    }
    frac.resize(decimals, 0);
    let mut out = String::new();
    if neg && (int.iter().any(|&d| d != 0) || frac.iter().any(|&d| d != 0)) {
        out.push('-');
    }
    out.extend(int.iter().map(|d| (b'0' + d) as char));
    if decimals > 0 {
        out.push('.');
        out.extend(frac.iter().map(|d| (b'0' + d) as char));
    }
    Ok(out)
}

/// Splits `a, 'b, c', space` into arguments: unquoted ones trimmed (`space` is one
/// space), quoted ones kept exactly as written between the quotes.
fn split_args(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut inner: Option<String> = None;
    let mut quoted = false;
    for c in s.chars() {
        match c {
            '\'' => {
                quoted = !quoted;
                inner.get_or_insert_with(String::new);
            }
            ',' if !quoted => {
                out.push(finish(&cur, inner.take()));
                cur.clear();
            }
            c if quoted => inner.get_or_insert_with(String::new).push(c),
            c => cur.push(c),
        }
    }
    if !s.trim().is_empty() {
        out.push(finish(&cur, inner.take()));
    }
    out
}

fn finish(cur: &str, inner: Option<String>) -> String {
    match inner {
        Some(q) => q,
        None => match cur.trim() {
            "space" => " ".to_string(),
            t => t.to_string(),
        },
    }
}

/// Is `v` a lexically valid value of `family` (for constants, defaults, code lists)?
pub fn lexical_ok(family: Family, v: &str) -> bool {
    match family {
        Family::Text => true,
        Family::Date => NaiveDate::parse_from_str(v, "%Y-%m-%d").is_ok(),
        Family::DateTime => {
            NaiveDateTime::parse_from_str(v.trim_end_matches('Z'), "%Y-%m-%dT%H:%M:%S").is_ok()
        }
        Family::Time => NaiveTime::parse_from_str(v, "%H:%M:%S").is_ok(),
        Family::Boolean => matches!(v, "true" | "false" | "1" | "0"),
        Family::Number => format_number(v, 0, false).is_ok() && !v.contains(','),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(spec: &str) -> Transform {
        let mut tables = BTreeMap::new();
        tables.insert(
            "lv".to_string(),
            Arc::new(Table {
                name: "lv".into(),
                values: [("HT".to_string(), "LV-HOTICH".to_string())].into(),
                default: None,
            }),
        );
        Transform::parse(spec, &tables).unwrap()
    }

    #[test]
    fn text_transforms() {
        assert_eq!(t("trim").apply("  a b ".into()).unwrap(), "a b");
        assert_eq!(t("upper").apply("đông sơn".into()).unwrap(), "ĐÔNG SƠN");
        assert_eq!(t("lower").apply("ABC".into()).unwrap(), "abc");
        assert_eq!(t("collapse").apply(" a \n  b ".into()).unwrap(), "a b");
        assert_eq!(t("replace(-, /)").apply("a-b".into()).unwrap(), "a/b");
        assert_eq!(t("prefix('VN-')").apply("1".into()).unwrap(), "VN-1");
        assert_eq!(t("suffix(' VND')").apply("1".into()).unwrap(), "1 VND");
    }

    #[test]
    fn dates() {
        assert_eq!(
            t("date(dd/MM/yyyy)").apply("01/03/2024".into()).unwrap(),
            "2024-03-01"
        );
        assert_eq!(
            t("date(yyyy-MM-dd, dd/MM/yyyy)")
                .apply("2024-03-15".into())
                .unwrap(),
            "15/03/2024"
        );
        let e = t("date(dd/MM/yyyy)")
            .apply("31/02/2024".into())
            .unwrap_err();
        assert_eq!(e, "'31/02/2024' is not a valid date in the form dd/MM/yyyy");
        assert!(t("date(dd/MM/yyyy)").apply("2024-02-01".into()).is_err());
        assert_eq!(
            t("datetime(dd/MM/yyyy HH:mm)")
                .apply("15/03/2024 14:30".into())
                .unwrap(),
            "2024-03-15T14:30:00"
        );
        assert_eq!(
            t("datetime(dd/MM/yyyy)")
                .apply("15/03/2024".into())
                .unwrap(),
            "2024-03-15T00:00:00"
        );
        assert!(Transform::parse("date(dd/MMM/yyyy)", &BTreeMap::new()).is_err());
        assert!(Transform::parse("date(Q)", &BTreeMap::new()).is_err());
    }

    #[test]
    fn lookups() {
        assert_eq!(t("lookup(lv)").apply("HT".into()).unwrap(), "LV-HOTICH");
        assert_eq!(
            t("lookup(lv)").apply("ZZ".into()).unwrap_err(),
            "'ZZ' is not in code list `lv`"
        );
        assert!(Transform::parse("lookup(nope)", &BTreeMap::new()).is_err());
    }

    #[test]
    fn numbers() {
        assert_eq!(
            t("number(2, vn)").apply("1.234.567,5".into()).unwrap(),
            "1234567.50"
        );
        assert_eq!(t("number(0, vn)").apply("50.000".into()).unwrap(), "50000");
        assert_eq!(t("number(1)").apply("2.25".into()).unwrap(), "2.3");
        assert_eq!(t("number(0)").apply("-0.4".into()).unwrap(), "0");
        assert_eq!(t("number(0)").apply("9.5".into()).unwrap(), "10");
        assert_eq!(t("number(2)").apply("1,000.126".into()).unwrap(), "1000.13");
        assert_eq!(
            t("number(0)").apply("mười".into()).unwrap_err(),
            "'mười' is not a number"
        );
        assert!(t("number(0)").apply("1.2.3".into()).is_err());
    }

    #[test]
    fn splits() {
        let name = "Nguyễn  Văn Thành An".to_string();
        assert_eq!(
            t("split(space, first)").apply(name.clone()).unwrap(),
            "Nguyễn"
        );
        assert_eq!(t("split(space, last)").apply(name.clone()).unwrap(), "An");
        assert_eq!(
            t("split(space, middle)").apply(name.clone()).unwrap(),
            "Văn Thành"
        );
        assert_eq!(
            t("split(space, rest)").apply(name.clone()).unwrap(),
            "Văn Thành An"
        );
        assert_eq!(
            t("split(space, init)").apply(name.clone()).unwrap(),
            "Nguyễn Văn Thành"
        );
        assert_eq!(t("split(',', 1)").apply("a, b, c".into()).unwrap(), "b");
        assert_eq!(t("split(',', -1)").apply("a, b, c".into()).unwrap(), "c");
        assert_eq!(
            t("split(space, middle)").apply("Lê Hoa".into()).unwrap(),
            ""
        );
        assert_eq!(t("split(' ', first)").apply("a b".into()).unwrap(), "a");
    }

    #[test]
    fn parse_errors_name_the_problem() {
        let e = Transform::parse("frobnicate", &BTreeMap::new()).unwrap_err();
        assert!(e.starts_with("unknown transform `frobnicate`"), "{e}");
        let e = Transform::parse("trim(1)", &BTreeMap::new()).unwrap_err();
        assert!(e.contains("takes 0..=0 arguments"), "{e}");
        assert!(Transform::parse("split(space, sideways)", &BTreeMap::new()).is_err());
    }

    #[test]
    fn lexical_checks() {
        assert!(lexical_ok(Family::Date, "2024-03-01"));
        assert!(!lexical_ok(Family::Date, "01/03/2024"));
        assert!(lexical_ok(Family::Boolean, "true"));
        assert!(!lexical_ok(Family::Boolean, "C"));
        assert!(lexical_ok(Family::Number, "12.5"));
        assert!(!lexical_ok(Family::Number, "12,5"));
    }
}
