//! Harness for end-to-end tests: runs the real `lienthong` binary (gateway and example
//! providers as separate processes, on free ports) and talks to it over real sockets.

#![allow(dead_code)]

pub mod testpki;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub fn bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_lienthong"))
}

/// A child process killed when dropped; its output is kept in a log file.
pub struct Proc {
    pub child: Child,
    pub addr: SocketAddr,
    pub log: PathBuf,
}

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Proc {
    /// Sends SIGTERM and waits for the process to exit.
    pub fn terminate(&mut self) -> std::process::ExitStatus {
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(self.child.id().to_string())
            .status();
        self.child.wait().expect("wait")
    }

    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

/// Starts `lienthong ARGS`, waits for the stdout line containing `marker` followed by
/// `http://ADDR` (or `https://ADDR`), and returns the address.
pub fn spawn(args: &[&str], marker: &str, dir: &Path, env: &[(&str, &str)]) -> Proc {
    spawn_under(&[], args, marker, dir, env)
}

/// Like [`spawn`], with the binary run under `wrapper` (e.g. `["valgrind", "-q"]`); such a
/// process is given three minutes to start.
pub fn spawn_under(
    wrapper: &[&str],
    args: &[&str],
    marker: &str,
    dir: &Path,
    env: &[(&str, &str)],
) -> Proc {
    let log = dir.join(format!(
        "{}.log",
        args.iter().find(|a| !a.starts_with('-')).unwrap_or(&"proc")
    ));
    let stderr = std::fs::File::create(&log).unwrap();
    let mut cmd = match wrapper.split_first() {
        Some((program, rest)) => {
            let mut c = Command::new(program);
            c.args(rest).arg(bin());
            c
        }
        None => Command::new(bin()),
    };
    cmd.args(args)
        .current_dir(repo())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(stderr)
        .env("RUST_LOG", "info");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().expect("spawn lienthong");
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel();
    let marker = marker.to_string();
    std::thread::spawn(move || {
        let mut sent = false;
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if !sent && line.contains(&marker) {
                // `http://ADDR` or, for providers over TLS, `https://ADDR`.
                if let Some(i) = line.find("://") {
                    let addr: String = line[i + 3..]
                        .chars()
                        .take_while(|c| !c.is_whitespace() && *c != ',' && *c != '/')
                        .collect();
                    let _ = tx.send(addr);
                    sent = true;
                }
            }
        }
    });
    let startup = if wrapper.is_empty() { 60 } else { 180 };
    match rx.recv_timeout(Duration::from_secs(startup)) {
        Ok(addr) => Proc {
            child,
            addr: addr.parse().expect("address"),
            log,
        },
        Err(_) => {
            let _ = child.kill();
            panic!(
                "lienthong {args:?} did not start: {}",
                std::fs::read_to_string(&log).unwrap_or_default()
            );
        }
    }
}

/// Example providers in their own process.
pub fn start_providers(dir: &Path) -> Proc {
    spawn(
        &["provider", "--listen", "127.0.0.1:0"],
        "example providers on",
        dir,
        &[],
    )
}

/// The repository's `conf/gateway.toml`, with relative paths made absolute, provider
/// endpoints pointed at `provider`, and `edit` applied to the parsed document.
pub fn write_config(
    dir: &Path,
    provider: SocketAddr,
    edit: impl FnOnce(&mut toml::Table),
) -> PathBuf {
    let conf_dir = repo().join("conf");
    let text = std::fs::read_to_string(conf_dir.join("gateway.toml")).unwrap();
    let mut doc: toml::Table = text.parse().unwrap();
    absolutize(&mut doc, &conf_dir);
    if let Some(toml::Value::Array(services)) = doc.get_mut("services") {
        for s in services {
            if let Some(toml::Value::String(ep)) = s.get_mut("endpoint") {
                *ep = ep.replace("127.0.0.1:9100", &provider.to_string());
            }
        }
    }
    edit(&mut doc);
    let path = dir.join("gateway.toml");
    std::fs::write(&path, toml::to_string(&doc).unwrap()).unwrap();
    path
}

