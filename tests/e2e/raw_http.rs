//! HTTP/1.1 over a bare socket, for the tests that must misbehave the way an attacker would
//! (half a header, a body that never comes) and see exactly what the server does.

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// A bound on waits that must end: generous, so only a server that never answers or never
/// closes fails it. Not a latency assertion.
pub const GENEROUS: Duration = Duration::from_secs(30);

/// A connection to `base` (`http://host:port`).
pub async fn connect(base: &str) -> TcpStream {
    let addr = base.trim_start_matches("http://");
    TcpStream::connect(addr).await.expect("connect")
}

/// Connects and writes `bytes`.
pub async fn send(base: &str, bytes: &[u8]) -> TcpStream {
    let mut s = connect(base).await;
    s.write_all(bytes).await.expect("write");
    s
}

/// A response read off a socket.
#[derive(Debug)]
pub struct RawResponse {
    pub status: u16,
    /// Lower-cased names.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl RawResponse {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).expect("json body")
    }
}

/// Reads one response (head, then a `Content-Length` body), failing the test if it does not
/// come within [`GENEROUS`].
pub async fn read_response(s: &mut TcpStream) -> RawResponse {
    tokio::time::timeout(GENEROUS, read_response_now(s))
        .await
        .expect("the server answered")
}

async fn read_response_now(s: &mut TcpStream) -> RawResponse {
    let mut buf = Vec::new();
    let head_end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        let mut chunk = [0u8; 4096];
        let n = s.read(&mut chunk).await.expect("read");
        assert!(n > 0, "connection closed before a response: {buf:?}");
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .and_then(|c| c.parse().ok())
        .expect("status line");
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    let len: usize = headers
        .iter()
        .find(|(n, _)| n == "content-length")
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    let mut body = buf[head_end..].to_vec();
    while body.len() < len {
        let mut chunk = [0u8; 4096];
        let n = s.read(&mut chunk).await.expect("read body");
        assert!(n > 0, "connection closed mid-body");
        body.extend_from_slice(&chunk[..n]);
    }
    body.truncate(len);
    RawResponse {
        status,
        headers,
        body,
    }
}

/// Waits until the server closes `s` (end of file or a reset), failing the test if it is
/// still open after [`GENEROUS`] or if the server sent anything first.
pub async fn expect_closed(s: &mut TcpStream) {
    let mut chunk = [0u8; 1024];
    let read = tokio::time::timeout(GENEROUS, s.read(&mut chunk))
        .await
        .expect("the server closed the connection");
    match read {
        Ok(0) | Err(_) => {}
        Ok(n) => panic!(
            "expected a close, got {:?}",
            String::from_utf8_lossy(&chunk[..n])
        ),
    }
}

/// True when `s` is open with nothing to read (the server has neither answered nor closed).
pub fn still_open(s: &TcpStream) -> bool {
    let mut chunk = [0u8; 1];
    matches!(s.try_read(&mut chunk), Err(e) if e.kind() == std::io::ErrorKind::WouldBlock)
}
