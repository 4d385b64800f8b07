//! A loopback TCP proxy in front of the real Redis, so a test can lose Redis mid-traffic
//! (`cut`: existing connections dropped, new ones refused), stall it (`stall`: connections
//! accepted, nothing forwarded) and bring it back (`pass`), without touching the shared server.

use std::sync::{Arc, Mutex};

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Pass,
    Cut,
    Stall,
}

pub struct Proxy {
    pub url: String,
    mode: watch::Sender<Mode>,
    tasks: Arc<Mutex<Vec<tokio::task::JoinHandle<()>>>>,
    accept: tokio::task::JoinHandle<()>,
}

impl Proxy {
    /// Binds on port 0 first, then serves (no fixed ports, no sleeps).
    pub async fn start(upstream_url: &str) -> Proxy {
        let upstream = upstream_url
            .trim_start_matches("redis://")
            .split('/')
            .next()
            .expect("host:port")
            .to_owned();
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind proxy");
        let addr = listener.local_addr().expect("proxy addr");
        let (mode, watch_mode) = watch::channel(Mode::Pass);
        let tasks: Arc<Mutex<Vec<tokio::task::JoinHandle<()>>>> = Arc::default();
        let held = Arc::clone(&tasks);
        let accept = tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                if *watch_mode.borrow() == Mode::Cut {
                    drop(client);
                    continue;
                }
                let upstream = upstream.clone();
                let mode = watch_mode.clone();
                held.lock().expect("tasks").push(tokio::spawn(async move {
                    if let Ok(server) = TcpStream::connect(&upstream).await {
                        let (cr, cw) = client.into_split();
                        let (sr, sw) = server.into_split();
                        tokio::select! {
                            _ = pump(cr, sw, mode.clone()) => {}
                            _ = pump(sr, cw, mode) => {}
                        }
                    }
                }));
            }
        });
        Proxy {
            url: format!("redis://{addr}"),
            mode,
            tasks,
            accept,
        }
    }

    fn drop_connections(&self) {
        for task in self.tasks.lock().expect("tasks").drain(..) {
            task.abort();
        }
    }

    /// Redis lost: open connections are dropped and new ones refused.
    pub fn cut(&self) {
        self.mode.send_replace(Mode::Cut);
        self.drop_connections();
    }

    /// Redis hangs: bytes stop flowing on every connection, open or new, until `pass`.
    pub fn stall(&self) {
        self.mode.send_replace(Mode::Stall);
    }

    /// Redis back.
    pub fn pass(&self) {
        self.mode.send_replace(Mode::Pass);
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.accept.abort();
        self.drop_connections();
    }
}

/// Copies one direction, holding bytes back while the mode is `Stall`.
async fn pump(
    mut from: impl AsyncRead + Unpin,
    mut to: impl AsyncWrite + Unpin,
    mut mode: watch::Receiver<Mode>,
) {
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        let n = match from.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => n,
        };
        if mode.wait_for(|m| *m != Mode::Stall).await.is_err() {
            return;
        }
        if to.write_all(&buf[..n]).await.is_err() {
            return;
        }
    }
}
