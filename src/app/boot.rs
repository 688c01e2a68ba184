//! The one way a [`Gateway`] is built: each layer loaded in turn, every failure kept, and
//! the gateway returned only when none failed.

use crate::audit::{AuditLog, SealKey};
use crate::config::Config;
use crate::net::forward::{Forwarder, ProviderTls};
use crate::problem::{Problem, Problems};
use crate::registry::{Catalogue, Gateway};
use crate::wssec::Engine;

use super::Paths;

/// The problems found so far; each layer's load adds its own and the next still runs.
#[derive(Default)]
pub(super) struct Found(pub(super) Vec<Problem>);

impl Found {
    /// The value, or `None` with its problems kept.
    pub(super) fn keep<T>(&mut self, loaded: Result<T, Problems>) -> Option<T> {
        loaded.map_err(|Problems(p)| self.0.extend(p)).ok()
    }

    /// As [`Found::keep`], for a layer that reports one problem.
    pub(super) fn keep_one<T>(&mut self, loaded: Result<T, Problem>) -> Option<T> {
        loaded.map_err(|p| self.0.push(p)).ok()
    }
}

/// Every service's contract, schemas and mappings: what start-up and reload both load.
pub fn catalogue(config: &Config) -> Result<Catalogue, Problems> {
    Catalogue::load(config)
}

/// The forwarder with the provider TLS files (`[gateway] provider_ca`,
/// `provider_client_cert/key`) loaded.
pub(super) fn forwarder(config: &Config) -> Result<Forwarder, Problem> {
    Forwarder::new(
        config.limits.max_response_bytes,
        &ProviderTls::from_config(&config.gateway),
    )
    .map_err(|e| Problem::file(&config.path, format!("[gateway] provider TLS: {e}")))
}

/// The audit store, with its seal key loaded (or generated on first start: the key path
/// is logged, since `audit verify` needs the same key later).
fn audit(paths: &Paths, config: &Config) -> Result<AuditLog, Problem> {
    let key_path = config.audit.seal_key_path(&paths.data_dir(config));
    let (seal_key, generated) = SealKey::load_or_generate(&key_path)
        .map_err(|e| Problem::file(&key_path, e.to_string()))?;
    if generated {
        log::warn!(
            "generated a new audit seal key at {} (keep it; `audit verify` checks seals against it)",
            key_path.display()
        );
    }
    let url = paths.audit_url(config);
    AuditLog::open(&url, &config.gateway.node_id, &config.audit, seal_key).map_err(|e| {
        Problem::file(
            &config.path,
            format!("cannot open the audit store {url}: {e}"),
        )
    })
}

/// The security engine of the node that serves: keys, trust anchors, and the replay
/// horizon kept in the data directory.
fn security(paths: &Paths, config: &Config) -> Result<Engine, Problems> {
    let data_dir = paths.data_dir(config);
    let mut engine = Engine::load(config, &data_dir)?;
    engine.guard_restarts(&data_dir).map_err(|e| {
        Problems(vec![Problem::file(
            &data_dir,
            format!("replay horizon: {e}"),
        )])
    })?;
    Ok(engine)
}

/// Builds the gateway `serve` and `demo` run. Every layer is loaded even after one has
/// failed, so the operator sees all that is wrong in one go.
pub fn build(paths: &Paths, config: Config) -> Result<Gateway, Problems> {
    let data_dir = paths.data_dir(&config);
    if let Err(e) = std::fs::create_dir_all(&data_dir) {
        return Err(Problems(vec![Problem::file(
            &data_dir,
            format!("cannot create the data directory: {e}"),
        )]));
    }
    let mut found = Found::default();
    let catalogue = found.keep(catalogue(&config));
    let security = found.keep(security(paths, &config));
    let forwarder = found.keep_one(forwarder(&config));
    let audit = found.keep_one(audit(paths, &config));
    match (catalogue, security, forwarder, audit) {
        (Some(c), Some(s), Some(f), Some(a)) if found.0.is_empty() => {
            Ok(Gateway::new(config, c, s, f, a))
        }
        _ => Err(Problems(found.0)),
    }
}
