//! The only place that calls libxmlsec1 directly: global initialisation, error routing,
//! keys built from OpenSSL keys, and a signature context locked down to the allow-list.
//!
//! Declarations the `xmlsec` 0.3 crate lacks are made here (`xmlSecErrorsSetCallback`,
//! `xmlSecOpenSSLEvpKeyAdopt`). The crate's own high-level wrappers are not used: its
//! `verify_node` panics on an unknown status and its init would race ours.

use std::cell::RefCell;
use std::ffi::{c_char, c_int, c_void, CStr};
use std::marker::PhantomData;
use std::ptr;
use std::sync::Once;

use foreign_types::ForeignTypeRef;
use openssl::pkey::{HasPublic, PKeyRef};
use xmlsec::bindings as xs;

use crate::libxml2::{Document, Elem};

extern "C" {
    /// xmlsec/errors.h: replaces the callback that prints every error on stderr.
    fn xmlSecErrorsSetCallback(
        cb: Option<
            unsafe extern "C" fn(
                file: *const c_char,
                line: c_int,
                func: *const c_char,
                error_object: *const c_char,
                error_subject: *const c_char,
                reason: c_int,
                msg: *const c_char,
            ),
        >,
    );
    /// xmlsec/openssl/evp.h: wraps an EVP_PKEY (RSA or EC) as xmlsec key data; takes ownership.
    fn xmlSecOpenSSLEvpKeyAdopt(pkey: *mut c_void) -> xs::xmlSecKeyDataPtr;
    /// openssl/evp.h
    fn EVP_PKEY_up_ref(pkey: *mut c_void) -> c_int;
}

static INIT: Once = Once::new();

thread_local! {
    /// The last library error on this thread, for the log line of a refusal.
    static LAST_ERROR: RefCell<Option<String>> = const { RefCell::new(None) };
}

/// Initialises libxml2 (the shared `crate::libxml2::init`: parser, entity loader) and then
/// libxmlsec1 (OpenSSL backend), once per process.
///
/// docs/LIBRARIES.md, "Library objects stay on one thread": the libraries' global init must
/// run once, before any worker thread uses them; `Engine::load` calls this on the main thread.
pub fn init() {
    // SAFETY: runs once per process (`Once`), before any other libxmlsec1 call (every
    // entry point of this module calls `init` first), in the order xmlsec's documentation
    // gives: libxml2, xmlsec, the crypto app, the crypto engine; the callback is a plain
    // function valid for the whole process.
    INIT.call_once(|| unsafe {
        crate::libxml2::init();
        assert!(xs::xmlSecInit() >= 0, "libxmlsec1 failed to initialise");
        assert!(
            xs::xmlSecOpenSSLAppInit(ptr::null()) >= 0,
            "libxmlsec1-openssl failed to initialise"
        );
        assert!(
            xs::xmlSecOpenSSLInit() >= 0,
            "libxmlsec1-openssl failed to initialise"
        );
        // docs/LIBRARIES.md, "libxmlsec1 prints its errors on stderr": route them to `log`.
        xmlSecErrorsSetCallback(Some(on_error));
    });
}

unsafe extern "C" fn on_error(
    _file: *const c_char,
    _line: c_int,
    func: *const c_char,
    error_object: *const c_char,
    error_subject: *const c_char,
    reason: c_int,
    msg: *const c_char,
) {
    let s = |p: *const c_char| {
        if p.is_null() {
            String::new()
        } else {
            // SAFETY: xmlsec passes NUL-terminated strings valid for the call.
            unsafe { CStr::from_ptr(p) }.to_string_lossy().into_owned()
        }
    };
    let line = format!(
        "xmlsec: {} {} {}: reason={} {}",
        s(func),
        s(error_object),
        s(error_subject),
        reason,
        s(msg)
    );
    log::debug!("{line}");
    // Keep the first few errors of a failing call: the innermost cause comes first.
    LAST_ERROR.with(|e| {
        let mut e = e.borrow_mut();
        match e.as_mut() {
            Some(s) if s.len() < 600 => {
                s.push_str(" | ");
                s.push_str(&line);
            }
            Some(_) => {}
            None => *e = Some(line),
        }
    });
}

/// Takes the xmlsec errors recorded on this thread since the last call.
pub fn last_error() -> String {
    LAST_ERROR
        .with(|e| e.borrow_mut().take())
        .unwrap_or_else(|| "no detail".into())
}

/// An xmlsec key built from an OpenSSL key already in memory (no PEM parsing per message:
/// docs/LIBRARIES.md, "OpenSSL 3 loads keys slowly"). The EVP_PKEY is shared by reference
/// count, which OpenSSL makes thread-safe.
pub struct Key(xs::xmlSecKeyPtr);

