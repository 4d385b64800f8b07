//! The real `arbiter serve` binary, started on a test's database and read from its log.

use serde_json::Value;
use tokio::sync::oneshot;

use super::db::TestDb;

/// A real `arbiter serve` process started by [`start_arbiter`].
pub struct Arbiter {
    pub child: tokio::process::Child,
    pub base: String,
    /// Everything it printed, one line per log line.
    output: std::sync::Arc<std::sync::Mutex<String>>,
}

impl Arbiter {
    /// The log lines printed so far.
    pub fn output(&self) -> String {
        self.output.lock().expect("output").clone()
    }

    /// Its `/readyz` answer.
    pub async fn readyz(&self) -> Value {
        reqwest::get(format!("{}/readyz", self.base))
            .await
            .expect("readyz")
            .json()
            .await
            .expect("json")
    }

    /// SIGKILL and reap.
    pub async fn kill(mut self) {
        let _ = self.child.start_kill();
        let _ = self.child.wait().await;
    }
}

/// Starts `arbiter serve` on `db` (its data directory, and its PostgreSQL database when it has
/// one) with extra arguments and environment variables, logging JSON at `info` unless `env`
/// sets `RUST_LOG`, and waits until it listens. It passes neither `DATABASE_URL` nor
/// `REDIS_URL` through (CI exports both), so Redis is exactly what `args` say; the
/// environment is how a test sets the transaction core's timers.
pub async fn start_arbiter(db: &TestDb, args: &[&str], env: &[(&str, &str)]) -> Arbiter {
    use tokio::io::AsyncBufReadExt;

    let mut cmd = tokio::process::Command::new(env!("CARGO_BIN_EXE_arbiter"));
    cmd.arg("serve")
        .args(args)
        .args(["--listen", "127.0.0.1:0", "--log-format", "json"])
        .arg("--data-dir")
        .arg(db.data_dir())
        .env_remove("DATABASE_URL")
        .env_remove("REDIS_URL")
        .env("RUST_LOG", "info")
        .envs(env.iter().copied())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true);
    if let Some(url) = &db.database_url {
        cmd.args(["--database-url", url]);
    }
    let mut child = cmd.spawn().expect("spawn arbiter");
    let output = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
    let (addr_tx, addr_rx) = oneshot::channel::<String>();
    let mut addr_tx = Some(addr_tx);
    let stdout = child.stdout.take().expect("stdout");
    let sink = output.clone();
    tokio::spawn(async move {
        let mut lines = tokio::io::BufReader::new(stdout).lines();
        while let Ok(Some(line)) = lines.next_line().await {
            if line.contains("arbiter listening")
                && let Ok(v) = serde_json::from_str::<Value>(&line)
                && let Some(addr) = v["addr"].as_str()
                && let Some(tx) = addr_tx.take()
            {
                let _ = tx.send(addr.to_owned());
            }
            let mut out = sink.lock().expect("output");
            out.push_str(&line);
            out.push('\n');
        }
    });
    let stderr = child.stderr.take().expect("stderr");
    let sink = output.clone();
    tokio::spawn(async move {
        let mut lines = tokio::io::BufReader::new(stderr).lines();
        while let Ok(Some(line)) = lines.next_line().await {
            let mut out = sink.lock().expect("output");
            out.push_str(&line);
            out.push('\n');
        }
    });
    let addr = addr_rx.await.unwrap_or_else(|_| {
        panic!(
            "arbiter exited before listening: {}",
            output.lock().expect("output")
        )
    });
    Arbiter {
        child,
        base: format!("http://{addr}"),
        output,
    }
}
