//! `lienthong audit ...`: the auditor's commands.

use std::collections::HashMap;

use anyhow::Context;
use clap::{Args, Subcommand};

use crate::audit::backend::{Conn, StoreUrl};
use crate::audit::query::{self, Filter};
use crate::audit::row::Record;
use crate::cli::Common;
use crate::config::Config;

#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// List exchanges, newest first.
    List {
        #[arg(long, default_value_t = 20)]
        limit: usize,
        #[command(flatten)]
        filter: Box<FilterArgs>,
    },
    /// Show one exchange: every field and its messages, pretty-printed.
    Show {
        /// Exchange id (as quoted in faults and logs).
        id: String,
    },
    /// Create the store or apply pending migrations (the gateway also does it at start).
    /// On PostgreSQL, run it as the owner and grant the gateway and auditor roles.
    Migrate {
        /// PostgreSQL role the gateway connects as: granted INSERT and SELECT only.
        #[arg(long)]
        gateway_role: Option<String>,
        /// PostgreSQL role auditors connect as: granted SELECT only.
        #[arg(long)]
        auditor_role: Option<String>,
    },
    /// Export the matching exchanges, oldest first: one header line, one record per line.
    Export {
        /// csv or jsonl.
        #[arg(long, default_value = "csv")]
        format: String,
        /// Write here instead of standard output.
        #[arg(long, short)]
        output: Option<std::path::PathBuf>,
        /// JSON Lines: include the stored messages.
        #[arg(long)]
        with_messages: bool,
        #[command(flatten)]
        filter: Box<FilterArgs>,
    },
    /// Serve the auditor's API and web page alone (read-only; the gateway serves them too
    /// when `[audit] api_listen` is set).
    Serve {
        /// Default: `[audit] api_listen`, else 127.0.0.1:8081.
        #[arg(long)]
        listen: Option<std::net::SocketAddr>,
    },
    /// Make a new auditor bearer token and print the line to add to `[[audit.auditors]]`.
    Token {
        /// Who the token is for (shown in the API's log).
        #[arg(long)]
        name: String,
    },
    /// Recompute every hash, chain link and seal signature; exit 1 at the first break.
    Verify {
        /// PEM key or certificate seals must be signed with (repeatable). Default: the
        /// gateway's seal key in the data directory, when present.
        #[arg(long = "trust-key")]
        trust_keys: Vec<std::path::PathBuf>,
        /// Archive files made by `audit archive`, checked and chained before the store
        /// (repeatable; all of a node's archives, oldest first or in any order).
        #[arg(long = "archive")]
        archives: Vec<std::path::PathBuf>,
        /// Print the report as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Move records received before DATE, with their seals, into a signed, self-verifiable
    /// archive file, then remove them from the store (PostgreSQL: run as the owner).
    Archive {
        /// Date (2026-01-01) or RFC 3339 time; records received before it are archived.
        #[arg(long)]
        before: String,
        /// Default: DATA_DIR/archives/audit-before-DATE.jsonl.
        #[arg(long, short)]
        output: Option<std::path::PathBuf>,
    },
}

/// The filters `list` and `export` take (same names as the HTTP API's parameters).
#[derive(Debug, Clone, Default, Args)]
pub struct FilterArgs {
    /// Received at or after (date 2026-11-26 or RFC 3339 time).
    #[arg(long)]
    pub from: Option<String>,
    /// Received before (a date includes that whole day).
    #[arg(long)]
    pub to: Option<String>,
    /// Consumer agency code.
    #[arg(long)]
    pub consumer: Option<String>,
    /// Provider agency code.
    #[arg(long)]
    pub provider: Option<String>,
    /// Consumer or provider agency code.
    #[arg(long)]
    pub agency: Option<String>,
    #[arg(long)]
    pub service: Option<String>,
    #[arg(long)]
    pub operation: Option<String>,
    /// accepted, rejected or failed.
    #[arg(long)]
    pub outcome: Option<String>,
    /// Fault code (e.g. wsse:FailedCheck).
    #[arg(long)]
    pub fault: Option<String>,
    /// Gateway node.
    #[arg(long)]
    pub node: Option<String>,
    /// Text in the exchange id or the consumer certificate fingerprint.
    #[arg(long = "q")]
    pub text: Option<String>,
}

