//! `wsu:Timestamp` (WSS 1.1 §10): Created then Expires, UTC, checked against the clock
//! with a tolerated skew (DOMAIN.md rule 12), and written by the gateway when it signs.

use chrono::{DateTime, Duration, SecondsFormat, Utc};

use super::dom::Elem;
use super::WssError;
use crate::xml::ns;

/// The window a checked Timestamp establishes.
#[derive(Debug, Clone, Copy)]
pub struct Window {
    pub created: DateTime<Utc>,
    pub expires: DateTime<Utc>,
}

#[derive(Debug, Clone, Copy)]
pub struct Rules {
    pub skew: Duration,
    pub max_age: Duration,
}

fn expired(m: &str) -> WssError {
    WssError::MessageExpired(m.to_string())
}

/// `xsd:dateTime` in UTC (`Z`), with or without fractional seconds.
fn parse_utc(s: &str) -> Option<DateTime<Utc>> {
    let s = s.trim();
    if !s.ends_with('Z') {
        return None;
    }
    DateTime::parse_from_rfc3339(s)
        .ok()
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
    let expires_el = kids
        .next()
        .filter(|e| e.is(ns::WSU, "Expires"))
        .ok_or_else(|| {
            WssError::InvalidSecurity(
                "wsu:Timestamp must have wsu:Expires after wsu:Created".into(),
            )
        })?;
    if kids.next().is_some() {
        return Err(WssError::InvalidSecurity(
            "unexpected element in wsu:Timestamp".into(),
        ));
    }
    let created = parse_utc(&created_el.text()).ok_or_else(|| {
        WssError::InvalidSecurity("wsu:Created is not a UTC dateTime (…Z)".into())
    })?;
    let expires = parse_utc(&expires_el.text()).ok_or_else(|| {
        WssError::InvalidSecurity("wsu:Expires is not a UTC dateTime (…Z)".into())
    })?;
    if expires <= created {
        return Err(expired("wsu:Expires is not after wsu:Created"));
    }
    if created > now + rules.skew {
        return Err(expired("the message is dated in the future (wsu:Created)"));
    }
    if expires <= now - rules.skew {
        return Err(expired("the message has expired (wsu:Expires)"));
    }
    if now - created > rules.max_age + rules.skew {
        return Err(expired("the message is too old (wsu:Created)"));
    }
    Ok(Window { created, expires })
}

/// How long a replay-cache entry must live: until the message would be refused as
/// expired or too old anyway.
pub fn retention(w: &Window, rules: &Rules, now: DateTime<Utc>) -> std::time::Duration {
    let until = w.expires.min(w.created + rules.max_age) + rules.skew;
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

    #[test]
    fn utc_only_with_or_without_millis() {
        assert!(parse_utc("2026-01-01T00:00:00Z").is_some());
        assert!(parse_utc("2026-01-01T00:00:00.123Z").is_some());
        assert!(parse_utc("2026-01-01T00:00:00+07:00").is_none());
        assert!(parse_utc("yesterday").is_none());
    }
}
