//! The exchange-rate table the pipeline converts amounts with: setting a new version and
//! keeping the in-memory table every decision reads current (here and, through the change
//! signal, on every replica).

use std::sync::Arc;

use arc_swap::ArcSwap;
use thiserror::Error;

use arbiter_engine::RequestError;
use arbiter_engine::audit::Actor;
use arbiter_engine::money::reporting::StoredRateTable;
use arbiter_engine::money::{RateTable, RateTableWire};
use arbiter_engine::store::{Store, StoreError};
use arbiter_redis::ChangeKind;

use crate::services::replication::ChangeSignal;

#[derive(Debug, Error)]
pub enum RateError {
    #[error(transparent)]
    Invalid(#[from] RequestError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What [`RateService::set`] did.
pub struct SetRates {
    pub table: StoredRateTable,
    /// `false` when the table in force was already exactly this one and nothing changed.
    pub created: bool,
}

pub struct RateService {
    store: Arc<dyn Store>,
    current: Arc<ArcSwap<RateTable>>,
    pub changes: ChangeSignal,
}

impl RateService {
    /// A service whose table is the identity table of the default reporting currency until
    /// [`reload`](Self::reload) reads the stored one.
    pub fn new(store: Arc<dyn Store>) -> RateService {
        RateService {
            store,
            current: Arc::new(ArcSwap::from_pointee(RateTable::default())),
            changes: ChangeSignal::default(),
        }
    }

    /// The slot the pipeline reads.
    pub fn slot(&self) -> Arc<ArcSwap<RateTable>> {
        self.current.clone()
    }

    /// Loads the newest stored table; returns the version in force (0: none was ever set).
    pub async fn reload(&self) -> Result<i64, RateError> {
        let table = match self.store.current_rate_table().await? {
            Some(stored) => stored.rates()?,
            None => RateTable::default(),
        };
        Ok(self.install(table))
    }

    /// Puts `table` in force unless a newer version already is; returns the version in force.
    /// Versions only grow, so of two changes (or a change and a reload) finishing in either
    /// order, the newest table wins: a slower one never puts an older table back.
    fn install(&self, table: RateTable) -> i64 {
        let table = Arc::new(table);
        let previous = self.current.rcu(|current| {
            if table.version >= current.version {
                table.clone()
            } else {
                current.clone()
            }
        });
        previous.version.max(table.version)
    }

    /// The newest stored table, as a caller wrote it, with its version, time and author;
    /// `None` when none was ever set (then [`in_force`](Self::in_force) is the default).
    pub async fn current(&self) -> Result<Option<StoredRateTable>, RateError> {
        Ok(self.store.current_rate_table().await?)
    }

    /// The table in force as the pipeline holds it.
    pub fn in_force(&self) -> Arc<RateTable> {
        self.current.load_full()
    }

    /// Checks and stores `wire` as the next version and puts it in force; the same table as
    /// the one in force changes nothing.
    pub async fn set(&self, wire: RateTableWire, actor: &Actor) -> Result<SetRates, RateError> {
        let checked = RateTable::parse(&wire, 0)?;
        // Stored tables are written in their checked form, so they compare as written.
        if let Some(current) = self.store.current_rate_table().await?
            && current.table == checked.to_wire()
        {
            return Ok(SetRates {
                table: current,
                created: false,
            });
        }
        let stored = self
            .store
            .insert_rate_table(&checked.to_wire(), actor)
            .await?;
        self.install(stored.rates()?);
        self.changes.fire(ChangeKind::Rates);
        Ok(SetRates {
            table: stored,
            created: true,
        })
    }
}
