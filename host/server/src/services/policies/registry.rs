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

/// A compile refusal as the service's error: each problem located, all rendered (under the
/// file name `rules`: an upload has no file name).
fn rules_error(problems: &arbiter_rules::Diagnostics, source: &str) -> PolicyError {
    PolicyError::InvalidRules {
        rendered: problems.render("rules", source),
        errors: problems.located(source),
    }
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
        if let Some(existing) = self.existing(name, &wasm).await? {
            return Ok(existing);
        }
        let (artifact, wasm) = self.validate(wasm).await?;
        self.store_module(name, &wasm, &artifact, None, actor).await
    }

    /// Compiles a rule file (`policies/RULES.md`) into a module, validates it like any
    /// upload and stores it with its source, which it gives back. The same text under the
    /// same name compiles to the same bytes, so it returns the existing version.
    pub async fn upload_rules(
        &self,
        name: &str,
        source: String,
        actor: &Actor,
    ) -> Result<(Upload, String), PolicyError> {
        check_name(name)?;
        let slot = self.compile_slot()?;
        let options = self.rule_options.clone();
        let (component, source) = tokio::task::spawn_blocking(move || {
            let _slot = slot;
            match arbiter_rules::compile(&source, &options) {
                Ok(compiled) => Ok((compiled.component, source)),
                Err(problems) => Err(rules_error(&problems, &source)),
            }
        })
        .await
        .map_err(|e| PolicyError::Runtime(e.to_string()))??;
        if let Some(existing) = self.existing(name, &component).await? {
            return Ok((existing, source));
        }
        let (artifact, component) = self.validate(component).await?;
        let upload = self
            .store_module(name, &component, &artifact, Some(&source), actor)
            .await?;
        Ok((upload, source))
    }

    /// Runs the runtime's upload validation off the serving threads, under a compile slot;
    /// gives the bytes back with the artifact.
    async fn validate(
        &self,
        wasm: Vec<u8>,
    ) -> Result<(arbiter_runtime::Artifact, Vec<u8>), PolicyError> {
        let slot = self.compile_slot()?;
        let runtime = self.runtime.clone();
        tokio::task::spawn_blocking(move || {
            let _slot = slot;
            runtime.validate(&wasm).map(|artifact| (artifact, wasm))
        })
        .await
        .map_err(|e| PolicyError::Runtime(e.to_string()))?
        .map_err(PolicyError::from)
    }

    /// The version of `name` holding exactly these bytes, if there is one.
    async fn existing(&self, name: &str, wasm: &[u8]) -> Result<Option<Upload>, PolicyError> {
        let sha256 = hex::encode(Sha256::digest(wasm));
        Ok(self
            .store
            .list_module_versions(name)
            .await?
            .into_iter()
            .find(|m| m.sha256 == sha256)
            .map(|module| Upload {
                module,
                created: false,
            }))
    }

    /// Compiling takes tens of milliseconds of CPU (seconds for a large module): off the
    /// serving threads, and only so many at once. The permit moves into the blocking task:
    /// a caller who hangs up does not free a slot while its compilation still runs.
    fn compile_slot(&self) -> Result<tokio::sync::OwnedSemaphorePermit, PolicyError> {
        self.compile_slots
            .clone()
            .try_acquire_owned()
            .map_err(|_| PolicyError::CompilationsBusy {
                limit: self.limits.compilations,
            })
    }

    async fn store_module(
        &self,
        name: &str,
        wasm: &[u8],
        artifact: &arbiter_runtime::Artifact,
        source: Option<&str>,
        actor: &Actor,
    ) -> Result<Upload, PolicyError> {
        let inserted = self
            .store
            .insert_module(
                name,
                &artifact.sha256,
                artifact.size_bytes as i64,
                wasm,
                &artifact.precompiled,
                source,
                actor,
            )
            .await?;
        let (module, created) = match inserted {
            ModuleInsert::Created(m) => (m, true),
            ModuleInsert::Existing(m) => (m, false),
        };
        Ok(Upload { module, created })
    }

    /// One module version with its rule source (`None` for an uploaded module).
    pub async fn module_with_source(
        &self,
        name: &str,
        version: i64,
    ) -> Result<(PolicyModule, Option<String>), PolicyError> {
        let stored =
            self.store
                .get_module(name, version)
                .await?
                .ok_or_else(|| PolicyError::NotFound {
                    what: "policy",
                    id: format!("{name}@{version}"),
                })?;
        Ok((stored.module, stored.source))
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

    /// Up to `limit` set versions below `before`, newest first.
    pub async fn list_sets(
        &self,
        before: Option<i64>,
        limit: u32,
    ) -> Result<Vec<PolicySet>, PolicyError> {
        Ok(self
            .store
            .list_policy_sets(before, i64::from(limit))
            .await?)
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
