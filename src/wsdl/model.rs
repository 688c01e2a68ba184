//! The loaded contract: operations (the dispatch table) and the documents it is made of,
//! each kept byte-for-byte with the spans publishing rewrites.

use std::ops::Range;
use std::path::PathBuf;

use crate::model::SoapVersion;
use crate::xml::QName;

/// How an operation's Body is laid out (WSDL 1.1 §3.5).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    /// Body child is the part's global element.
    Document,
    /// Body child is a wrapper named after the operation, in the binding's namespace.
    Rpc,
}

#[derive(Debug, Clone)]
pub struct Operation {
    pub name: String,
    pub style: Style,
    /// SOAPAction (1.1) / `action` (1.2) declared by the binding, if not empty. When the
    /// 1.1 and 1.2 bindings declare different actions this is the first one found;
    /// `soap_actions` holds them all.
    pub soap_action: Option<String>,
    /// Every non-empty action any binding declares for this operation, and the input's
    /// WS-Addressing `Action` (`wsam:Action`/`wsaw:Action`) when there is one.
    pub soap_actions: Vec<String>,
    /// The non-empty action each SOAP version's binding declares: what the provider is
    /// sent in that version ([`Operation::action_for`]).
    pub binding_actions: Vec<(SoapVersion, String)>,
    /// The QName of the request Body's child element; the dispatch key. Its local name is
    /// empty when the request Body is empty (a document-style input without parts), which
    /// no message can match.
    pub request_root: QName,
    /// The QName of the answer Body's child element, when the operation has an output.
    pub response_root: Option<QName>,
    /// SOAP versions for which the WSDL has a binding of this operation.
    pub versions: Vec<SoapVersion>,
    /// The portType operation's input and output messages (for schema validation).
    pub input_message: Option<QName>,
    pub output_message: Option<QName>,
    /// The parts the input and output bodies carry (the message's parts, narrowed by
    /// `soap:body/@parts`), in message order: an rpc wrapper's accessors (WSDL 1.1 §3.5).
    pub input_parts: Vec<MessagePart>,
    pub output_parts: Vec<MessagePart>,
}

impl Operation {
    /// The action to send the provider over `version`: the one that version's binding
    /// declares (none if it declares `""`), else, without a binding of that version, the
    /// first any binding declares. WS-I BP 1.1 R2744: a message carries the binding's
    /// soapAction; the form the consumer sent is never passed on.
    pub fn action_for(&self, version: SoapVersion) -> Option<&str> {
        let declared = self
            .binding_actions
            .iter()
            .find(|(v, _)| *v == version)
            .map(|(_, a)| a.as_str());
        if self.versions.contains(&version) {
            declared
        } else {
            self.soap_action.as_deref()
        }
    }

    /// True when `action` names this operation in one of the forms clients really send:
    /// an action the WSDL declares for it; its name; or its name after the contract's
    /// target namespace or the request element's namespace, joined by `/` (WCF and JAX-WS
    /// defaults), `:` or `#`. A trailing `/` is ignored. Quotes are removed on receipt.
    pub fn is_named_by(&self, action: &str, target_namespace: &str) -> bool {
        if self.soap_actions.iter().any(|a| a == action) {
            return true;
        }
        let action = action.trim_end_matches('/');
        action == self.name
            || [target_namespace, self.request_root.ns.as_str()]
                .iter()
                .any(|ns| qualifies(action, ns, &self.name))
    }
}

/// `action` is `ns`, a separator, then `name` (no separator when `ns` ends with one).
fn qualifies(action: &str, ns: &str, name: &str) -> bool {
    const SEPARATORS: [char; 3] = ['/', ':', '#'];
    let ns = ns.trim_end_matches('/');
    if ns.is_empty() {
        return false;
    }
    let Some(rest) = action.strip_prefix(ns) else {
        return false;
    };
    if ns.ends_with(SEPARATORS) {
        return rest == name;
    }
    rest.strip_prefix(SEPARATORS) == Some(name)
}

/// A `wsdl:part` of a message an operation's body carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessagePart {
    pub name: String,
    /// `element=`, when the part names a global element.
    pub element: Option<QName>,
    /// `type=`, when the part names a type (rpc style, WS-I BP 1.1 R2203).
    pub type_: Option<QName>,
}

/// A document the contract is made of (the WSDL, imported WSDLs, XSDs).
#[derive(Clone)]
pub struct Document {
    /// Path as published under `?xsd=` / `?wsdl=`, relative to the main WSDL's directory
    /// (`/`-separated; may start with `../` for files outside that directory).
    pub published_as: String,
    pub path: PathBuf,
    pub kind: DocumentKind,
    /// The document's `targetNamespace` (root element), if it declares one.
    pub target_namespace: Option<String>,
    /// The file's bytes exactly as read.
    pub bytes: Vec<u8>,
    /// Imports and includes this document makes, resolved to other documents.
    pub links: Vec<Link>,
    /// `xsd:schema` elements inside `wsdl:types` (WSDL documents only).
    pub inline_schemas: Vec<InlineSchema>,
    /// Byte spans publishing rewrites, sorted by position, never overlapping.
    pub(crate) edits: Vec<Edit>,
}

