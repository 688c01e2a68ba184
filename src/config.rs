//! `conf/gateway.toml` parsed into a typed [`Config`] in one step.
//!
//! Unknown keys are errors (`deny_unknown_fields` everywhere): a misspelt limit silently
//! ignored is a limit not enforced. Relative paths are resolved against the directory of
//! the configuration file, so the gateway behaves the same from any working directory.

use std::collections::HashSet;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use toml::Spanned;

use crate::model::{AgencyCode, ServiceName};
use crate::problem::{Problem, Problems};
use crate::xml::limits::XmlLimits;

#[derive(Debug, Clone)]
pub struct Config {
    /// The file this was read from.
    pub path: PathBuf,
    /// Directory relative paths in the file are resolved against.
    pub base_dir: PathBuf,
    pub gateway: GatewaySection,
    pub limits: Limits,
    pub audit: crate::audit::AuditConfig,
    pub security: crate::wssec::SecurityConfig,
    pub agencies: Vec<Agency>,
    pub services: Vec<ServiceConfig>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    #[serde(default)]
    gateway: GatewaySection,
    #[serde(default)]
    limits: Limits,
    #[serde(default)]
    audit: crate::audit::AuditConfig,
    #[serde(default)]
    security: crate::wssec::SecurityConfig,
    #[serde(default)]
    agencies: Vec<Spanned<Agency>>,
    #[serde(default)]
    services: Vec<Spanned<ServiceConfig>>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct GatewaySection {
    /// Where the SOAP endpoints listen. Loopback unless told otherwise.
    pub listen: SocketAddr,
    /// The address consumers use, written into published WSDLs. Default: `http://LISTEN`.
    pub public_url: Option<String>,
    /// Name of this node in a cluster; each node keeps its own audit chain.
    pub node_id: String,
    /// State directory (audit database, generated keys). The CLI's `--data-dir` wins.
    pub data_dir: Option<PathBuf>,
    /// XML catalog mapping absolute import URLs to local files; nothing is ever fetched.
    pub catalog: Option<PathBuf>,
    /// Extra trust anchors (PEM files, each may hold several certificates) for providers'
    /// `https://` endpoints, on top of OpenSSL's default store: agencies often run their
    /// own or a national government CA that public stores do not carry.
    pub provider_ca: Vec<PathBuf>,
    /// Client certificate chain (PEM) the gateway presents to providers that require
    /// mutual TLS; with `provider_client_key`, or neither.
    pub provider_client_cert: Option<PathBuf>,
    /// Private key (PEM) of `provider_client_cert`.
    pub provider_client_key: Option<PathBuf>,
}

impl Default for GatewaySection {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            public_url: None,
            node_id: "node-1".into(),
            data_dir: None,
            catalog: None,
            provider_ca: Vec::new(),
            provider_client_cert: None,
            provider_client_key: None,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Limits {
    /// Largest request body accepted, checked before buffering (413 beyond it); a gzip
    /// body is held to it both as sent and once inflated.
    pub max_request_bytes: usize,
    /// A gzip body inflating past 1 MiB may not grow more than this many times the
    /// compressed bytes read so far (413: a decompression bomb).
    pub max_inflate_ratio: u64,
    /// Largest total size of the request's HTTP header block.
    pub max_header_bytes: usize,
    /// Whole-exchange deadline, upload included (defeats slow-loris uploads).
    pub request_timeout_ms: u64,
    /// Exchanges in flight at once; beyond it callers get a Server fault at once (503).
    pub max_concurrent_requests: usize,
    /// Largest provider answer read back.
    pub max_response_bytes: usize,
    /// XML nesting depth of a message.
    pub max_depth: usize,
    /// Elements in one message.
    pub max_elements: usize,
    /// Attributes (namespace declarations included) on one element.
    pub max_attributes: usize,
    /// Bytes in one text node or attribute value.
    pub max_value_bytes: usize,
}

/// What libxml2 (which parses every message again to verify, validate, map and sign it,
/// with `XML_PARSE_HUGE`) can take: `xmlReadMemory` takes an `int` length, and past these
/// libxml2 refuses a document whatever the gateway's own limits say.
pub mod libxml2_caps {
    /// Whole documents: well under `i32::MAX`, leaving room for the headers and signature
    /// the gateway adds to what it forwards.
    pub const DOCUMENT_BYTES: usize = 1 << 30;
    /// `XML_MAX_HUGE_LENGTH`: one text node or attribute value under `XML_PARSE_HUGE`.
    pub const VALUE_BYTES: usize = 1_000_000_000;
    /// Nesting depth libxml2 2.11 and later allow under `XML_PARSE_HUGE` (256 without it).
    pub const DEPTH: usize = 2048;
}

impl Limits {
    /// Every `[limits]` value that cannot be enforced as written: zero where it would refuse
    /// everything, or beyond [`libxml2_caps`], where a message within the limits would still
    /// be refused by libxml2 with a reason that names no limit.
    pub fn problems(&self) -> Vec<String> {
        use libxml2_caps as cap;
        let mut out = Vec::new();
        let mut at_least = |key: &str, v: u64, min: u64| {
            if v < min {
                out.push(format!("[limits] {key} = {v}: must be at least {min}"));
            }
        };
        at_least("max_request_bytes", self.max_request_bytes as u64, 1);
        at_least("max_header_bytes", self.max_header_bytes as u64, 1);
        at_least("request_timeout_ms", self.request_timeout_ms, 1);
        at_least(
            "max_concurrent_requests",
            self.max_concurrent_requests as u64,
            1,
        );
        at_least("max_response_bytes", self.max_response_bytes as u64, 1);
        // Envelope, Body and the payload element.
        at_least("max_depth", self.max_depth as u64, 3);
        at_least("max_elements", self.max_elements as u64, 3);
        at_least("max_attributes", self.max_attributes as u64, 1);
        at_least("max_value_bytes", self.max_value_bytes as u64, 1);
        at_least("max_inflate_ratio", self.max_inflate_ratio, 1);
        let mut at_most = |key: &str, v: usize, max: usize, what: &str| {
            if v > max {
                out.push(format!(
                    "[limits] {key} = {v} is beyond what libxml2 parses ({what}: at most {max})"
                ));
            }
        };
        at_most(
            "max_request_bytes",
            self.max_request_bytes,
            cap::DOCUMENT_BYTES,
            "a document",
        );
        at_most(
            "max_response_bytes",
            self.max_response_bytes,
            cap::DOCUMENT_BYTES,
            "a document",
        );
        at_most(
            "max_value_bytes",
            self.max_value_bytes,
            cap::VALUE_BYTES,
            "one text node or value",
        );
        at_most("max_depth", self.max_depth, cap::DEPTH, "nesting depth");
        out
    }

