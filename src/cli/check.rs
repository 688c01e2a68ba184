//! `lienthong check`: everything start-up would load, checked without serving; each
//! problem printed as `file:line: reason`, exit status 1 if there is any.

use crate::cli::Common;
use crate::config::Config;
use crate::registry::Catalogue;

pub fn run(common: &Common) -> anyhow::Result<i32> {
    let config = match Config::load(&common.config) {
        Ok(c) => c,
        Err(problems) => {
            eprintln!("{problems}");
            return Ok(1);
        }
    };
    let mut problems: Vec<String> = Vec::new();

    // The provider TLS files ([gateway] provider_ca, provider_client_cert/key) must load
    // as `serve` will load them.
    if let Err(e) = crate::pipeline::forward::Forwarder::new(
        config.limits.max_response_bytes,
        &crate::pipeline::forward::ProviderTls::from_config(&config.gateway),
    ) {
        problems.push(format!(
            "{}: [gateway] provider TLS: {e}",
            common.config.display()
        ));
    }

    // The auditors' credentials and the auditor listener's TLS files, as `serve` loads them.
    if let Err(e) = crate::web::Settings::from_config(&config) {
        problems.push(format!("{}: {e}", common.config.display()));
    }

    // The gateway's key, certificate and trust anchors, once there are any to load.
    let data_dir = common.data_dir(&config);
    if config.security.key.is_some() || crate::wssec::default_key(&data_dir).exists() {
        if let Err(p) = crate::wssec::Engine::load(&config, &data_dir) {
            problems.extend(p.0.iter().map(|p| p.to_string()));
        }
    } else {
        println!(
            "note: no gateway key yet in {}: run `lienthong pki init` (development) or set [security] key",
            data_dir.display()
        );
    }

    match Catalogue::load(&config) {
        Ok(cat) if problems.is_empty() => {
            // Warnings do not fail the check: the contract loads, but may not dispatch as
            // its author expects.
            for w in cat.services.values().flat_map(|s| &s.contract.warnings) {
                match w.line {
                    Some(l) => eprintln!("{}:{l}: warning: {}", w.file.display(), w.reason),
                    None => eprintln!("{}: warning: {}", w.file.display(), w.reason),
                }
            }
            let ops: usize = cat
                .services
                .values()
                .map(|s| s.contract.operations.len())
                .sum();
            println!(
                "{}: ok ({} agencies, {} services, {} operations)",
                common.config.display(),
                config.agencies.len(),
                cat.services.len(),
                ops
            );
            return Ok(0);
        }
        Ok(_) => {}
        Err(p) => problems.extend(p.0.iter().map(|p| p.to_string())),
    }
    for p in &problems {
        eprintln!("{p}");
    }
    eprintln!("{} problem(s) found", problems.len());
    Ok(1)
}
