//! Shared vocabulary: newtypes for the identifiers every layer passes around.

use std::fmt;

use serde::Deserialize;

/// An electronic agency code (QĐ 20/2020/QĐ-TTg), e.g. `000.00.00.H30`.
///
/// Invariant: four dot-separated groups of ASCII alphanumerics (3, 2, 2, 3 characters).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AgencyCode(String);

impl AgencyCode {
    pub fn parse(s: &str) -> Result<Self, String> {
        let parts: Vec<&str> = s.split('.').collect();
        let lens = [3, 2, 2, 3];
        let ok = parts.len() == 4
            && parts
                .iter()
                .zip(lens)
                .all(|(p, n)| p.len() == n && p.bytes().all(|b| b.is_ascii_alphanumeric()));
        if ok {
            Ok(Self(s.to_string()))
        } else {
            Err(format!(
                "`{s}` is not an agency code (expected four groups like 000.00.00.H30)"
            ))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for AgencyCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for AgencyCode {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        AgencyCode::parse(&s).map_err(serde::de::Error::custom)
    }
}

/// A published service name, the `NAME` in `/services/NAME`.
///
/// Invariant: 1 to 64 characters of `[A-Za-z0-9_-]`, so it is safe in a URL path and a log line.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ServiceName(String);

impl ServiceName {
    pub fn parse(s: &str) -> Result<Self, String> {
        let ok = !s.is_empty()
            && s.len() <= 64
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        if ok {
            Ok(Self(s.to_string()))
        } else {
            Err(format!(
                "`{s}` is not a service name (1-64 characters of A-Z a-z 0-9 - _)"
            ))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ServiceName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for ServiceName {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        ServiceName::parse(&s).map_err(serde::de::Error::custom)
    }
}

/// The SOAP version of one exchange; decided by the request's content type and envelope.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SoapVersion {
    V11,
    V12,
}

impl SoapVersion {
    pub const fn envelope_ns(self) -> &'static str {
        match self {
            SoapVersion::V11 => crate::xml::ns::SOAP11_ENV,
            SoapVersion::V12 => crate::xml::ns::SOAP12_ENV,
        }
    }

    pub const fn content_type(self) -> &'static str {
        match self {
            SoapVersion::V11 => "text/xml; charset=utf-8",
            SoapVersion::V12 => "application/soap+xml; charset=utf-8",
        }
    }

    pub const fn label(self) -> &'static str {
        match self {
            SoapVersion::V11 => "1.1",
            SoapVersion::V12 => "1.2",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn agency_codes() {
        assert!(AgencyCode::parse("000.00.00.H30").is_ok());
        assert!(AgencyCode::parse("000.00.04.G14").is_ok());
        assert!(AgencyCode::parse("000.00.00").is_err());
        assert!(AgencyCode::parse("000.00.00.H3").is_err());
        assert!(AgencyCode::parse("000.00.00.H3 ").is_err());
    }

    #[test]
    fn service_names() {
        assert!(ServiceName::parse("civil-status").is_ok());
        assert!(ServiceName::parse("").is_err());
        assert!(ServiceName::parse("a/b").is_err());
    }
}
