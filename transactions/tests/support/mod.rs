//! Running a channel's official Python SDK, as the independent implementation our signatures
//! are checked against: the Python `CHANNEL_SDKS_PYTHON` names (`.ci/run` makes a venv with
//! the pinned SDKs, `.ci/channel-sdks.txt`).

use std::io::Write;
use std::process::{Command, Stdio};

use serde_json::Value;

/// Runs `script` with `input` as JSON on its stdin and returns the JSON it prints; `None`
/// (and a line saying so) when no SDK Python is configured.
pub fn run(sdk: &str, script: &str, input: &Value) -> Option<Value> {
    let Ok(python) = std::env::var("CHANNEL_SDKS_PYTHON") else {
        eprintln!("CHANNEL_SDKS_PYTHON not set: the {sdk} cross-check did not run");
        return None;
    };
    let mut child = Command::new(python)
        .args(["-c", script])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start the SDK's Python");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(input.to_string().as_bytes())
        .expect("write");
    let out = child.wait_with_output().expect("run");
    assert!(
        out.status.success(),
        "{sdk} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    Some(serde_json::from_slice(&out.stdout).expect("the SDK's JSON"))
}
