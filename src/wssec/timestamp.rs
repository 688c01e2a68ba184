//! `wsu:Timestamp` (WSS 1.1 §10): Created, then an optional Expires, in UTC, checked
//! against the clock with a tolerated skew (docs/SECURITY.md, R12), and written by the
//! gateway when it signs.
//!
//! WSS 1.1 §10: "the Expires element is optional"; WSS4J leaves it out when its TTL is 0.
//! Without it the message lives `max_age` from Created, as it would with a later Expires.
//! A lifetime (Expires - Created) above `max_ttl` is refused: a caller cannot ask for a
//! signature that stays valid, and in the replay cache, for days.

use chrono::{DateTime, Duration, SecondsFormat, Utc};

use super::WssError;
use crate::libxml2::Elem;
use crate::xml::ns;

/// The window a checked Timestamp establishes.
#[derive(Debug, Clone, Copy)]
pub struct Window {
    pub created: DateTime<Utc>,
    /// `None` when the Timestamp has no `wsu:Expires` (then `created + max_age` bounds it).
    pub expires: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Copy)]
pub struct Rules {
    pub skew: Duration,
    pub max_age: Duration,
    /// Longest accepted `Expires - Created`.
    pub max_ttl: Duration,
}

fn expired(m: &str) -> WssError {
    WssError::MessageExpired(m.to_string())
}

/// `xsd:dateTime` in UTC, with or without fractional seconds.
///
/// WSS 1.1 §10: "All times MUST be in UTC format as specified by the XML Schema type
/// (dateTime)". XML Schema 1.0 §3.2.7.3 writes UTC as `Z`, `+00:00` or `-00:00` (all three
/// the same instant); those are accepted. Any other offset is refused: the time it names is
/// well defined, but a caller sending local time has a clock set up against the rule, and
/// its next peer may read the offset differently. A time without zone is refused too.
fn parse_utc(s: &str) -> Option<DateTime<Utc>> {
    let s = s.trim();
    let utc = s.ends_with('Z') || s.ends_with("+00:00") || s.ends_with("-00:00");
    // `T` between date and time, as xsd:dateTime has it (RFC 3339 also allows ` `, `t`).
    if !utc || s.as_bytes().get(10) != Some(&b'T') {
        return None;
    }
    DateTime::parse_from_rfc3339(s)
        .ok()
        .filter(|d| d.offset().local_minus_utc() == 0)
        .map(|d| d.with_timezone(&Utc))
}

/// Checks the Timestamp element against `now`.
pub fn check(ts: Elem<'_>, rules: &Rules, now: DateTime<Utc>) -> Result<Window, WssError> {
    let mut kids = ts.children();
    let created_el = kids
        .next()
        .filter(|e| e.is(ns::WSU, "Created"))
        .ok_or_else(|| {
            WssError::InvalidSecurity("wsu:Timestamp must start with wsu:Created".into())
        })?;
    let expires_el = match kids.next() {
        None => None,
        Some(e) if e.is(ns::WSU, "Expires") => Some(e),
        Some(_) => {
            return Err(WssError::InvalidSecurity(
                "wsu:Timestamp holds wsu:Created, then optionally wsu:Expires".into(),
            ))
        }
    };
    if kids.next().is_some() {
        return Err(WssError::InvalidSecurity(
            "unexpected element in wsu:Timestamp".into(),
        ));
    }
    let created = parse_utc(&created_el.text()).ok_or_else(|| {
        WssError::InvalidSecurity("wsu:Created is not a UTC dateTime (…Z)".into())
    })?;
    let expires = match expires_el {
        Some(e) => Some(parse_utc(&e.text()).ok_or_else(|| {
            WssError::InvalidSecurity("wsu:Expires is not a UTC dateTime (…Z)".into())
        })?),
        None => None,
    };
    if let Some(expires) = expires {
        if expires <= created {
            return Err(expired("wsu:Expires is not after wsu:Created"));
        }
        if expires - created > rules.max_ttl {
            return Err(expired(&format!(
                "the wsu:Timestamp lifetime (Expires - Created) exceeds the {} s the gateway accepts",
                rules.max_ttl.num_seconds()
            )));
        }
        if expires <= now - rules.skew {
            return Err(expired("the message has expired (wsu:Expires)"));
        }
    }
    if created > now + rules.skew {
        return Err(expired("the message is dated in the future (wsu:Created)"));
    }
    if now - created > rules.max_age + rules.skew {
        return Err(expired("the message is too old (wsu:Created)"));
    }
    Ok(Window { created, expires })
}

