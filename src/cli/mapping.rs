//! `lienthong mapping check|apply|test`: what an integrator runs offline before binding a
//! mapping to a service — the load checks with a coverage report, one document mapped
//! and validated, and the golden pairs kept beside each mapping.

use std::path::{Path, PathBuf};

use clap::Subcommand;

use crate::cli::Common;
use crate::config::Config;
use crate::mapping::{golden, Mapping};

#[derive(Debug, Subcommand)]
pub enum MappingCommand {
    /// Load and check mappings against their schemas; print a coverage report.
    /// Without FILEs: every mapping bound in the configuration and every
    /// `mappings/*/mapping.toml` beside it.
    Check { files: Vec<PathBuf> },
    /// Map one document (after validating it against the source schema), validate the
    /// result against the target schema and print it.
    Apply {
        #[arg(long)]
        mapping: PathBuf,
        input: PathBuf,
    },
    /// Run the golden pairs `tests/CASE/{input.xml, expected.xml | expected-error.txt}`
    /// beside each mapping.
    Test { files: Vec<PathBuf> },
}

pub fn run(common: &Common, cmd: MappingCommand) -> anyhow::Result<i32> {
    match cmd {
        MappingCommand::Check { files } => check(&targets(common, files)),
        MappingCommand::Apply { mapping, input } => apply(&mapping, &input),
        MappingCommand::Test { files } => test(&targets(common, files)),
    }
}

/// The files named, or those the configuration binds plus `mappings/*/mapping.toml`.
fn targets(common: &Common, files: Vec<PathBuf>) -> Vec<PathBuf> {
    if !files.is_empty() {
        return files;
    }
    let mut out = Vec::new();
    let base = match Config::load(&common.config) {
        Ok(c) => {
            for s in &c.services {
                for b in &s.mappings {
                    out.extend(b.request.iter().chain(b.response.iter()).cloned());
                }
            }
            c.base_dir.clone()
        }
        Err(_) => common
            .config
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_else(|| PathBuf::from("conf")),
    };
    let mut found: Vec<PathBuf> = std::fs::read_dir(base.join("mappings"))
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path().join("mapping.toml"))
        .filter(|p| p.is_file())
        .collect();
    found.sort();
    for f in found {
        let canon = |p: &Path| std::fs::canonicalize(p).unwrap_or_else(|_| p.to_path_buf());
        if !out.iter().any(|o| canon(o) == canon(&f)) {
            out.push(f);
        }
    }
    out
}

fn check(files: &[PathBuf]) -> anyhow::Result<i32> {
    if files.is_empty() {
        eprintln!("no mapping files found");
        return Ok(1);
    }
    let mut failed = 0;
    for f in files {
        match Mapping::load(f) {
            Err(problems) => {
                failed += 1;
                eprintln!("{problems}");
            }
            Ok(m) => {
                println!("{}: ok, mapping {}", f.display(), m.label());
                println!("  {} -> {}", m.source.root, m.target.root);
                if m.is_xslt() {
                    println!("  XSLT stylesheet compiled; coverage is not computed for XSLT, run `lienthong mapping test`");
                    continue;
                }
                let c = &m.coverage;
                if !c.produced.is_empty() {
                    println!("  target produced ({}):", c.produced.len());
                    for p in &c.produced {
                        println!("    {p}");
                    }
                }
                println!("  required target missing: {}", c.required_missing.len());
                for p in &c.required_missing {
                    println!("    {p}");
                }
                println!("  source unused ({}):", c.unused_source.len());
                for p in &c.unused_source {
                    println!("    {p}");
                }
            }
        }
    }
    if failed > 0 {
        eprintln!("{failed} mapping(s) refused");
        Ok(1)
    } else {
        Ok(0)
    }
}

fn apply(mapping: &Path, input: &Path) -> anyhow::Result<i32> {
    let m = match Mapping::load(mapping) {
        Ok(m) => m,
        Err(p) => {
            eprintln!("{p}");
            return Ok(1);
        }
    };
    let bytes = std::fs::read(input)
        .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", input.display()))?;
    match golden::map_validated(&m, &bytes) {
        Ok(out) => {
            println!("{}", String::from_utf8_lossy(&out));
            eprintln!("valid against {} ({})", m.target.root, m.label());
            Ok(0)
        }
        Err(e) => {
            eprintln!("{}: {e}", input.display());
            Ok(1)
        }
    }
}

fn test(files: &[PathBuf]) -> anyhow::Result<i32> {
    let (mut passed, mut failed) = (0, 0);
    for f in files {
        let m = match Mapping::load(f) {
            Ok(m) => m,
            Err(p) => {
                eprintln!("{p}");
                failed += 1;
                continue;
            }
        };
        let results = golden::run(&m);
        if results.is_empty() {
            println!("{}: no golden cases (tests/CASE/input.xml)", m.label());
        }
        for r in results {
            match r.outcome {
                Ok(()) => {
                    passed += 1;
                    println!("ok     {} {}", m.name, r.name);
                }
                Err(e) => {
                    failed += 1;
                    println!("FAILED {} {}: {e}", m.name, r.name);
                }
            }
        }
    }
    println!("{passed} passed, {failed} failed");
    Ok(if failed == 0 { 0 } else { 1 })
}
