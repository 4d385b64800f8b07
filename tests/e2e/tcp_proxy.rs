//! A loopback TCP proxy in front of a real server (PostgreSQL here), so a test can lose the
//! database mid-traffic (`cut`: open connections dropped, new ones refused) and bring it back
//! (`pass`) without touching the shared server.

use std::sync::{Arc, Mutex};

use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

pub struct Proxy {
    pub port: u16,
    cut: watch::Sender<bool>,
    tasks: Arc<Mutex<Vec<tokio::task::JoinHandle<()>>>>,
    accept: tokio::task::JoinHandle<()>,
}

impl Proxy {
    /// Binds on port 0 first, then serves.
    pub async fn start(upstream: String) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind proxy");
        let port = listener.local_addr().expect("addr").port();
        let (cut, watch_cut) = watch::channel(false);
        let tasks: Arc<Mutex<Vec<tokio::task::JoinHandle<()>>>> = Arc::default();
        let held = tasks.clone();
        let accept = tokio::spawn(async move {
            while let Ok((mut client, _)) = listener.accept().await {
                if *watch_cut.borrow() {
                    drop(client);
                    continue;
                }
                let upstream = upstream.clone();
                held.lock().expect("tasks").push(tokio::spawn(async move {
                    if let Ok(mut server) = TcpStream::connect(&upstream).await {
                        let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
                    }
                }));
            }
        });
        Proxy {
            port,
            cut,
            tasks,
            accept,
        }
    }

    /// The database is gone: open connections are dropped, new ones refused.
    pub fn cut(&self) {
        self.cut.send_replace(true);
        for t in self.tasks.lock().expect("tasks").drain(..) {
            t.abort();
        }
    }

    /// The database is back.
    pub fn pass(&self) {
        self.cut.send_replace(false);
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.accept.abort();
        for t in self.tasks.lock().expect("tasks").drain(..) {
            t.abort();
        }
    }
}