/// How long a replay-cache entry must live: until the message would be refused as
/// expired or too old anyway.
pub fn retention(w: &Window, rules: &Rules, now: DateTime<Utc>) -> std::time::Duration {
    let oldest = w.created + rules.max_age;
    let until = w.expires.map_or(oldest, |e| e.min(oldest)) + rules.skew;
    (until - now)
        .to_std()
        .unwrap_or(std::time::Duration::from_secs(1))
        .max(std::time::Duration::from_secs(1))
}

/// `wsu:Created` / `wsu:Expires` text for a Timestamp the gateway writes (milliseconds, Z).
pub fn stamp(now: DateTime<Utc>, ttl: Duration) -> (String, String) {
    (
        now.to_rfc3339_opts(SecondsFormat::Millis, true),
        (now + ttl).to_rfc3339_opts(SecondsFormat::Millis, true),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules() -> Rules {
        Rules {
            skew: Duration::seconds(60),
            max_age: Duration::seconds(300),
            max_ttl: Duration::seconds(3600),
        }
    }

    fn at(s: &str) -> DateTime<Utc> {
        parse_utc(s).unwrap()
    }

    /// Checks a Timestamp of these Created and (optional) Expires texts at `now`.
    fn check_at(created: &str, expires: Option<&str>, now: &str) -> Result<Window, WssError> {
        let expires = expires
            .map(|e| format!("<wsu:Expires>{e}</wsu:Expires>"))
            .unwrap_or_default();
        let xml = format!(
            r#"<wsu:Timestamp xmlns:wsu="{}"><wsu:Created>{created}</wsu:Created>{expires}</wsu:Timestamp>"#,
            ns::WSU
        );
        let doc = super::super::dom::parse(xml.as_bytes()).unwrap();
        check(doc.root().unwrap(), &rules(), at(now))
    }

    #[test]
    fn utc_in_each_of_its_spellings_with_or_without_millis() {
        assert!(parse_utc("2026-01-01T00:00:00Z").is_some());
        assert!(parse_utc("2026-01-01T00:00:00.123Z").is_some());
        assert_eq!(
            parse_utc("2026-01-01T07:00:00+00:00"),
            parse_utc("2026-01-01T07:00:00Z")
        );
        assert_eq!(
            parse_utc("2026-01-01T07:00:00.5-00:00"),
            parse_utc("2026-01-01T07:00:00.500Z")
        );
        assert!(parse_utc("2026-01-01T00:00:00+07:00").is_none());
        assert!(parse_utc("2026-01-01T00:00:00-05:30").is_none());
        assert!(parse_utc("2026-01-01T00:00:00").is_none());
        assert!(parse_utc("2026-01-01 00:00:00Z").is_none());
        assert!(parse_utc("yesterday").is_none());
    }

    #[test]
    fn expires_is_optional_and_max_age_then_bounds_the_message() {
        let now = "2026-01-01T00:01:00Z";
        let w = check_at("2026-01-01T00:00:00Z", None, now).unwrap();
        assert!(w.expires.is_none());
        // Kept in the replay cache until Created + max_age + skew.
        let kept = retention(&w, &rules(), at(now));
        assert_eq!(kept.as_secs(), 300 + 60 - 60);
        // Too old without Expires, as with one.
        let late = "2026-01-01T00:06:01Z";
        assert!(matches!(
            check_at("2026-01-01T00:00:00Z", None, late),
            Err(WssError::MessageExpired(_))
        ));
        assert!(check_at("2026-01-01T00:00:00+00:00", None, now).is_ok());
    }

    #[test]
    fn a_lifetime_above_max_ttl_is_refused() {
        let now = "2026-01-01T00:00:30Z";
        let two_days = check_at("2026-01-01T00:00:00Z", Some("2026-01-03T00:00:00Z"), now);
        match two_days {
            Err(WssError::MessageExpired(m)) => assert!(m.contains("lifetime"), "{m}"),
            other => panic!("{other:?}"),
        }
        // One hour is the default limit, and allowed.
        assert!(check_at("2026-01-01T00:00:00Z", Some("2026-01-01T01:00:00Z"), now).is_ok());
    }

    #[test]
    fn only_created_then_expires() {
        let now = "2026-01-01T00:00:30Z";
        let swapped = format!(
            r#"<wsu:Timestamp xmlns:wsu="{}"><wsu:Expires>2026-01-01T00:05:00Z</wsu:Expires><wsu:Created>2026-01-01T00:00:00Z</wsu:Created></wsu:Timestamp>"#,
            ns::WSU
        );
        let doc = super::super::dom::parse(swapped.as_bytes()).unwrap();
        assert!(matches!(
            check(doc.root().unwrap(), &rules(), at(now)),
            Err(WssError::InvalidSecurity(_))
        ));
        assert!(matches!(
            check_at("2026-01-01T00:00:00+07:00", None, now),
            Err(WssError::InvalidSecurity(_))
        ));
    }
}