impl FilterArgs {
    pub fn to_filter(&self) -> anyhow::Result<Filter> {
        let mut f = Filter::default();
        let pairs = [
            ("from", &self.from),
            ("to", &self.to),
            ("consumer", &self.consumer),
            ("provider", &self.provider),
            ("agency", &self.agency),
            ("service", &self.service),
            ("operation", &self.operation),
            ("outcome", &self.outcome),
            ("fault", &self.fault),
            ("node", &self.node),
            ("q", &self.text),
        ];
        for (k, v) in pairs {
            if let Some(v) = v {
                f.set(k, v).map_err(|e| {
                    let flag = if k == "q" {
                        "q".to_string()
                    } else {
                        k.to_string()
                    };
                    anyhow::anyhow!("--{flag}: {}", e.reason)
                })?;
            }
        }
        Ok(f)
    }
}

pub fn run(common: &Common, cmd: AuditCommand) -> anyhow::Result<i32> {
    let ctx = Ctx::load(common)?;
    match cmd {
        AuditCommand::List { limit, filter } => list(&ctx, limit, &filter.to_filter()?),
        AuditCommand::Show { id } => show(&ctx, &id),
        AuditCommand::Export {
            format,
            output,
            with_messages,
            filter,
        } => export(
            &ctx,
            &format,
            output.as_deref(),
            with_messages,
            &filter.to_filter()?,
        ),
        AuditCommand::Serve { listen } => serve_api(&ctx, listen),
        AuditCommand::Token { name } => {
            let token = crate::web::auth::generate();
            println!("token (give it to {name}; it is not stored anywhere): {token}");
            println!();
            println!("[[audit.auditors]]");
            println!("name = {}", toml::Value::String(name));
            println!("token_sha256 = \"{}\"", crate::web::auth::hash(&token));
            Ok(0)
        }
        AuditCommand::Verify {
            trust_keys,
            archives,
            json,
        } => verify(&ctx, common, &trust_keys, &archives, json),
        AuditCommand::Archive { before, output } => archive(&ctx, common, &before, output),
        AuditCommand::Migrate {
            gateway_role,
            auditor_role,
        } => {
            let mut conn = Conn::connect(&ctx.url)
                .with_context(|| format!("cannot open {}", ctx.url.redacted()))?;
            let applied = conn.migrate()?;
            if applied.is_empty() {
                println!("{}: up to date", ctx.url.redacted());
            } else {
                for m in applied {
                    println!("{}: applied {m}", ctx.url.redacted());
                }
            }
            if gateway_role.is_some() || auditor_role.is_some() {
                crate::audit::postgres::grant(
                    &mut conn,
                    gateway_role.as_deref(),
                    auditor_role.as_deref(),
                )?;
                for (what, r) in [
                    ("gateway (INSERT, SELECT)", &gateway_role),
                    ("auditor (SELECT)", &auditor_role),
                ] {
                    if let Some(r) = r {
                        println!("granted {r}: {what}");
                    }
                }
            }
            Ok(0)
        }
    }
}

/// What every audit command needs: the store and the agencies' names.
pub struct Ctx {
    pub url: StoreUrl,
    pub config: Option<Config>,
    pub agencies: HashMap<String, String>,
}

impl Ctx {
    pub fn load(common: &Common) -> anyhow::Result<Ctx> {
        // An auditor may work on a copy of the store without the gateway's configuration.
        let config = if common.config.exists() {
            Some(Config::load(&common.config).map_err(|p| anyhow::anyhow!("{p}"))?)
        } else {
            None
        };
        let url = match &config {
            Some(c) => common.audit_url(c),
            None => common.audit_db.clone().unwrap_or_else(|| {
                common
                    .data_dir
                    .clone()
                    .unwrap_or_else(|| "data".into())
                    .join("audit.db")
                    .display()
                    .to_string()
            }),
        };
        let agencies = config
            .as_ref()
            .map(|c| {
                c.agencies
                    .iter()
                    .map(|a| (a.code.to_string(), a.name.clone()))
                    .collect()
            })
            .unwrap_or_default();
        Ok(Ctx {
            url: StoreUrl::parse(&url),
            config,
            agencies,
        })
    }

