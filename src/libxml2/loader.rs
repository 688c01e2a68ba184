//! The one external entity loader of the process: generated schema documents served from
//! memory, XML-catalog entries from their local file, anything with a network scheme
//! refused. Installed by [`super::init`].

use std::collections::HashMap;
use std::ffi::{c_char, CStr, CString};
use std::path::PathBuf;
use std::sync::{Arc, Mutex, OnceLock};

use libxml::bindings as x;

/// Where the loader finds a document named by a URI.
#[derive(Clone)]
enum Source {
    Memory(Arc<CString>),
    File(CString),
}

fn registry() -> &'static Mutex<HashMap<String, Source>> {
    static REG: OnceLock<Mutex<HashMap<String, Source>>> = OnceLock::new();
    REG.get_or_init(|| Mutex::new(HashMap::new()))
}

/// The loader libxml2 had before ours, for local files nobody registered.
static PREVIOUS_LOADER: OnceLock<x::xmlExternalEntityLoader> = OnceLock::new();

/// Records libxml2's own loader and puts ours in its place.
///
/// # Safety
/// Called once, from [`super::init`], before any parse can call a loader.
pub(super) unsafe fn install() {
    // SAFETY: per the contract: no parse runs yet, so nothing reads the loader slot while
    // it is replaced.
    unsafe {
        PREVIOUS_LOADER.get_or_init(|| x::xmlGetExternalEntityLoader());
        x::xmlSetExternalEntityLoader(Some(loader));
    }
}

/// Serves `uri` from memory until [`forget`] is called.
pub fn serve_memory(uri: &str, text: &str) {
    let c = CString::new(text.replace('\0', "")).expect("no NUL");
    registry()
        .lock()
        .expect("loader registry")
        .insert(uri.to_string(), Source::Memory(Arc::new(c)));
}

/// Serves `uri` (an absolute URL named by an import) from a local file: the XML catalog.
pub fn serve_file(uri: &str, path: &std::path::Path) {
    if let Ok(c) = CString::new(path.display().to_string()) {
        registry()
            .lock()
            .expect("loader registry")
            .insert(uri.to_string(), Source::File(c));
    }
}

pub fn forget(uris: &[String]) {
    let mut reg = registry().lock().expect("loader registry");
    for u in uris {
        reg.remove(u);
    }
}

/// The one entity loader of the process. Generated documents come from memory, catalog
/// entries from their local file; any other URL with a network scheme is refused, which
/// holds even where a caller forgot `XML_PARSE_NONET` (libxml2 calls loaders for DTDs,
/// schema imports/includes and `document()` alike).
unsafe extern "C" fn loader(
    url: *const c_char,
    id: *const c_char,
    ctxt: x::xmlParserCtxtPtr,
) -> x::xmlParserInputPtr {
    if url.is_null() {
        return std::ptr::null_mut();
    }
    // SAFETY: libxml2 passes a NUL-terminated string valid for the call.
    let u = unsafe { CStr::from_ptr(url) }
        .to_string_lossy()
        .into_owned();
    let found = registry().lock().ok().and_then(|r| r.get(&u).cloned());
    match found {
        // SAFETY: `ctxt` is the parser libxml2 called us for; `text` (an Arc clone held
        // by the registry) outlives the input stream, which only borrows it while the
        // parse that asked runs, and `forget` only runs once that set's loading is done;
        // the filename is a copy libxml2 frees with the input.
        Some(Source::Memory(text)) => unsafe {
            let input = x::xmlNewStringInputStream(ctxt, text.as_ptr() as *const x::xmlChar);
            if !input.is_null() {
                (*input).filename = x::xmlStrdup(url as *const x::xmlChar) as *const c_char;
            }
            input
        },
        // SAFETY: `path` is a NUL-terminated copy valid for the call; libxml2 opens it.
        Some(Source::File(path)) => unsafe { x::xmlNewInputFromFile(ctxt, path.as_ptr()) },
        None => {
            let lower = u.to_ascii_lowercase();
            let local = !lower.contains("://") || lower.starts_with("file://");
            if !local {
                log::warn!("refused to fetch {u}: nothing is fetched over the network");
                return std::ptr::null_mut();
            }
            match PREVIOUS_LOADER.get().copied().flatten() {
                // SAFETY: libxml2's own loader, called with the arguments it gave us.
                Some(prev) => unsafe { prev(url, id, ctxt) },
                // SAFETY: `url` is NUL-terminated and valid for the call.
                None => unsafe { x::xmlNewInputFromFile(ctxt, url) },
            }
        }
    }
}

/// The canonical `file://` URI of a schema file. A URI, not a bare path: generated
/// documents live under `lienthong-mem:/`, and a bare absolute path in them would resolve
/// against that scheme.
pub fn location(path: &std::path::Path) -> String {
    let p: PathBuf = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
    let mut out = String::from("file://");
    for b in p.display().to_string().bytes() {
        if b.is_ascii_alphanumeric() || b"/-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The path named by a `file://` URI (or a bare path), for `file:line` messages.
pub fn path_of(uri: &str) -> PathBuf {
    let Some(rest) = uri.strip_prefix("file://") else {
        return PathBuf::from(uri);
    };
    let b = rest.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() {
            if let Ok(v) = u8::from_str_radix(&rest[i + 1..i + 3], 16) {
                out.push(v);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    PathBuf::from(String::from_utf8_lossy(&out).into_owned())
}
