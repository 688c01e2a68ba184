//! The loaded gateway: configuration, the catalogue of services (contracts, schemas,
//! mappings), the security engine, the forwarder and the audit log.
//!
//! The catalogue can be swapped whole (reload on SIGHUP): an exchange keeps the `Arc` of
//! the service it started with, so a reload never changes a message mid-flight.

use std::collections::BTreeMap;
use std::sync::{Arc, RwLock};

use crate::audit::AuditLog;
use crate::config::{Config, ServiceConfig};
use crate::mapping::Mapped;
use crate::mapping::{Mapping, MappingError};
use crate::net::forward::Forwarder;
use crate::problem::{Problem, Problems};
use crate::schema::{Direction, SchemaSet, ValidationError};
use crate::wsdl::{Catalog, Contract, Operation};
use crate::wssec::Engine;

/// One published service.
pub struct Service {
    pub config: ServiceConfig,
    pub contract: Contract,
    /// The contract's XSDs and inline `wsdl:types` schemas, compiled once at load and
    /// shared by every thread. `None` when the contract has no schema.
    pub schemas: Option<SchemaSet>,
    /// Checked mappings bound to `(operation, direction)`.
    pub mappings: Vec<(String, Direction, Arc<Mapping>)>,
}

impl Service {
    /// A service without schemas or mappings (validation passes, mapping is identity).
    pub fn new(config: ServiceConfig, contract: Contract) -> Self {
        Self {
            config,
            contract,
            schemas: None,
            mappings: Vec::new(),
        }
    }

    /// Compiles the contract's schemas and loads the mappings bound to its operations;
    /// every problem is reported (`config_path` names the file the bindings are in). The
    /// catalog was applied when the contract loaded: the schemas compile from the
    /// contract's documents, every location already resolved.
    pub fn load(
        config_path: &std::path::Path,
        config: ServiceConfig,
        contract: Contract,
        _catalog: &Catalog,
    ) -> Result<Service, Problems> {
        let mut problems = Vec::new();
        let mut service = Service::new(config, contract);
        match contract_schemas(&service.contract) {
            Ok(set) => service.schemas = set,
            Err(Problems(p)) => problems.extend(p),
        }
        match bind_mappings(config_path, &service.config, &service.contract) {
            Ok(m) => service.mappings = m,
            Err(Problems(p)) => problems.extend(p),
        }
        if problems.is_empty() {
            Ok(service)
        } else {
            Err(Problems(problems))
        }
    }

    /// The mapping bound to an operation and direction, if any.
    pub fn mapping(&self, operation: &str, direction: Direction) -> Option<&Arc<Mapping>> {
        self.mappings
            .iter()
            .find(|(o, d, _)| o == operation && *d == direction)
            .map(|(_, _, m)| m)
    }

    /// Validates a payload against the operation's message schema. Where a mapping is
    /// bound, the payload is in the mapping's source schema (the consumer's request, the
    /// provider's answer) and is validated against that; the mapping validates its own
    /// output against its target schema.
    pub fn validate(
        &self,
        op: &Operation,
        direction: Direction,
        payload: &[u8],
    ) -> Result<(), ValidationError> {
        self.validate_at(op, direction, payload, 1)
    }

    /// As [`validate`](Self::validate), for a payload whose first line is line
    /// `first_line` of the message as sent, so that violations name the sender's lines.
    pub fn validate_at(
        &self,
        op: &Operation,
        direction: Direction,
        payload: &[u8],
        first_line: usize,
    ) -> Result<(), ValidationError> {
        let result = match self.mapping(&op.name, direction) {
            Some(m) => m
                .source
                .schemas
                .validate_at(payload, Some(&m.source.root), first_line),
            // rpc/literal wrappers are declared by the set's generated wrapper schemas
            // (schema::rpc), so both styles validate alike.
            None => match &self.schemas {
                Some(set) => {
                    let root = match direction {
                        Direction::Request => Some(&op.request_root),
                        Direction::Response => op.response_root.as_ref(),
                    };
                    set.validate_at(payload, root, first_line)
                }
                None => Ok(()),
            },
        };
        result.map_err(|violations| ValidationError::Invalid {
            direction,
            violations,
        })
    }

    /// Applies the mapping bound to the operation and direction, if any.
    pub fn map(
        &self,
        op: &Operation,
        direction: Direction,
        payload: Vec<u8>,
    ) -> Result<Mapped, MappingError> {
        match self.mapping(&op.name, direction) {
            Some(m) => Ok(Mapped {
                payload: m.apply(&payload, direction)?,
                mapping: Some(m.label()),
            }),
            None => Ok(Mapped {
                payload,
                mapping: None,
            }),
        }
    }
}