    pub fn connect(&self) -> anyhow::Result<Conn> {
        if let StoreUrl::Sqlite(p) = &self.url {
            // Reading must not create an empty store where the auditor mistyped a path.
            anyhow::ensure!(
                std::path::Path::new(p).exists(),
                "no audit store at {p} (use --audit-db or --data-dir)"
            );
        }
        Conn::connect(&self.url).with_context(|| format!("cannot open {}", self.url.redacted()))
    }

    /// `CODE (name)` when the agency is known.
    pub fn agency(&self, code: Option<&str>) -> String {
        match code {
            None => "-".into(),
            Some(c) => match self.agencies.get(c) {
                Some(n) => format!("{c} ({})", short_name(n)),
                None => c.to_string(),
            },
        }
    }
}

/// The name up to its first parenthesis (`Sở Tư pháp (Department of Justice)` -> `Sở Tư pháp`).
fn short_name(n: &str) -> &str {
    n.split(" (").next().unwrap_or(n)
}

fn list(ctx: &Ctx, limit: usize, f: &Filter) -> anyhow::Result<i32> {
    let mut conn = ctx.connect()?;
    let (rows, _) = query::page(&mut conn, f, None, limit)?;
    let header = [
        "time (UTC)",
        "id",
        "consumer",
        "service",
        "operation",
        "outcome",
        "fault",
        "status",
        "ms",
    ];
    let mut table: Vec<Vec<String>> = vec![header.iter().map(|s| s.to_string()).collect()];
    for r in &rows {
        table.push(vec![
            r.received_at.format("%Y-%m-%d %H:%M:%S%.3f").to_string(),
            r.id.clone(),
            ctx.agency(r.consumer.as_deref()),
            r.service.clone().unwrap_or_else(|| "-".into()),
            r.operation.clone().unwrap_or_else(|| "-".into()),
            r.outcome.clone(),
            r.fault_code.clone().unwrap_or_else(|| "-".into()),
            r.http_status.to_string(),
            r.millis().map_or("-".into(), |m| m.to_string()),
        ]);
    }
    print_table(&table);
    if rows.is_empty() {
        println!("(no exchanges match)");
    }
    Ok(0)
}

fn print_table(rows: &[Vec<String>]) {
    let cols = rows.first().map_or(0, Vec::len);
    let widths: Vec<usize> = (0..cols)
        .map(|i| rows.iter().map(|r| r[i].chars().count()).max().unwrap_or(0))
        .collect();
    for r in rows {
        let line: Vec<String> = r
            .iter()
            .zip(&widths)
            .map(|(c, w)| format!("{c}{}", " ".repeat(w - c.chars().count())))
            .collect();
        println!("{}", line.join("  ").trim_end());
    }
}

fn show(ctx: &Ctx, id: &str) -> anyhow::Result<i32> {
    let mut conn = ctx.connect()?;
    let rows = query::by_id(&mut conn, id)?;
    if rows.is_empty() {
        eprintln!("no exchange with id {id}");
        return Ok(1);
    }
    for r in rows {
        print_row(ctx, &r);
    }
    Ok(0)
}