impl Key {
    pub fn from_pkey<T: HasPublic>(pkey: &PKeyRef<T>) -> Result<Key, String> {
        init();
        // SAFETY: `raw` is a live EVP_PKEY; the reference taken by up_ref is handed to
        // xmlsec by Adopt (or released on failure), so the caller's `pkey` keeps its own.
        // Each object made here is destroyed exactly once on every failure path, and on
        // success the key owns the data.
        unsafe {
            let raw = pkey.as_ptr() as *mut c_void;
            if EVP_PKEY_up_ref(raw) != 1 {
                return Err("EVP_PKEY_up_ref failed".into());
            }
            let data = xmlSecOpenSSLEvpKeyAdopt(raw);
            if data.is_null() {
                openssl_sys_free(raw);
                return Err(format!("unsupported key type: {}", last_error()));
            }
            let key = xs::xmlSecKeyCreate();
            if key.is_null() {
                xs::xmlSecKeyDataDestroy(data);
                return Err("xmlSecKeyCreate failed".into());
            }
            if xs::xmlSecKeySetValue(key, data) < 0 {
                xs::xmlSecKeyDataDestroy(data);
                xs::xmlSecKeyDestroy(key);
                return Err(format!("xmlSecKeySetValue failed: {}", last_error()));
            }
            Ok(Key(key))
        }
    }

    fn into_raw(self) -> xs::xmlSecKeyPtr {
        let p = self.0;
        std::mem::forget(self);
        p
    }
}

impl Drop for Key {
    fn drop(&mut self) {
        // SAFETY: we own the key; it was never handed to a context.
        unsafe { xs::xmlSecKeyDestroy(self.0) }
    }
}

/// Drops one reference to an OpenSSL `EVP_PKEY`.
///
/// # Safety
/// `pkey` is a live `EVP_PKEY` on which the caller holds a reference (from
/// `EVP_PKEY_up_ref`) that it gives up here, once.
unsafe fn openssl_sys_free(pkey: *mut c_void) {
    extern "C" {
        fn EVP_PKEY_free(pkey: *mut c_void);
    }
    // SAFETY: releases the reference taken by EVP_PKEY_up_ref above.
    unsafe { EVP_PKEY_free(pkey) }
}

/// Algorithms the context accepts, as xmlsec transform classes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SigAlg {
    RsaSha256,
    RsaSha384,
    RsaSha512,
    EcdsaSha256,
    EcdsaSha384,
    RsaSha1,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DigestAlg {
    Sha256,
    Sha384,
    Sha512,
    Sha1,
}

fn sig_klass(a: SigAlg) -> xs::xmlSecTransformId {
    // SAFETY: the GetKlass functions return pointers to static transform descriptions;
    // they take no arguments and are valid after `init`.
    unsafe {
        match a {
            SigAlg::RsaSha256 => xs::xmlSecOpenSSLTransformRsaSha256GetKlass(),
            SigAlg::RsaSha384 => xs::xmlSecOpenSSLTransformRsaSha384GetKlass(),
            SigAlg::RsaSha512 => xs::xmlSecOpenSSLTransformRsaSha512GetKlass(),
            SigAlg::EcdsaSha256 => xs::xmlSecOpenSSLTransformEcdsaSha256GetKlass(),
            SigAlg::EcdsaSha384 => xs::xmlSecOpenSSLTransformEcdsaSha384GetKlass(),
            SigAlg::RsaSha1 => xs::xmlSecOpenSSLTransformRsaSha1GetKlass(),
        }
    }
}

fn digest_klass(a: DigestAlg) -> xs::xmlSecTransformId {
    // SAFETY: as in `sig_klass`.
    unsafe {
        match a {
            DigestAlg::Sha256 => xs::xmlSecOpenSSLTransformSha256GetKlass(),
            DigestAlg::Sha384 => xs::xmlSecOpenSSLTransformSha384GetKlass(),
            DigestAlg::Sha512 => xs::xmlSecOpenSSLTransformSha512GetKlass(),
            DigestAlg::Sha1 => xs::xmlSecOpenSSLTransformSha1GetKlass(),
        }
    }
}

/// Outcome of libxmlsec1's check of digests and signature value.
#[derive(Debug, PartialEq, Eq)]
pub enum Status {
    Valid,
    Invalid,
}

/// A `xmlSecDSigCtx` restricted to same-document references and the allow-listed
/// transforms (docs/LIBRARIES.md, "libxmlsec1 fetches any Reference URI").
///
/// After a sign or verify the context keeps pointers into the document it worked on
/// (reference results, node sets), which it touches again when it is destroyed: the
/// lifetime `'d` ties the context to that document, so the compiler refuses code that
/// frees the document first.
pub struct DsigCtx<'d> {
    ptr: xs::xmlSecDSigCtxPtr,
    _doc: PhantomData<&'d Document>,
}