/// All services, by name.
#[derive(Default)]
pub struct Catalogue {
    pub services: BTreeMap<String, Arc<Service>>,
}

impl Catalogue {
    /// Loads every service's contract (and schemas, mappings); all problems are reported.
    pub fn load(config: &Config) -> Result<Catalogue, Problems> {
        let mut problems = Vec::new();
        let catalog = match &config.gateway.catalog {
            Some(path) => match Catalog::load(path) {
                Ok(c) => c,
                Err(Problems(p)) => {
                    problems.extend(p);
                    Catalog::default()
                }
            },
            None => Catalog::default(),
        };
        let mut services = BTreeMap::new();
        for sc in &config.services {
            match crate::wsdl::load(&sc.wsdl, &catalog) {
                Ok(contract) => match Service::load(&config.path, sc.clone(), contract, &catalog) {
                    Ok(service) => {
                        services.insert(sc.name.to_string(), Arc::new(service));
                    }
                    Err(Problems(p)) => problems.extend(p),
                },
                Err(Problems(p)) => problems.extend(p),
            }
        }
        if problems.is_empty() {
            Ok(Catalogue { services })
        } else {
            Err(Problems(problems))
        }
    }
}

/// Compiles the XSDs and inline schemas a contract is made of.
fn contract_schemas(contract: &Contract) -> Result<Option<SchemaSet>, Problems> {
    let set = SchemaSet::compile_contract(contract)?;
    Ok((!set.is_empty()).then_some(set))
}

/// Loads and checks each mapping bound to the service, and that it fits the operation:
/// a request mapping reads the operation's request element, a response mapping writes its
/// answer element. A mapping that fails any check is refused with its reasons.
fn bind_mappings(
    config_path: &std::path::Path,
    sc: &ServiceConfig,
    contract: &Contract,
) -> Result<Vec<(String, Direction, Arc<Mapping>)>, Problems> {
    let mut out = Vec::new();
    let mut problems = Vec::new();
    for b in &sc.mappings {
        let Some(op) = contract.operations.iter().find(|o| o.name == b.operation) else {
            problems.push(Problem::file(
                config_path,
                format!(
                    "service {}: mapping bound to unknown operation `{}`",
                    sc.name, b.operation
                ),
            ));
            continue;
        };
        for (direction, file) in [
            (Direction::Request, &b.request),
            (Direction::Response, &b.response),
        ] {
            let Some(file) = file else { continue };
            let m = match Mapping::load(file) {
                Ok(m) => m,
                Err(Problems(p)) => {
                    problems.extend(p);
                    continue;
                }
            };
            let (want, got, side) = match direction {
                Direction::Request => (Some(&op.request_root), &m.source.root, "reads"),
                Direction::Response => (op.response_root.as_ref(), &m.target.root, "writes"),
            };
            if want != Some(got) {
                problems.push(Problem::file(
                    file,
                    format!(
                        "bound to {} {} ({direction:?}): the mapping {side} {got} but the operation's {} element is {}",
                        sc.name,
                        op.name,
                        if direction == Direction::Request { "request" } else { "answer" },
                        want.map(|q| q.to_string()).unwrap_or_else(|| "none".into())
                    ),
                ));
                continue;
            }
            out.push((op.name.clone(), direction, Arc::new(m)));
        }
    }
    if problems.is_empty() {
        Ok(out)
    } else {
        Err(Problems(problems))
    }
}

pub struct Gateway {
    pub config: Config,
    catalogue: RwLock<Arc<Catalogue>>,
    pub security: Arc<Engine>,
    pub forwarder: Forwarder,
    pub audit: AuditLog,
}

impl Gateway {
    pub fn new(
        config: Config,
        catalogue: Catalogue,
        security: Engine,
        forwarder: Forwarder,
        audit: AuditLog,
    ) -> Self {
        Self {
            config,
            catalogue: RwLock::new(Arc::new(catalogue)),
            security: Arc::new(security),
            forwarder,
            audit,
        }
    }

    pub fn catalogue(&self) -> Arc<Catalogue> {
        self.catalogue.read().expect("catalogue lock").clone()
    }

    pub fn service(&self, name: &str) -> Option<Arc<Service>> {
        self.catalogue().services.get(name).cloned()
    }

    /// Swaps in a new catalogue atomically; in-flight exchanges keep the old one.
    pub fn replace_catalogue(&self, next: Catalogue) {
        *self.catalogue.write().expect("catalogue lock") = Arc::new(next);
    }

    /// `http://host:port/services/NAME`, as published in WSDLs.
    pub fn service_url(&self, name: &str) -> String {
        format!("{}/services/{}", self.config.public_url(), name)
    }
}