/// Makes every relative path-like value absolute against `base` (keys that hold paths).
fn absolutize(v: &mut toml::Table, base: &Path) {
    const PATH_KEYS: &[&str] = &[
        "wsdl",
        "catalog",
        "request",
        "response",
        "certificates",
        "file",
        "csv",
        "xslt",
        "ca_files",
        "crl_files",
        "trust",
        "mapping",
    ];
    for (k, val) in v.iter_mut() {
        match val {
            toml::Value::String(s)
                if PATH_KEYS.contains(&k.as_str())
                    && !s.contains("://")
                    && !Path::new(s.as_str()).is_absolute() =>
            {
                *s = base.join(&*s).display().to_string();
            }
            toml::Value::Array(items) => {
                for item in items {
                    match item {
                        toml::Value::Table(t) => absolutize(t, base),
                        toml::Value::String(s)
                            if PATH_KEYS.contains(&k.as_str())
                                && !Path::new(s.as_str()).is_absolute() =>
                        {
                            *s = base.join(&*s).display().to_string();
                        }
                        _ => {}
                    }
                }
            }
            toml::Value::Table(t) => absolutize(t, base),
            _ => {}
        }
    }
}

/// Makes every service accept unsigned calls (consumer named by header); for tests of the
/// core path that are not about WS-Security.
pub fn unsigned(doc: &mut toml::Table) {
    if let Some(toml::Value::Array(services)) = doc.get_mut("services") {
        for s in services {
            let t = s.as_table_mut().unwrap();
            let sec = t
                .entry("security")
                .or_insert_with(|| toml::Value::Table(Default::default()));
            sec.as_table_mut().unwrap().insert(
                "dangerous_accept_unsigned".into(),
                toml::Value::Boolean(true),
            );
        }
    }
}

/// A running gateway with its own data directory, config and providers.
pub struct Gateway {
    pub dir: tempfile::TempDir,
    pub providers: Proc,
    pub gateway: Proc,
    pub config: PathBuf,
}

impl Gateway {
    pub fn start(edit: impl FnOnce(&mut toml::Table)) -> Gateway {
        Self::start_with(&[], edit)
    }

    /// Like [`Gateway::start`], with extra `serve` arguments (e.g. `--audit-db URL`).
    pub fn start_with(extra: &[&str], edit: impl FnOnce(&mut toml::Table)) -> Gateway {
        let dir = tempfile::tempdir().unwrap();
        let providers = start_providers(dir.path());
        Self::start_on(dir, providers, extra, edit)
    }

    /// Like [`Gateway::start`], with the gateway (not the providers) run under `wrapper`.
    pub fn start_under(wrapper: &[&str], edit: impl FnOnce(&mut toml::Table)) -> Gateway {
        let dir = tempfile::tempdir().unwrap();
        let providers = start_providers(dir.path());
        Self::start_on_under(dir, providers, wrapper, &[], edit)
    }

    /// A gateway in `dir` whose services point at the already running `providers`.
    pub fn start_on(
        dir: tempfile::TempDir,
        providers: Proc,
        extra: &[&str],
        edit: impl FnOnce(&mut toml::Table),
    ) -> Gateway {
        Self::start_on_under(dir, providers, &[], extra, edit)
    }

    fn start_on_under(
        dir: tempfile::TempDir,
        providers: Proc,
        wrapper: &[&str],
        extra: &[&str],
        edit: impl FnOnce(&mut toml::Table),
    ) -> Gateway {
        let config = write_config(dir.path(), providers.addr, edit);
        let data = dir.path().join("data");
        let pki = Command::new(bin())
            .args([
                "pki",
                "init",
                "--config",
                config.to_str().unwrap(),
                "--data-dir",
                data.to_str().unwrap(),
            ])
            .output()
            .unwrap();
        assert!(
            pki.status.success(),
            "pki init: {}",
            String::from_utf8_lossy(&pki.stderr)
        );
        let mut args = vec![
            "serve",
            "--config",
            config.to_str().unwrap(),
            "--data-dir",
            data.to_str().unwrap(),
            "--listen",
            "127.0.0.1:0",
        ];
        args.extend_from_slice(extra);
        let gateway = spawn_under(wrapper, &args, "listening on", dir.path(), &[]);
        Gateway {
            dir,
            providers,
            gateway,
            config,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.gateway.addr, path)
    }