impl<'d> DsigCtx<'d> {
    pub fn new(sigs: &[SigAlg], digests: &[DigestAlg]) -> Result<DsigCtx<'d>, String> {
        init();
        // SAFETY: a fresh context with no keys manager; `me` owns it from the first line,
        // so every early return destroys it. The fields written are plain settings of
        // the context, and the transform classes are static.
        unsafe {
            let ctx = xs::xmlSecDSigCtxCreate(ptr::null_mut());
            if ctx.is_null() {
                return Err("xmlSecDSigCtxCreate failed".into());
            }
            let me = DsigCtx {
                ptr: ctx,
                _doc: PhantomData,
            };
            (*ctx).enabledReferenceUris = xs::xmlSecTransformUriTypeSameDocument as _;
            // ds:Object and Manifest are refused by policy; make xmlsec ignore them too.
            (*ctx).flags |= xs::XMLSEC_DSIG_FLAGS_IGNORE_MANIFESTS;
            let c14n = xs::xmlSecTransformExclC14NGetKlass();
            let enveloped = xs::xmlSecTransformEnvelopedGetKlass();
            let mut ok = xs::xmlSecDSigCtxEnableSignatureTransform(ctx, c14n) >= 0
                && xs::xmlSecDSigCtxEnableReferenceTransform(ctx, c14n) >= 0
                && xs::xmlSecDSigCtxEnableReferenceTransform(ctx, enveloped) >= 0;
            for s in sigs {
                ok &= xs::xmlSecDSigCtxEnableSignatureTransform(ctx, sig_klass(*s)) >= 0;
            }
            for d in digests {
                ok &= xs::xmlSecDSigCtxEnableReferenceTransform(ctx, digest_klass(*d)) >= 0;
            }
            if !ok {
                return Err(format!("cannot restrict transforms: {}", last_error()));
            }
            Ok(me)
        }
    }

    fn set_key(&mut self, key: Key) {
        // SAFETY: the context is live and owns its `signKey`: a previous key is destroyed
        // once before the new one (whose ownership `into_raw` gives up) takes its place.
        unsafe {
            if !(*self.ptr).signKey.is_null() {
                xs::xmlSecKeyDestroy((*self.ptr).signKey);
            }
            (*self.ptr).signKey = key.into_raw();
        }
    }

    /// Checks every reference digest and the signature value of `signature` (a
    /// `ds:Signature` element); docs/SECURITY.md R13: one without the other is a bypass, and
    /// libxmlsec1 reports success only when all of them match.
    pub fn verify(&mut self, signature: Elem<'d>, key: Key) -> Result<Status, String> {
        self.set_key(key);
        let _ = last_error();
        // SAFETY: `signature` is an element of a document that outlives `self` ('d); the
        // context only reads the document (references are same-document only).
        unsafe {
            let rc = xs::xmlSecDSigCtxVerify(self.ptr, signature.ptr() as xs::xmlNodePtr);
            if rc < 0 {
                return Err(last_error());
            }
            let status = (*self.ptr).status;
            if status == xs::xmlSecDSigStatus_xmlSecDSigStatusSucceeded {
                Ok(Status::Valid)
            } else {
                Ok(Status::Invalid)
            }
        }
    }

    /// Fills DigestValue and SignatureValue of a `ds:Signature` template.
    pub fn sign(&mut self, signature: Elem<'d>, key: Key) -> Result<(), String> {
        self.set_key(key);
        let _ = last_error();
        // SAFETY: as in `verify`; signing writes only the DigestValue and SignatureValue
        // text of the template, which belongs to that same live document.
        unsafe {
            if xs::xmlSecDSigCtxSign(self.ptr, signature.ptr() as xs::xmlNodePtr) < 0 {
                return Err(last_error());
            }
        }
        Ok(())
    }
}

impl Drop for DsigCtx<'_> {
    fn drop(&mut self) {
        // SAFETY: destroys the context and the key it owns, once; the document it points
        // into is still alive ('d outlives `self`).
        unsafe { xs::xmlSecDSigCtxDestroy(self.ptr) }
    }
}

/// OpenSSL's own view of a certificate that the `openssl` crate does not expose.
pub fn is_ca(cert: &openssl::x509::X509Ref) -> bool {
    extern "C" {
        fn X509_check_ca(x: *mut c_void) -> c_int;
    }
    // SAFETY: read-only query on a valid certificate.
    unsafe { X509_check_ca(cert.as_ptr() as *mut c_void) != 0 }
}
