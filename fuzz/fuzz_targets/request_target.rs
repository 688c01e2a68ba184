//! Request-target resolution (`target::resolve`: path segments and query, strictly
//! percent-decoded) on arbitrary bytes: never a panic (a `&str` sliced inside a character
//! once took a connection down), and a document name it decodes comes back unchanged when
//! encoded the way published WSDLs link to it.
#![no_main]

use http::Method;
use libfuzzer_sys::fuzz_target;
use lienthong::target::{resolve, Document, Target};

fuzz_target!(|data: &[u8]| {
    // The request line as a server sees it: text up to the first `?` is the path.
    let text = String::from_utf8_lossy(data);
    let (path, query) = match text.split_once('?') {
        Some((p, q)) => (p, Some(q)),
        None => (&*text, None),
    };
    for method in [Method::GET, Method::POST] {
        let target = resolve(&method, path, query);
        if let Target::Published {
            service,
            document: Document::Named(d),
        } = target
        {
            let again = format!("xsd={}", lienthong::percent::encode_query_value(&d));
            assert_eq!(
                resolve(&method, path, Some(&again)),
                Target::Published {
                    service,
                    document: Document::Named(d),
                },
                "a decoded document name does not survive encoding"
            );
        }
    }
});
