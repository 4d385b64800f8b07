//! The backends a test runs against — SQLite always, PostgreSQL when `DATABASE_URL` is set —
//! and a fresh database of one test's own on each.

use std::path::PathBuf;

use sqlx::Connection;

/// A storage backend a test runs against.
#[derive(Debug, Clone)]
pub enum Backend {
    Sqlite,
    Postgres { admin_url: String },
}

/// SQLite always; PostgreSQL when `DATABASE_URL` is set.
pub fn backends() -> Vec<Backend> {
    let mut out = vec![Backend::Sqlite];
    if let Ok(url) = std::env::var("DATABASE_URL") {
        out.push(Backend::Postgres { admin_url: url });
    }
    out
}

/// A fresh, empty database of this backend (its own PostgreSQL database), and the data
/// directory a server started on it writes its admin key and secrets to.
pub struct TestDb {
    pub dir: tempfile::TempDir,
    pub database_url: Option<String>,
    pg: Option<(String, String)>,
}

impl TestDb {
    pub async fn new(backend: &Backend) -> TestDb {
        let dir = tempfile::tempdir().expect("temp dir");
        match backend {
            Backend::Sqlite => TestDb {
                dir,
                database_url: None,
                pg: None,
            },
            Backend::Postgres { admin_url } => {
                let name = format!("arbiter_e2e_{}", uuid::Uuid::now_v7().simple());
                let mut conn = sqlx::PgConnection::connect(admin_url)
                    .await
                    .expect("DATABASE_URL is set but PostgreSQL is unreachable");
                sqlx::query(&format!("CREATE DATABASE {name}"))
                    .execute(&mut conn)
                    .await
                    .expect("create test database");
                let url = with_database(admin_url, &name);
                TestDb {
                    dir,
                    database_url: Some(url),
                    pg: Some((admin_url.clone(), name)),
                }
            }
        }
    }

    pub fn data_dir(&self) -> PathBuf {
        self.dir.path().to_path_buf()
    }

    /// The admin key the first start of a server on this database wrote to its data directory.
    pub fn admin_key(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("admin.key"))
            .expect("admin.key written on first start")
            .trim()
            .to_owned()
    }

    /// Runs `sql` (one or more statements) on the database, beside any server on it.
    pub async fn execute(&self, sql: &str) {
        match &self.database_url {
            Some(url) => {
                let mut conn = sqlx::PgConnection::connect(url).await.expect("connect");
                sqlx::raw_sql(sql).execute(&mut conn).await.expect(sql);
            }
            None => {
                let path = self.data_dir().join("arbiter.db");
                let options = sqlx::sqlite::SqliteConnectOptions::new().filename(path);
                let mut conn = sqlx::SqliteConnection::connect_with(&options)
                    .await
                    .expect("open");
                sqlx::raw_sql(sql).execute(&mut conn).await.expect(sql);
            }
        }
    }

    /// Drops the PostgreSQL database (best effort).
    pub async fn drop_db(self) {
        if let Some((admin, name)) = &self.pg
            && let Ok(mut conn) = sqlx::PgConnection::connect(admin).await
        {
            let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                .execute(&mut conn)
                .await;
        }
    }
}

/// `admin_url` with its database name replaced.
fn with_database(admin_url: &str, name: &str) -> String {
    let (base, query) = match admin_url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (admin_url, None),
    };
    let authority_end = base
        .find("://")
        .map(|i| i + 3)
        .and_then(|start| base[start..].find('/').map(|j| start + j))
        .unwrap_or(base.len());
    let mut url = format!("{}/{name}", &base[..authority_end]);
    if let Some(q) = query {
        url.push('?');
        url.push_str(q);
    }
    url
}
