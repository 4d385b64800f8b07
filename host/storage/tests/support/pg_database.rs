//! A PostgreSQL database of one test's own, `arbiter_test_<random>`, on the server
//! `DATABASE_URL` names, dropped when the test ends (best effort, even when it panics); no
//! shared table is ever touched. Empty: [`super::backends`] migrates it by connecting a store,
//! the migration tests use it bare.

use sqlx::{Connection, Executor, PgConnection};

/// A database of one test's own on the server `DATABASE_URL` names.
pub struct PgDatabase {
    admin_url: String,
    name: String,
    /// `admin_url` with the database replaced.
    pub url: String,
}

impl PgDatabase {
    pub async fn create(admin_url: &str) -> PgDatabase {
        let mut admin = PgConnection::connect(admin_url)
            .await
            .expect("DATABASE_URL is set but PostgreSQL is unreachable");
        let name = format!("arbiter_test_{:016x}", rand::random::<u64>());
        admin
            .execute(format!("CREATE DATABASE {name}").as_str())
            .await
            .expect("create the test database");
        let _ = admin.close().await;
        let mut url = url::Url::parse(admin_url).expect("DATABASE_URL parses as a URL");
        url.set_path(&name);
        PgDatabase {
            admin_url: admin_url.to_owned(),
            name,
            url: url.into(),
        }
    }
}

impl Drop for PgDatabase {
    /// Drops the database from a thread of its own (a destructor cannot await, and may run
    /// during a panic). `WITH (FORCE)` ends the store's pooled connections.
    fn drop(&mut self) {
        let admin_url = self.admin_url.clone();
        let sql = format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name);
        let dropper = std::thread::spawn(move || {
            let Ok(runtime) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            else {
                return;
            };
            runtime.block_on(async {
                if let Ok(mut admin) = PgConnection::connect(&admin_url).await {
                    let _ = admin.execute(sql.as_str()).await;
                    let _ = admin.close().await;
                }
            });
        });
        let _ = dropper.join();
    }
}