    pub fn data_dir(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    /// How many calls the example providers have received so far.
    pub fn provider_calls(&self) -> u64 {
        let r = http(self.providers.addr, "GET", "/_received", &[], b"");
        let v: serde_json::Value =
            serde_json::from_slice(&r.body).expect("provider /_received json");
        v["count"].as_u64().unwrap()
    }

    /// The audit store's exchanges, oldest first, as `audit export --format jsonl EXTRA`
    /// writes them (the line describing the export left out).
    pub fn audit_records(&self, extra: &[&str]) -> Vec<serde_json::Value> {
        let mut args = vec!["audit", "export", "--format", "jsonl"];
        args.extend_from_slice(extra);
        let out = self.cli(&args);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
            .filter(|v| v.get("format").is_none())
            .collect()
    }

    /// Runs `lienthong ARGS` against this gateway's config and data dir.
    pub fn cli(&self, args: &[&str]) -> std::process::Output {
        Command::new(bin())
            .args(args)
            .arg("--config")
            .arg(&self.config)
            .arg("--data-dir")
            .arg(self.data_dir())
            .current_dir(repo())
            .output()
            .unwrap()
    }
}

#[derive(Debug)]
pub struct HttpResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl HttpResponse {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// A minimal HTTP/1.1 client over a real socket (Connection: close), so tests control every
/// byte sent, including malformed ones.
pub fn http(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> HttpResponse {
    let mut s = TcpStream::connect(addr).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
    let mut req = format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    if !headers.iter().any(|(k, _)| {
        k.eq_ignore_ascii_case("content-length") || k.eq_ignore_ascii_case("transfer-encoding")
    }) {
        req.push_str(&format!("Content-Length: {}\r\n", body.len()));
    }
    req.push_str("\r\n");
    s.write_all(req.as_bytes()).unwrap();
    let _ = s.write_all(body);
    read_response(&mut s)
}

pub fn read_response(s: &mut impl Read) -> HttpResponse {
    let mut raw = Vec::new();
    let _ = s.read_to_end(&mut raw);
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("response head");
    let head = String::from_utf8_lossy(&raw[..split]).into_owned();
    let mut lines = head.split("\r\n");
    let status: u16 = lines
        .next()
        .unwrap()
        .split(' ')
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect();
    let mut body = raw[split + 4..].to_vec();
    if headers
        .iter()
        .any(|(k, v)| k.eq_ignore_ascii_case("transfer-encoding") && v.contains("chunked"))
    {
        body = dechunk(&body);
    }
    HttpResponse {
        status,
        headers,
        body,
    }
}

fn dechunk(mut b: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(eol) = b.windows(2).position(|w| w == b"\r\n") {
        let size =
            usize::from_str_radix(std::str::from_utf8(&b[..eol]).unwrap().trim(), 16).unwrap_or(0);
        if size == 0 {
            break;
        }
        out.extend_from_slice(&b[eol + 2..eol + 2 + size]);
        b = &b[eol + 4 + size..];
    }
    out
}

/// POSTs a SOAP 1.1 `body` to `/services/SERVICE` (empty SOAPAction) as `consumer`, named
/// by header: for services that accept unsigned calls.
pub fn post_unsigned11(
    addr: SocketAddr,
    service: &str,
    consumer: &str,
    body: &[u8],
) -> HttpResponse {
    http(
        addr,
        "POST",
        &format!("/services/{service}"),
        &[
            ("Content-Type", "text/xml; charset=utf-8"),
            ("SOAPAction", "\"\""),
            ("X-Lienthong-Consumer", consumer),
        ],
        body,
    )
}

/// A SOAP envelope around `payload` (standalone element).
pub fn envelope11(payload: &str) -> String {
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"><soapenv:Header/><soapenv:Body>{payload}</soapenv:Body></soapenv:Envelope>"#
    )
}

pub fn envelope12(payload: &str) -> String {
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?><env:Envelope xmlns:env="http://www.w3.org/2003/05/soap-envelope"><env:Body>{payload}</env:Body></env:Envelope>"#
    )
}

/// A shipped example payload (conf/examples/NAME.xml) without its XML declaration.
pub fn example(name: &str) -> String {
    payload(&format!("conf/examples/{name}.xml"))
}

/// A payload file of the repository (path relative to it), without its XML declaration,
/// ready to be put in a SOAP Body.
pub fn payload(rel: &str) -> String {
    let t = std::fs::read_to_string(repo().join(rel)).unwrap();
    let t = t.trim();
    match t.strip_prefix("<?xml") {
        Some(rest) => rest[rest.find("?>").unwrap() + 2..].trim().to_string(),
        None => t.to_string(),
    }
}

/// Waits until `f` is true or the timeout passes.
pub fn wait_for(timeout: Duration, mut f: impl FnMut() -> bool) -> bool {
    let start = Instant::now();
    while start.elapsed() < timeout {
        if f() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    false
}

/// Runs a Python client script from tests/clients with arguments; returns (status, stdout, stderr).
pub fn python(script: &str, args: &[&str]) -> (i32, String, String) {
    let out = Command::new("python3")
        .arg(repo().join("tests/clients").join(script))
        .args(args)
        .output()
        .expect("python3");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Writes `NAME.xsd` (given) and a document/literal SOAP 1.1 `NAME.wsdl` importing it into
/// `dir`, with one operation `Gui` taking element `input` and answering element `output`
/// (local names in namespace `ns`, action `NS:Gui`); returns the WSDL's path.
pub fn one_operation_contract(
    dir: &Path,
    name: &str,
    ns: &str,
    xsd: &str,
    input: &str,
    output: &str,
) -> PathBuf {
    std::fs::write(dir.join(format!("{name}.xsd")), xsd).unwrap();
    let wsdl = format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<wsdl:definitions xmlns:wsdl="http://schemas.xmlsoap.org/wsdl/" xmlns:soap="http://schemas.xmlsoap.org/wsdl/soap/"
    xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns:k="{ns}" xmlns:tns="{ns}:wsdl"
    name="{name}" targetNamespace="{ns}:wsdl">
  <wsdl:types>
    <xsd:schema targetNamespace="{ns}:wsdl">
      <xsd:import namespace="{ns}" schemaLocation="{name}.xsd"/>
    </xsd:schema>
  </wsdl:types>
  <wsdl:message name="In"><wsdl:part name="parameters" element="k:{input}"/></wsdl:message>
  <wsdl:message name="Out"><wsdl:part name="parameters" element="k:{output}"/></wsdl:message>
  <wsdl:portType name="P"><wsdl:operation name="Gui"><wsdl:input message="tns:In"/><wsdl:output message="tns:Out"/></wsdl:operation></wsdl:portType>
  <wsdl:binding name="B" type="tns:P">
    <soap:binding style="document" transport="http://schemas.xmlsoap.org/soap/http"/>
    <wsdl:operation name="Gui"><soap:operation soapAction="{ns}:Gui"/>
      <wsdl:input><soap:body use="literal"/></wsdl:input><wsdl:output><soap:body use="literal"/></wsdl:output>
    </wsdl:operation>
  </wsdl:binding>
  <wsdl:service name="S"><wsdl:port name="Port" binding="tns:B"><soap:address location="http://127.0.0.1:9/{name}"/></wsdl:port></wsdl:service>
</wsdl:definitions>
"#
    );
    let path = dir.join(format!("{name}.wsdl"));
    std::fs::write(&path, wsdl).unwrap();
    path
}

/// Adds service `name` (provider `000.00.12.H38`, every operation granted to `consumer`)
/// to a gateway.toml document.
pub fn add_service(doc: &mut toml::Table, name: &str, wsdl: &Path, endpoint: &str, consumer: &str) {
    let service: toml::Table = toml::from_str(&format!(
        r#"name = "{name}"
provider_agency = "000.00.12.H38"
wsdl = "{}"
endpoint = "{endpoint}"
grants = [{{ consumer = "{consumer}", operations = ["*"] }}]
"#,
        wsdl.display()
    ))
    .unwrap();
    doc.get_mut("services")
        .and_then(|s| s.as_array_mut())
        .unwrap()
        .push(toml::Value::Table(service));
}

/// `dir/broken.wsdl`: a contract whose operation (line 4) names a message with an
/// undeclared prefix, for tests of how load-time problems are reported.
pub fn broken_wsdl(dir: &Path) -> PathBuf {
    let wsdl = dir.join("broken.wsdl");
    std::fs::write(
        &wsdl,
        "<?xml version=\"1.0\"?>\n<definitions xmlns=\"http://schemas.xmlsoap.org/wsdl/\" targetNamespace=\"urn:b\">\n  <portType name=\"P\">\n    <operation name=\"o\"><input message=\"tns:Missing\"/></operation>\n  </portType>\n</definitions>\n",
    )
    .unwrap();
    wsdl
}

/// Points service `name` at the example providers' `/_hang` (accepts, never answers), with
/// the service's own `timeout_ms`.
pub fn hang_service(doc: &mut toml::Table, name: &str, timeout_ms: i64) {
    for s in doc["services"].as_array_mut().unwrap() {
        let t = s.as_table_mut().unwrap();
        if t["name"].as_str() == Some(name) {
            let ep = t["endpoint"]
                .as_str()
                .unwrap()
                .replace(&format!("/{name}"), "/_hang");
            t.insert("endpoint".into(), ep.into());
            t.insert("timeout_ms".into(), toml::Value::Integer(timeout_ms));
        }
    }
}
