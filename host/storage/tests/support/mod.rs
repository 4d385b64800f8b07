//! What the storage test binaries share: the backends every story runs against, and builders
//! for the values they store. Each binary uses a part of it.

#![allow(
    dead_code,
    reason = "each test binary uses a different part of the support module"
)]

pub mod backends;
pub mod fixtures;
pub mod registry;

/// Declares a test that runs the story `stories::$story(Arc<dyn Store>)` against every backend,
/// naming the backend when it fails. Needs `#[macro_use] mod support;`.
#[allow(unused_macros, reason = "only some test binaries use it")]
macro_rules! on_every_backend {
    ($story:ident) => {
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn $story() {
            for db in support::backends::backends().await {
                eprintln!("{}: {}", stringify!($story), db.name);
                stories::$story(std::sync::Arc::clone(&db.store)).await;
            }
        }
    };
}
