//! Who is calling, as a type later stages can rely on.
//!
//! A [`Verified`] is the only proof that a request's WS-Security signature was checked
//! (WSS 1.1 §8, the X.509 Token Profile §3.3: the certificate that verified the signature
//! names the consumer). Its fields are private and it is built only inside [`crate::wssec`],
//! so code that skips verification and invents an identity does not compile; authorisation
//! ([`crate::pipeline::authorise`]) takes a [`Caller`], never a bare agency code.
//!
//! The one way around the signature is visible in the type: a service configured with
//! `dangerous_accept_unsigned` takes the consumer its caller names in the
//! `x-lienthong-consumer` HTTP header, and that identity is a [`Caller::Declared`], made
//! by [`Declared::dangerous_from_header`] and nowhere else.

use super::ReplayTicket;
use crate::model::AgencyCode;

/// The consumer of an exchange and how the gateway knows it.
#[derive(Debug, Clone)]
pub enum Caller {
    /// Established by a verified signature.
    Verified(Verified),
    /// Named by the caller outside any signature; only under `dangerous_accept_unsigned`.
    Declared(Declared),
}

impl Caller {
    /// The consumer agency, whichever way it was established.
    pub fn consumer(&self) -> &AgencyCode {
        match self {
            Caller::Verified(v) => v.consumer(),
            Caller::Declared(d) => d.consumer(),
        }
    }

    /// The verified signature's facts; `None` for an unsigned call.
    pub fn verified(&self) -> Option<&Verified> {
        match self {
            Caller::Verified(v) => Some(v),
            Caller::Declared(_) => None,
        }
    }
}

/// Who sent the request, as established by its verified signature.
///
/// Only [`crate::wssec`] builds one; elsewhere a `Verified` can only be received (the
/// example fails for the private fields alone: with them public, it compiles):
///
/// ```compile_fail,E0451
/// use lienthong::model::AgencyCode;
/// use lienthong::wssec::{ReplayTicket, Verified};
///
/// let forged = Verified {
///     consumer: AgencyCode::parse("000.00.00.H38").unwrap(),
///     certificate: String::new(),
///     subject: String::new(),
///     replay: ReplayTicket { key: String::new(), ttl: std::time::Duration::ZERO },
///     body_id: String::new(),
///     signed_headers: Vec::new(),
/// };
/// ```
#[derive(Debug, Clone)]
pub struct Verified {
    consumer: AgencyCode,
    /// SHA-256 fingerprint (hex) of the verifying certificate.
    certificate: String,
    /// Subject of the verifying certificate, for the audit record.
    subject: String,
    /// What [`super::Engine::check_replay`] must record.
    replay: ReplayTicket,
    /// `wsu:Id` of the signed Body (kept when the consumer's signature is forwarded).
    body_id: String,
    /// For each header block of the envelope, in order: covered by the verified signature.
    signed_headers: Vec<bool>,
}

impl Verified {
    /// Called by [`super::Engine::verify`] once every check of [`super::verify`] passed.
    pub(in crate::wssec) fn new(
        consumer: AgencyCode,
        certificate: String,
        subject: String,
        replay: ReplayTicket,
        body_id: String,
        signed_headers: Vec<bool>,
    ) -> Verified {
        Verified {
            consumer,
            certificate,
            subject,
            replay,
            body_id,
            signed_headers,
        }
    }

    /// The agency the verifying certificate names.
    pub fn consumer(&self) -> &AgencyCode {
        &self.consumer
    }

    /// SHA-256 fingerprint (hex) of the verifying certificate.
    pub fn certificate(&self) -> &str {
        &self.certificate
    }

    /// Subject of the verifying certificate.
    pub fn subject(&self) -> &str {
        &self.subject
    }

    /// The signature to record once ([`super::Engine::check_replay`]).
    pub fn replay(&self) -> &ReplayTicket {
        &self.replay
    }

    /// `wsu:Id` (or `Id`) of the signed Body.
    pub fn body_id(&self) -> &str {
        &self.body_id
    }

    /// For each header block of the envelope, in document order: whether the verified
    /// signature covers it.
    pub fn signed_headers(&self) -> &[bool] {
        &self.signed_headers
    }

    /// For unit tests of later stages, which need a caller with chosen signed blocks.
    #[cfg(test)]
    pub(crate) fn for_tests(consumer: AgencyCode, signed_headers: Vec<bool>) -> Verified {
        let replay = ReplayTicket {
            key: String::new(),
            ttl: std::time::Duration::ZERO,
        };
        Verified::new(
            consumer,
            String::new(),
            String::new(),
            replay,
            String::new(),
            signed_headers,
        )
    }
}

/// A consumer named outside any signature (the `x-lienthong-consumer` HTTP header).
///
/// Only [`crate::wssec`] builds one, and only for a service whose policy says
/// `dangerous_accept_unsigned`:
///
/// ```compile_fail,E0451
/// use lienthong::model::AgencyCode;
/// use lienthong::wssec::{Caller, Declared};
///
/// let forged = Caller::Declared(Declared {
///     consumer: AgencyCode::parse("000.00.00.H38").unwrap(),
/// });
/// ```
#[derive(Debug, Clone)]
pub struct Declared {
    consumer: AgencyCode,
}

impl Declared {
    /// The unsigned path: the caller's own word for who it is. Called only where the
    /// service's policy has `dangerous_accept_unsigned` and the request carries no
    /// Security header for the gateway ([`super::Engine::caller`]).
    pub(in crate::wssec) fn dangerous_from_header(consumer: AgencyCode) -> Declared {
        Declared { consumer }
    }

    /// The agency the caller named.
    pub fn consumer(&self) -> &AgencyCode {
        &self.consumer
    }

    /// For unit tests of later stages, which need an unsigned caller.
    #[cfg(test)]
    pub(crate) fn for_tests(consumer: AgencyCode) -> Declared {
        Declared { consumer }
    }
}
