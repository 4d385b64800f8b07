//! A headless Chromium driven over WebDriver (Debian's `chromium` and `chromedriver`, which
//! `.ci/run` installs), for the console tests that need a real browser: keys, the undo window,
//! the script's submissions.

use std::net::TcpListener;
use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use tokio::process::{Child, Command};

const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
const CHROMIUM: &str = "/usr/bin/chromium";

/// One chromedriver process; killed when dropped.
pub struct Driver {
    child: Child,
    url: String,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.start_kill();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

impl Driver {
    /// Starts chromedriver on a free port and waits until it answers. Panics, naming the
    /// package, when it is not installed: CI installs it, so a missing one is a broken setup.
    pub async fn start() -> Driver {
        assert!(
            Path::new(CHROMEDRIVER).exists() && Path::new(CHROMIUM).exists(),
            "browser tests need Debian's chromium and chromium-driver (apt-get install chromium chromium-driver)"
        );
        let port = free_port();
        let child = Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("start chromedriver");
        let url = format!("http://127.0.0.1:{port}");
        for _ in 0..200 {
            if tokio::net::TcpStream::connect(("127.0.0.1", port))
                .await
                .is_ok()
            {
                return Driver { child, url };
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        panic!("chromedriver did not start on port {port}");
    }

    /// A new headless browser session (its own profile, so its own cookies).
    pub async fn browser(&self) -> Client {
        let mut caps = serde_json::Map::new();
        caps.insert(
            "goog:chromeOptions".into(),
            serde_json::json!({
                "binary": CHROMIUM,
                "args": ["--headless=new", "--no-sandbox", "--disable-gpu",
                         "--disable-background-networking", "--disable-dev-shm-usage",
                         "--window-size=1400,1100"]
            }),
        );
        ClientBuilder::new(HttpConnector::new())
            .capabilities(caps)
            .connect(&self.url)
            .await
            .expect("a browser session")
    }
}

/// The text of the first element `css` finds.
pub async fn text(b: &Client, css: &str) -> String {
    b.find(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("`{css}` on the page: {e}"))
        .text()
        .await
        .expect("text")
}

/// How many elements `css` finds.
pub async fn count(b: &Client, css: &str) -> usize {
    b.find_all(Locator::Css(css)).await.expect("find").len()
}

/// Waits until the page's path starts with `prefix`; its path.
pub async fn wait_for_path(b: &Client, prefix: &str, within: Duration) -> String {
    let start = std::time::Instant::now();
    loop {
        let url = b.current_url().await.expect("url");
        if url.path().starts_with(prefix) {
            return url.path().to_owned();
        }
        assert!(
            start.elapsed() < within,
            "still on {url} after {within:?}, waiting for {prefix}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Presses `key` on the page (not in a field), as a real key press through WebDriver.
pub async fn press(b: &Client, key: &str) {
    b.find(Locator::Css("body"))
        .await
        .expect("body")
        .send_keys(key)
        .await
        .expect("key press");
}

/// Signs `b` in with `key` and waits for the queue.
pub async fn sign_in(b: &Client, base: &str, key: &str) {
    b.goto(&format!("{base}/console/sign-in"))
        .await
        .expect("sign-in page");
    b.find(Locator::Css("input[name=key]"))
        .await
        .expect("key field")
        .send_keys(key)
        .await
        .expect("type the key");
    b.find(Locator::Css("button[type=submit]"))
        .await
        .expect("sign-in button")
        .click()
        .await
        .expect("sign in");
    wait_for_path(b, "/console/queue", Duration::from_secs(5)).await;
}

/// Saves a screenshot of the page when `ARBITER_SCREENSHOTS` names a folder (how the README's
/// pictures are made: `ARBITER_SCREENSHOTS=docs cargo test … console`).
pub async fn screenshot(b: &Client, name: &str) {
    if let Ok(dir) = std::env::var("ARBITER_SCREENSHOTS") {
        let png = b.screenshot().await.expect("screenshot");
        std::fs::write(Path::new(&dir).join(name), png).expect("write screenshot");
    }
}