fn print_row(ctx: &Ctx, rec: &Record) {
    let r = &rec.row;
    let t = |v: &Option<chrono::NaiveDateTime>| {
        v.map_or("-".to_string(), |t| {
            t.format("%Y-%m-%d %H:%M:%S%.6f").to_string()
        })
    };
    let o = |v: &Option<String>| v.clone().unwrap_or_else(|| "-".into());
    println!("exchange   {}", r.id);
    println!("node/seq   {} #{}", r.node_id, r.seq);
    println!("received   {}", t(&Some(r.received_at)));
    println!("forwarded  {}", t(&r.forwarded_at));
    println!("answered   {}", t(&r.answered_at));
    println!("remote     {}", r.remote_addr);
    println!("consumer   {}", ctx.agency(r.consumer.as_deref()));
    println!("cert       {}", o(&r.consumer_cert));
    println!("provider   {}", ctx.agency(r.provider.as_deref()));
    println!("service    {} / {}", o(&r.service), o(&r.operation));
    println!("endpoint   {}", o(&r.provider_endpoint));
    println!("soap       {}", o(&r.soap_version));
    println!("outcome    {} (HTTP {})", r.outcome, r.http_status);
    println!("fault      {}", o(&r.fault_code));
    println!("reason     {}", o(&r.fault_reason));
    println!(
        "mapping    request {} / answer {}",
        o(&r.request_mapping),
        o(&r.response_mapping)
    );
    let intact = if crate::audit::chain::is_intact(rec) {
        "hash matches content"
    } else {
        "HASH DOES NOT MATCH CONTENT (run `lienthong audit verify`)"
    };
    println!("chain      {} <- {} ({intact})", r.hash, r.prev_hash);
    for (name, m) in rec.messages() {
        let Some(sha) = m.sha256 else { continue };
        println!();
        println!(
            "--- {name}: {} bytes, sha256 {sha}{}",
            m.size.unwrap_or(0),
            match (m.bytes, m.is_whole()) {
                (None, _) => " (hash only)",
                (Some(_), false) => " (stored truncated)",
                (Some(_), true) => "",
            }
        );
        if let Some(b) = m.bytes {
            println!("{}", crate::audit::pretty::xml(b));
        }
    }
    println!();
}

/// `key_id` (hex SHA-256 of the DER SubjectPublicKeyInfo) of a PEM private key, public key
/// or certificate.
pub fn key_id_of(path: &std::path::Path) -> anyhow::Result<String> {
    use openssl::pkey::PKey;
    use sha2::Digest;
    let pem = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    let der = if let Ok(k) = PKey::private_key_from_pem(&pem) {
        k.public_key_to_der()?
    } else if let Ok(k) = PKey::public_key_from_pem(&pem) {
        k.public_key_to_der()?
    } else if let Ok(c) = openssl::x509::X509::from_pem(&pem) {
        c.public_key()?.public_key_to_der()?
    } else {
        anyhow::bail!("{}: not a PEM key or certificate", path.display());
    };
    Ok(hex::encode(sha2::Sha256::digest(&der)))
}

/// The keys `verify` trusts: those given, else the gateway's own seal key if present.
pub fn trusted_keys(
    ctx: &Ctx,
    common: &Common,
    given: &[std::path::PathBuf],
) -> anyhow::Result<Vec<String>> {
    if !given.is_empty() {
        return given.iter().map(|p| key_id_of(p)).collect();
    }
    let path = match &ctx.config {
        Some(c) => c.audit.seal_key_path(&common.data_dir(c)),
        None => common
            .data_dir
            .clone()
            .unwrap_or_else(|| "data".into())
            .join("audit-seal.key"),
    };
    if path.exists() {
        Ok(vec![key_id_of(&path)?])
    } else {
        Ok(Vec::new())
    }
}

fn verify(
    ctx: &Ctx,
    common: &Common,
    keys: &[std::path::PathBuf],
    archives: &[std::path::PathBuf],
    json: bool,
) -> anyhow::Result<i32> {
    use crate::audit::archive;
    let mut conn = ctx.connect()?;
    let trusted = trusted_keys(ctx, common, keys)?;
    let mut checked = Vec::new();
    for a in archives {
        match archive::check_file(a, &trusted) {
            Ok(c) => {
                for cut in &c.cuts {
                    println!(
                        "archive {}: node {} seq {}..={} ({} records) verified",
                        a.display(),
                        cut.node_id,
                        cut.first_seq,
                        cut.last_seq,
                        cut.count
                    );
                }
                checked.push(c);
            }
            Err(e) => {
                println!("BROKEN: {e}");
                return Ok(1);
            }
        }
    }
    let archived_heads = match archive::heads_from(&checked) {
        Ok(h) => h,
        Err(e) => {
            println!("BROKEN: {e}");
            return Ok(1);
        }
    };
    let opts = crate::audit::verify::Options {
        trusted_keys: trusted,
        archived_heads,
    };
    let report = crate::audit::verify::verify(&mut conn, &opts)?;
    if json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        println!("{}", ctx.url.redacted());
        for n in &report.nodes {
            println!(
                "  node {}: {} record(s) verified{}, {} seal(s), sealed up to seq {}",
                n.node_id,
                n.records,
                match (n.first_seq, n.last_seq) {
                    (Some(a), Some(b)) => format!(" (seq {a}..={b})"),
                    _ => String::new(),
                },
                n.seals,
                n.last_sealed_seq
            );
        }
        for w in &report.warnings {
            println!("  warning: {w}");
        }
        for b in &report.breaks {
            println!("BROKEN: {b}");
        }
        if report.ok() {
            println!("OK: every hash, link and seal verifies");
        }
    }
    Ok(if report.ok() { 0 } else { 1 })
}

