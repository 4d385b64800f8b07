//! What the storage test binaries share, one purpose a file: the backends every story runs
//! against ([`backends`], PostgreSQL databases of a test's own in [`pg_database`]), builders for
//! the values the risk-side stories store ([`fixtures`], [`registry`]) and for the transaction
//! core's ([`catalogue`], [`statements`]), a scripted risk host ([`risk`]), a clock the test moves
//! ([`clock`]) and the upgrade of an older release's database ([`upgrade`]). Each binary uses
//! a part of it.

#![allow(
    dead_code,
    reason = "each test binary uses a different part of the support module"
)]

pub mod backends;
pub mod catalogue;
pub mod clock;
pub mod fixtures;
pub mod pg_database;
pub mod registry;
pub mod risk;
pub mod statements;
#[macro_use]
pub mod upgrade;

/// Declares a test that runs the story `stories::$story` against every backend, naming the
/// backend when it fails. The story takes the store as the side it tells of does:
/// `Arc<dyn Store>` (the risk host) or `Arc<dyn TransactionStore>` (the transaction core).
/// Needs `#[macro_use] mod support;`.
#[allow(unused_macros, reason = "only some test binaries use it")]
macro_rules! on_every_backend {
    ($story:ident) => {
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn $story() {
            for db in support::backends::backends().await {
                eprintln!("{}: {}", stringify!($story), db.name);
                stories::$story(db.view()).await;
            }
        }
    };
}
