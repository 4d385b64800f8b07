//! NATS for the outbox relay's tests: the machine's server at `NATS_URL` (CI sets it; a test
//! that needs it fails loudly without it), or a `nats-server` of a test's own on a port of its
//! own, with JetStream on a store directory of its own, killed by PID and started again on
//! the same port and store.

use std::path::PathBuf;
use std::time::Duration;

use async_nats::jetstream;
use serde_json::Value;

/// The shared NATS server (`NATS_URL`), with JetStream.
pub fn nats_url() -> String {
    std::env::var("NATS_URL")
        .expect("NATS_URL is not set: the relay's tests need NATS with JetStream (.ci/run sets it)")
}

/// A `nats-server` process of one test.
pub struct OwnNats {
    pub port: u16,
    /// `user:password@` when the configuration asks clients to sign in.
    credentials: String,
    store: tempfile::TempDir,
    config: Option<PathBuf>,
    child: Option<tokio::process::Child>,
}

impl OwnNats {
    /// Starts one with JetStream on a free port.
    pub async fn start() -> OwnNats {
        OwnNats::start_configured(None, None).await
    }

    /// Starts one with a server configuration file's text (users, permissions) whose clients
    /// sign in as `user` (`name:password`).
    pub async fn start_configured(config: Option<&str>, user: Option<&str>) -> OwnNats {
        let store = tempfile::tempdir().expect("store dir");
        let config = config.map(|text| {
            let path = store.path().join("nats.conf");
            std::fs::write(&path, text).expect("write nats.conf");
            path
        });
        let port = free_port();
        let mut nats = OwnNats {
            port,
            credentials: user.map_or(String::new(), |u| format!("{u}@")),
            store,
            config,
            child: None,
        };
        nats.restart().await;
        nats
    }

    pub fn url(&self) -> String {
        format!("nats://{}127.0.0.1:{}", self.credentials, self.port)
    }

    /// SIGKILL by PID and reap: NATS goes away without a goodbye.
    pub async fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let pid = child.id().expect("pid") as i32;
            nix::sys::signal::kill(
                nix::unistd::Pid::from_raw(pid),
                nix::sys::signal::Signal::SIGKILL,
            )
            .expect("kill nats-server");
            let _ = child.wait().await;
        }
    }

    /// Starts it (again) on the same port and store, and waits until JetStream answers.
    pub async fn restart(&mut self) {
        let mut cmd = tokio::process::Command::new(server_binary());
        cmd.args([
            "-a",
            "127.0.0.1",
            "-p",
            &self.port.to_string(),
            "-js",
            "-sd",
        ])
        .arg(self.store.path())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true);
        if let Some(config) = &self.config {
            cmd.arg("-c").arg(config);
        }
        self.child = Some(cmd.spawn().expect("spawn nats-server"));
        let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
        loop {
            // JetStream's API answers (the account query of this client does not parse a
            // 2.9 server's answer; the raw request is enough to know it is up).
            if let Ok(client) = connect(&self.url()).await
                && client.request("$JS.API.INFO", "".into()).await.is_ok()
            {
                return;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "nats-server on {} did not start",
                self.port
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

/// Connects to `url` as the relay does, signing in with the `user:password@` it may carry.
pub async fn connect(url: &str) -> Result<async_nats::Client, async_nats::ConnectError> {
    let (bare, options) = arbiter_host::services::outbox_relay::signed_in(url).expect("NATS URL");
    options.connect(bare).await
}

fn server_binary() -> String {
    std::env::var("NATS_SERVER_BIN").unwrap_or_else(|_| {
        [
            "/usr/sbin/nats-server",
            "/usr/bin/nats-server",
            "/usr/local/bin/nats-server",
        ]
        .into_iter()
        .find(|p| std::path::Path::new(p).exists())
        .expect("nats-server is not installed (set NATS_SERVER_BIN)")
        .to_owned()
    })
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port()
}

/// One message as a consumer of the stream received it.
#[derive(Debug, Clone)]
pub struct Received {
    pub subject: String,
    pub msg_id: String,
    pub body: Value,
}

/// Every message on `stream` under `filter`, read by an ordered consumer from the first until
/// `want` have arrived or nothing more comes for `quiet`.
pub async fn consume(
    url: &str,
    stream: &str,
    filter: &str,
    want: usize,
    quiet: Duration,
) -> Vec<Received> {
    use futures_util::StreamExt;

    let client = connect(url).await.expect("connect to NATS");
    let js = jetstream::new(client);
    // The relay declares its stream once it holds the lease, maybe after the test's traffic.
    let started = std::time::Instant::now();
    let stream = loop {
        match js.get_stream(stream).await {
            Ok(found) => break found,
            Err(e) => assert!(
                started.elapsed() < Duration::from_secs(30),
                "stream `{stream}`: {e}"
            ),
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let consumer = stream
        .create_consumer(jetstream::consumer::pull::OrderedConfig {
            filter_subject: filter.to_owned(),
            ..Default::default()
        })
        .await
        .expect("ordered consumer");
    let mut messages = consumer.messages().await.expect("messages");
    let mut out = Vec::new();
    while out.len() < want {
        let Ok(next) = tokio::time::timeout(quiet, messages.next()).await else {
            break;
        };
        let message = next.expect("stream open").expect("message");
        out.push(Received {
            subject: message.subject.to_string(),
            msg_id: message
                .headers
                .as_ref()
                .and_then(|h| h.get("Nats-Msg-Id"))
                .map(|v| v.as_str().to_owned())
                .unwrap_or_default(),
            body: serde_json::from_slice(&message.payload).expect("json body"),
        });
    }
    // Nothing more than `want`: a duplicate would arrive within `quiet`.
    if out.len() == want
        && let Ok(Some(extra)) = tokio::time::timeout(quiet, messages.next()).await
    {
        let extra = extra.expect("message");
        panic!("more than {want} messages: {:?}", extra.subject);
    }
    out
}