fn export(
    ctx: &Ctx,
    format: &str,
    output: Option<&std::path::Path>,
    with_messages: bool,
    f: &Filter,
) -> anyhow::Result<i32> {
    use crate::audit::export::{write_all, Exporter, Format};
    let format = Format::parse(format)
        .ok_or_else(|| anyhow::anyhow!("--format: expected csv or jsonl, not `{format}`"))?;
    anyhow::ensure!(
        !with_messages || format == Format::Jsonl,
        "--with-messages: only with --format jsonl"
    );
    let mut conn = ctx.connect()?;
    let ex = Exporter {
        format,
        agencies: &ctx.agencies,
        with_messages,
    };
    let n = match output {
        Some(p) => {
            let file = std::fs::File::create(p)
                .with_context(|| format!("cannot create {}", p.display()))?;
            let mut w = std::io::BufWriter::new(file);
            write_all(&mut conn, f, &ex, &mut w)?
        }
        None => {
            let stdout = std::io::stdout();
            let mut w = std::io::BufWriter::new(stdout.lock());
            write_all(&mut conn, f, &ex, &mut w)?
        }
    };
    eprintln!("exported {n} record(s)");
    Ok(0)
}

fn serve_api(ctx: &Ctx, listen: Option<std::net::SocketAddr>) -> anyhow::Result<i32> {
    let settings = match &ctx.config {
        Some(c) => crate::web::Settings::from_config(c).map_err(|e| anyhow::anyhow!(e))?,
        None => crate::web::Settings::default(),
    };
    let addr = listen
        .or_else(|| ctx.config.as_ref().and_then(|c| c.audit.api_listen))
        .unwrap_or_else(|| std::net::SocketAddr::from(([127, 0, 0, 1], 8081)));
    let url = match &ctx.url {
        StoreUrl::Sqlite(p) => p.clone(),
        StoreUrl::Postgres(u) => u.clone(),
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    rt.block_on(async move {
        crate::web::start(addr, settings, &url, crate::app::shutdown_signal())
            .await?
            .await?;
        Ok(0)
    })
}

fn archive(
    ctx: &Ctx,
    common: &Common,
    before: &str,
    output: Option<std::path::PathBuf>,
) -> anyhow::Result<i32> {
    let mut f = Filter::default();
    f.set("from", before)
        .map_err(|e| anyhow::anyhow!("--before: {}", e.reason))?;
    let before_t = f.from.expect("set above");
    let data_dir = match &ctx.config {
        Some(c) => common.data_dir(c),
        None => common.data_dir.clone().unwrap_or_else(|| "data".into()),
    };
    let key_path = match &ctx.config {
        Some(c) => c.audit.seal_key_path(&data_dir),
        None => data_dir.join("audit-seal.key"),
    };
    let key = crate::audit::SealKey::load(&key_path)
        .context("the archive is signed with the gateway's seal key")?;
    let file = output.unwrap_or_else(|| {
        data_dir.join("archives").join(format!(
            "audit-before-{}.jsonl",
            before_t.format("%Y-%m-%dT%H%M%S")
        ))
    });
    anyhow::ensure!(!file.exists(), "{} exists already", file.display());
    let mut conn = ctx.connect()?;
    match crate::audit::archive::archive(&mut conn, before_t, &key, &file)? {
        None => println!("nothing received before {before_t} to archive"),
        Some(a) => {
            for c in &a.cuts {
                println!(
                    "node {}: seq {}..={} ({} records) archived",
                    c.node_id, c.first_seq, c.last_seq, c.count
                );
            }
            println!(
                "archive: {} (check with `lienthong audit verify --archive FILE`)",
                a.file.display()
            );
        }
    }
    Ok(0)
}
