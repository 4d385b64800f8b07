//! Writes the JSON a packed decision compresses, one file per stored decision, for training
//! the dictionary decisions are packed with (`src/stored_decision.rs`).
//!
//! ```sh
//! # a data directory filled by the load script, e.g. by `host/server/benches/load/disk.sh`
//! # with its clean-up skipped, or any server run under `decisions.lua`:
//! cargo run --release -p arbiter-storage --example decision_samples -- DATA_DIR OUT_DIR 20000
//! zstd --train -r OUT_DIR --maxdict=32768 --dictID=N -o host/storage/src/stored_decision/decisions-N.zdict
//! ```
//!
//! A new dictionary takes the next id and is appended to `DICTIONARIES`; the old ones stay,
//! since stored decisions name theirs. The data directory is migrated on open: use a copy.

use std::path::PathBuf;

use chrono::DateTime;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let usage = "usage: decision_samples DATA_DIR OUT_DIR [COUNT]";
    let data_dir = PathBuf::from(args.next().ok_or(usage)?);
    let out = PathBuf::from(args.next().ok_or(usage)?);
    let count: usize = args.next().map_or(Ok(20_000), |n| n.parse())?;
    std::fs::create_dir_all(&out)?;
    let store = arbiter_storage::connect(None, &data_dir).await?;
    let mut after: Option<String> = None;
    let mut written = 0;
    while written < count {
        let page = store
            .decisions_page(DateTime::UNIX_EPOCH, after.as_deref(), 500)
            .await?;
        let Some(last) = page.last() else { break };
        after = Some(last.decision_id.0.clone());
        for d in page.iter().take(count - written) {
            let json = arbiter_storage::decision_dictionary_sample(d)?;
            std::fs::write(out.join(format!("{written:06}.json")), json)?;
            written += 1;
        }
    }
    println!("{written} samples in {}", out.display());
    Ok(())
}