    pub fn xml(&self) -> XmlLimits {
        XmlLimits {
            max_depth: self.max_depth,
            max_elements: self.max_elements,
            max_attributes: self.max_attributes,
            max_value_bytes: self.max_value_bytes,
        }
    }
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_request_bytes: 10 * 1024 * 1024,
            max_inflate_ratio: 100,
            max_header_bytes: 16 * 1024,
            request_timeout_ms: 30_000,
            max_concurrent_requests: 512,
            max_response_bytes: 32 * 1024 * 1024,
            max_depth: XmlLimits::default().max_depth,
            max_elements: XmlLimits::default().max_elements,
            max_attributes: XmlLimits::default().max_attributes,
            max_value_bytes: XmlLimits::default().max_value_bytes,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Agency {
    pub code: AgencyCode,
    pub name: String,
    /// Certificates registered for this agency (PEM), for IssuerSerial/Thumbprint/SKI key
    /// references and pinning.
    #[serde(default)]
    pub certificates: Vec<PathBuf>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServiceConfig {
    pub name: ServiceName,
    /// The agency that provides the service.
    pub provider_agency: AgencyCode,
    /// The WSDL describing the contract (its imports are followed).
    pub wsdl: PathBuf,
    /// Where the provider's endpoint is; `http://` or `https://`.
    pub endpoint: String,
    #[serde(default = "default_timeout_ms")]
    pub timeout_ms: u64,
    #[serde(default)]
    pub validate: ValidatePolicy,
    #[serde(default)]
    pub security: crate::wssec::ServicePolicy,
    /// Who may call what. No grant, no call.
    #[serde(default)]
    pub grants: Vec<Grant>,
    #[serde(default)]
    pub mappings: Vec<crate::mapping::Binding>,
}

fn default_timeout_ms() -> u64 {
    10_000
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ValidatePolicy {
    pub request: bool,
    pub response: bool,
}

impl Default for ValidatePolicy {
    fn default() -> Self {
        Self {
            request: true,
            response: true,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Grant {
    pub consumer: AgencyCode,
    /// Operation names, or `"*"` for all operations of the service.
    pub operations: Vec<String>,
}

impl Grant {
    pub fn allows(&self, operation: &str) -> bool {
        self.operations.iter().any(|o| o == "*" || o == operation)
    }
}

impl Config {
    /// Reads and checks the file; every problem found is reported, each with its line.
    pub fn load(path: &Path) -> Result<Config, Problems> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| Problems(vec![Problem::file(path, format!("cannot read: {e}"))]))?;
        Self::parse(path, &text)
    }

    pub fn parse(path: &Path, text: &str) -> Result<Config, Problems> {
        let raw: RawConfig = toml::from_str(text).map_err(|e| {
            let line = e
                .span()
                .map(|s| crate::xml::line_of(text.as_bytes(), s.start))
                .unwrap_or(1);
            Problems(vec![Problem::at(
                path,
                line,
                e.message().trim().to_string(),
            )])
        })?;
        let base_dir = path
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_else(|| PathBuf::from("."));
        let line = |span: std::ops::Range<usize>| crate::xml::line_of(text.as_bytes(), span.start);

        let mut problems = Vec::new();
        let mut codes = HashSet::new();
        for a in &raw.agencies {
            if !codes.insert(a.get_ref().code.clone()) {
                problems.push(Problem::at(
                    path,
                    line(a.span()),
                    format!("agency {} is declared twice", a.get_ref().code),
                ));
            }
        }
        problems.extend(
            raw.limits
                .problems()
                .into_iter()
                .map(|reason| Problem::file(path, reason)),
        );
        if raw.gateway.provider_client_cert.is_some() != raw.gateway.provider_client_key.is_some() {
            problems.push(Problem::file(
                path,
                "[gateway] provider_client_cert and provider_client_key go together",
            ));
        }
        let mut names = HashSet::new();
        for s in &raw.services {
            let svc = s.get_ref();
            let at = line(s.span());
            if !names.insert(svc.name.clone()) {
                problems.push(Problem::at(
                    path,
                    at,
                    format!("service {} is declared twice", svc.name),
                ));
            }
            if !codes.contains(&svc.provider_agency) {
                problems.push(Problem::at(
                    path,
                    at,
                    format!(
                        "service {}: provider_agency {} is not a declared agency",
                        svc.name, svc.provider_agency
                    ),
                ));
            }
            if !(svc.endpoint.starts_with("http://") || svc.endpoint.starts_with("https://")) {
                problems.push(Problem::at(
                    path,
                    at,
                    format!(
                        "service {}: endpoint must be an http:// or https:// URL",
                        svc.name
                    ),
                ));
            }
            for g in &svc.grants {
                if !codes.contains(&g.consumer) {
                    problems.push(Problem::at(
                        path,
                        at,
                        format!(
                            "service {}: grant to {} which is not a declared agency",
                            svc.name, g.consumer
                        ),
                    ));
                }
            }
        }
        if !problems.is_empty() {
            return Err(Problems(problems));
        }

        let resolve = |p: &Path| -> PathBuf {
            if p.is_absolute() {
                p.to_path_buf()
            } else {
                base_dir.join(p)
            }
        };
        let mut gateway = raw.gateway;
        gateway.catalog = gateway.catalog.as_deref().map(resolve);
        gateway.data_dir = gateway.data_dir.as_deref().map(resolve);
        gateway.provider_ca = gateway.provider_ca.iter().map(|p| resolve(p)).collect();
        gateway.provider_client_cert = gateway.provider_client_cert.as_deref().map(resolve);
        gateway.provider_client_key = gateway.provider_client_key.as_deref().map(resolve);
        let agencies = raw
            .agencies
            .into_iter()
            .map(|a| {
                let mut a = a.into_inner();
                a.certificates = a.certificates.iter().map(|p| resolve(p)).collect();
                a
            })
            .collect();
        let services = raw
            .services
            .into_iter()
            .map(|s| {
                let mut s = s.into_inner();
                s.wsdl = resolve(&s.wsdl);
                for m in &mut s.mappings {
                    m.resolve_paths(&base_dir);
                }
                s
            })
            .collect();
        let mut security = raw.security;
        security.resolve_paths(&base_dir);
        let mut audit = raw.audit;
        audit.resolve_paths(&base_dir);
        Ok(Config {
            path: path.to_path_buf(),
            base_dir,
            gateway,
            limits: raw.limits,
            audit,
            security,
            agencies,
            services,
        })
    }

    /// The URL written into published WSDLs.
    pub fn public_url(&self) -> String {
        match &self.gateway.public_url {
            Some(u) => u.trim_end_matches('/').to_string(),
            None => format!("http://{}", self.gateway.listen),
        }
    }

    pub fn agency(&self, code: &AgencyCode) -> Option<&Agency> {
        self.agencies.iter().find(|a| &a.code == code)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINIMAL: &str = r#"
[[agencies]]
code = "000.00.00.H30"
name = "UBND tỉnh"

[[services]]
name = "civil-status"
provider_agency = "000.00.00.H30"
wsdl = "../wsdl/x.wsdl"
endpoint = "http://127.0.0.1:9000/x"
grants = [{ consumer = "000.00.00.H30", operations = ["*"] }]
"#;

    #[test]
    fn parses_and_resolves_relative_paths() {
        let c = Config::parse(Path::new("conf/gateway.toml"), MINIMAL).unwrap();
        assert_eq!(c.services[0].wsdl, Path::new("conf/../wsdl/x.wsdl"));
        assert!(c.services[0].grants[0].allows("Anything"));
        assert_eq!(c.public_url(), "http://127.0.0.1:8080");
    }

    #[test]
    fn forward_unsigned_headers_are_qnames_and_never_the_gateways_own() {
        let with = |list: &str| {
            let text = format!("{MINIMAL}[services.security]\nforward_unsigned_headers = {list}\n");
            Config::parse(Path::new("g.toml"), &text)
        };
        let c = with(r#"["{http://www.w3.org/2005/08/addressing}MessageID"]"#).unwrap();
        assert_eq!(
            c.services[0].security.forward_unsigned_headers,
            [crate::xml::QName::new(crate::xml::ns::WSA, "MessageID")]
        );
        for (bad, why) in [
            (r#"["MessageID"]"#, "is not {namespace}localName"),
            (r#"["{urn:x}a:b"]"#, "is not {namespace}localName"),
            (
                r#"["{urn:lienthong:gateway:1}Exchange"]"#,
                "the gateway's own",
            ),
        ] {
            let msg = with(bad).unwrap_err().to_string();
            // The line of the setting.
            assert!(msg.starts_with("g.toml:13:"), "{msg}");
            assert!(msg.contains(why), "{msg}");
        }
    }

    #[test]
    fn unknown_key_is_refused_with_its_line() {
        let text = format!("{MINIMAL}\n[limits]\nmax_reqest_bytes = 5\n");
        let err = Config::parse(Path::new("g.toml"), &text).unwrap_err();
        let msg = err.to_string();
        assert!(msg.starts_with("g.toml:14:"), "{msg}");
        assert!(msg.contains("max_reqest_bytes"), "{msg}");
    }

    #[test]
    fn limits_beyond_libxml2_or_at_zero_are_refused_with_the_file() {
        assert!(Limits::default().problems().is_empty());
        let text = format!(
            "{MINIMAL}\n[limits]\nmax_depth = 5000\nmax_value_bytes = 2000000000\n\
             max_request_bytes = 4294967296\nmax_inflate_ratio = 0\n"
        );
        let msg = Config::parse(Path::new("g.toml"), &text)
            .unwrap_err()
            .to_string();
        for want in [
            "g.toml: [limits] max_depth = 5000 is beyond what libxml2 parses (nesting depth: at most 2048)",
            "[limits] max_value_bytes = 2000000000 is beyond what libxml2 parses",
            "[limits] max_request_bytes = 4294967296 is beyond what libxml2 parses (a document: at most 1073741824)",
            "[limits] max_inflate_ratio = 0: must be at least 1",
        ] {
            assert!(msg.contains(want), "{want}\n{msg}");
        }
    }

    #[test]
    fn bad_agency_code_and_unknown_provider_are_refused() {
        let text = MINIMAL.replace(
            "provider_agency = \"000.00.00.H30\"",
            "provider_agency = \"000.00.00.H31\"",
        );
        let err = Config::parse(Path::new("g.toml"), &text).unwrap_err();
        assert!(err.to_string().contains("not a declared agency"), "{err}");
        let text = MINIMAL.replace("code = \"000.00.00.H30\"", "code = \"H30\"");
        let err = Config::parse(Path::new("g.toml"), &text).unwrap_err();
        assert!(err.to_string().contains("g.toml:3:"), "{err}");
    }

    #[test]
    fn provider_tls_defaults_to_the_system_store_and_no_client_certificate() {
        let c = Config::parse(Path::new("conf/gateway.toml"), MINIMAL).unwrap();
        assert!(c.gateway.provider_ca.is_empty());
        assert!(c.gateway.provider_client_cert.is_none());
        assert!(c.gateway.provider_client_key.is_none());
    }

    #[test]
    fn provider_tls_paths_resolve_against_the_config_file() {
        let text = format!(
            "[gateway]\nprovider_ca = [\"pki/ca.pem\", \"/etc/ssl/gov.pem\"]\n\
             provider_client_cert = \"pki/gw.crt\"\nprovider_client_key = \"pki/gw.key\"\n{MINIMAL}"
        );
        let c = Config::parse(Path::new("conf/gateway.toml"), &text).unwrap();
        assert_eq!(
            c.gateway.provider_ca,
            vec![
                PathBuf::from("conf/pki/ca.pem"),
                PathBuf::from("/etc/ssl/gov.pem")
            ]
        );
        assert_eq!(
            c.gateway.provider_client_cert.as_deref(),
            Some(Path::new("conf/pki/gw.crt"))
        );
        assert_eq!(
            c.gateway.provider_client_key.as_deref(),
            Some(Path::new("conf/pki/gw.key"))
        );
    }

    #[test]
    fn provider_client_cert_without_key_is_refused() {
        let text = format!("[gateway]\nprovider_client_cert = \"gw.crt\"\n{MINIMAL}");
        let err = Config::parse(Path::new("g.toml"), &text).unwrap_err();
        assert!(err.to_string().contains("go together"), "{err}");
        let text = format!("[gateway]\nprovider_cas = [\"ca.pem\"]\n{MINIMAL}");
        let err = Config::parse(Path::new("g.toml"), &text).unwrap_err();
        assert!(err.to_string().contains("provider_cas"), "{err}");
    }
}
