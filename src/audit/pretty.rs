//! Messages pretty-printed for auditors. Display only: the stored bytes are never changed.

use quick_xml::events::Event;
use quick_xml::{Reader, Writer};

/// `bytes` re-indented as XML; the text as it is (lossy UTF-8) if it is not well-formed.
pub fn xml(bytes: &[u8]) -> String {
    indent(bytes).unwrap_or_else(|| String::from_utf8_lossy(bytes).into_owned())
}

fn indent(bytes: &[u8]) -> Option<String> {
    let mut reader = Reader::from_reader(bytes);
    reader.config_mut().trim_text(true);
    let mut writer = Writer::new_with_indent(Vec::new(), b' ', 2);
    let mut buf = Vec::new();
    let mut depth: i64 = 0;
    loop {
        let ev = reader.read_event_into(&mut buf).ok()?;
        match &ev {
            Event::Eof => break,
            Event::Start(_) => depth += 1,
            Event::End(_) => depth -= 1,
            // Never expanded: shown as written.
            Event::DocType(_) => {}
            _ => {}
        }
        writer.write_event(ev).ok()?;
        buf.clear();
    }
    if depth != 0 {
        return None;
    }
    String::from_utf8(writer.into_inner()).ok()
}

#[cfg(test)]
mod tests {
    #[test]
    fn indents_and_falls_back() {
        let s = super::xml(b"<a><b>x</b><c/></a>");
        assert_eq!(s, "<a>\n  <b>x</b>\n  <c/>\n</a>");
        assert_eq!(super::xml(b"<a><b></a>"), "<a><b></a>");
    }
}
