//! Uploading modules and creating policy sets.

use std::collections::HashSet;

use sha2::{Digest, Sha256};

use arbiter_engine::audit::Actor;
use arbiter_engine::policy_set::{ModuleRef, PolicySet, Thresholds, Weights};
use arbiter_engine::registry::PolicyModule;
use arbiter_engine::store::ModuleInsert;

use super::PolicyService;
use super::error::{PolicyError, invalid};

/// The result of an upload: the module and whether this call created it.
pub struct Upload {
    pub module: PolicyModule,
    pub created: bool,
}

/// A policy set as a caller asks for it.
pub struct NewPolicySet {
    pub policies: Vec<ModuleRef>,
    pub thresholds: Thresholds,
    pub weights: Option<Weights>,
}

/// Module names: 1 to 64 of `a-z 0-9 _ -`, starting with a letter.
fn check_name(name: &str) -> Result<(), PolicyError> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name.starts_with(|c: char| c.is_ascii_lowercase())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-');
    if ok {
        Ok(())
    } else {
        Err(invalid(
            "name",
            format!("`{name}` must be 1 to 64 of a-z, 0-9, `_`, `-`, starting with a letter"),
        ))
    }
}

impl PolicyService {
    /// Validates (compile, ABI, limits, purity on sample contexts) and stores a module.
    /// Identical bytes under the same name return the existing version without compiling.
    pub async fn upload(
        &self,
        name: &str,
        wasm: Vec<u8>,
        actor: &Actor,
    ) -> Result<Upload, PolicyError> {
        check_name(name)?;
        let sha256 = hex::encode(Sha256::digest(&wasm));
        if let Some(existing) = self
            .store
            .list_module_versions(name)
            .await?
            .into_iter()
            .find(|m| m.sha256 == sha256)
        {
            return Ok(Upload {
                module: existing,
                created: false,
            });
        }
        // Compiling takes tens of milliseconds of CPU (seconds for a large module): off the
        // serving threads, and only so many at once. The permit moves into the blocking task:
        // a caller who hangs up does not free a slot while its compilation still runs.
        let slot = self
            .compile_slots
            .clone()
            .try_acquire_owned()
            .map_err(|_| PolicyError::CompilationsBusy {
                limit: self.limits.compilations,
            })?;
        let runtime = self.runtime.clone();
        let (artifact, wasm) = tokio::task::spawn_blocking(move || {
            let _slot = slot;
            runtime.validate(&wasm).map(|a| (a, wasm))
        })
        .await
        .map_err(|e| PolicyError::Runtime(e.to_string()))??;
        let inserted = self
            .store
            .insert_module(
                name,
                &artifact.sha256,
                artifact.size_bytes as i64,
                &wasm,
                &artifact.precompiled,
                actor,
            )
            .await?;
        let (module, created) = match inserted {
            ModuleInsert::Created(m) => (m, true),
            ModuleInsert::Existing(m) => (m, false),
        };
        Ok(Upload { module, created })
    }

    pub async fn modules(&self) -> Result<Vec<PolicyModule>, PolicyError> {
        Ok(self.store.list_modules().await?)
    }

    pub async fn module_versions(&self, name: &str) -> Result<Vec<PolicyModule>, PolicyError> {
        let versions = self.store.list_module_versions(name).await?;
        if versions.is_empty() {
            return Err(PolicyError::NotFound {
                what: "policy",
                id: name.to_owned(),
            });
        }
        Ok(versions)
    }

    /// Stores a new set version after checking every module exists and loads.
    pub async fn create_set(
        &self,
        new: NewPolicySet,
        actor: &Actor,
    ) -> Result<PolicySet, PolicyError> {
        new.thresholds
            .validate()
            .map_err(|m| invalid("thresholds", m))?;
        let most = self.limits.set_modules as usize;
        if new.policies.len() > most {
            return Err(invalid(
                &format!("policies[{most}]"),
                format!(
                    "a policy set names at most {most} modules; this one names {}",
                    new.policies.len()
                ),
            ));
        }
        let mut seen = HashSet::new();
        for (i, r) in new.policies.iter().enumerate() {
            if !seen.insert(&r.name) {
                return Err(invalid(
                    &format!("policies[{i}].name"),
                    format!("`{}` is listed twice", r.name),
                ));
            }
            if self.store.get_module(&r.name, r.version).await?.is_none() {
                return Err(invalid(
                    &format!("policies[{i}]"),
                    format!("module `{}@{}` does not exist", r.name, r.version),
                ));
            }
        }
        let set = self
            .store
            .insert_policy_set(
                new.thresholds,
                new.weights.unwrap_or_default(),
                &new.policies,
                actor,
            )
            .await?;
        Ok(set)
    }

    pub async fn get_set(&self, version: i64) -> Result<PolicySet, PolicyError> {
        self.set_by_version(version).await
    }

    pub(super) async fn set_by_version(&self, version: i64) -> Result<PolicySet, PolicyError> {
        self.store
            .get_policy_set(version)
            .await?
            .ok_or_else(|| PolicyError::NotFound {
                what: "policy set",
                id: version.to_string(),
            })
    }
}