/// The bytes are summarised: a contract in a log line must not print whole files.
impl std::fmt::Debug for Document {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Document")
            .field("published_as", &self.published_as)
            .field("path", &self.path)
            .field("kind", &self.kind)
            .field("target_namespace", &self.target_namespace)
            .field("bytes", &format_args!("{} bytes", self.bytes.len()))
            .field("links", &self.links)
            .field("inline_schemas", &self.inline_schemas.len())
            .field("edits", &self.edits.len())
            .finish()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DocumentKind {
    Wsdl,
    Xsd,
}

/// One `wsdl:import`, `xsd:import`, `xsd:include` or `xsd:redefine`, resolved.
#[derive(Debug, Clone)]
pub struct Link {
    pub kind: LinkKind,
    /// The `location`/`schemaLocation` as written (absent for a namespace-only import that
    /// was resolved through the catalog or to a schema loaded elsewhere).
    pub location: Option<String>,
    pub namespace: Option<String>,
    /// Index into `Contract::documents`.
    pub target: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkKind {
    WsdlImport,
    XsdImport,
    XsdInclude,
    XsdRedefine,
}

/// An inline schema of a WSDL's `wsdl:types`.
#[derive(Debug, Clone)]
pub struct InlineSchema {
    pub target_namespace: Option<String>,
    /// Bytes of the `xsd:schema` element, start tag to end tag.
    pub span: Range<usize>,
    /// Namespace declarations in scope at the `xsd:schema` element (inherited from
    /// `wsdl:definitions` and above): an extracted schema needs them re-declared.
    pub namespaces: Vec<(String, String)>,
}

/// A rewrite publishing applies to a document's bytes.
#[derive(Debug, Clone)]
pub(crate) struct Edit {
    /// Bytes replaced (an empty range inserts).
    pub span: Range<usize>,
    pub action: EditAction,
}

#[derive(Debug, Clone)]
pub(crate) enum EditAction {
    /// A `soap:address`/`soap12:address` `location` value: becomes the gateway's URL.
    Address,
    /// An import/include location value: becomes `URL?wsdl=REL` or `URL?xsd=REL` of the
    /// document with this index.
    Location(usize),
    /// Inserted before the end of a namespace-only `xsd:import` start tag, so clients find
    /// the schema through the gateway: ` schemaLocation="URL?xsd=REL"`.
    AddSchemaLocation(usize),
    /// Inserted before `</wsdl:definitions>` of a contract without any `wsdl:service`: a
    /// service with one port per SOAP binding (clients such as zeep need an address).
    AddService(Vec<GeneratedPort>),
    /// Fixed text: the DOCTYPE removed (`""`), an internal entity reference expanded.
    Replace(String),
}

#[derive(Debug, Clone)]
pub(crate) struct GeneratedPort {
    pub name: String,
    pub binding: QName,
    pub version: SoapVersion,
}

/// A loaded, checked contract.
#[derive(Debug, Clone)]
pub struct Contract {
    pub main: PathBuf,
    pub target_namespace: String,
    pub operations: Vec<Operation>,
    /// `documents[0]` is the main WSDL.
    pub documents: Vec<Document>,
    /// What loads but may not work as the author expects (an operation with an empty
    /// request Body, two operations with the same request element); `lienthong check`
    /// can show them without failing.
    pub warnings: Vec<crate::problem::Problem>,
}

impl Contract {
    pub fn operation_by_root(&self, root: &QName) -> Option<&Operation> {
        self.index_by_root(root).map(|i| &self.operations[i])
    }

    /// The index in [`Contract::operations`] of the operation whose request is `root`.
    pub fn index_by_root(&self, root: &QName) -> Option<usize> {
        self.operations.iter().position(|o| &o.request_root == root)
    }

    pub fn operation_by_action(&self, action: &str) -> Option<&Operation> {
        self.operations
            .iter()
            .find(|o| o.soap_actions.iter().any(|a| a == action))
    }

    pub fn operation(&self, name: &str) -> Option<&Operation> {
        self.operations.iter().find(|o| o.name == name)
    }

    /// A document by the name it is published under (`?xsd=`/`?wsdl=`).
    pub fn document(&self, published_as: &str) -> Option<&Document> {
        self.documents
            .iter()
            .find(|d| d.published_as == published_as)
    }
}
