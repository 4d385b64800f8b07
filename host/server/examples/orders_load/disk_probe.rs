//! A disk probe beside the load: one 4 KiB write and `fdatasync` every 10 ms in the server's
//! data directory, the same operation a durable commit ends with. Its slow syncs, printed
//! with their time into the run, tell a stall of the disk itself from one of the server: on
//! the shared machines BENCHMARKS.md was measured on, single syncs took up to ~90 ms with
//! nothing else running.

use std::fs::OpenOptions;
use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// Syncs slower than this are listed.
const SLOW: Duration = Duration::from_millis(20);

pub struct DiskProbe {
    stop: Arc<AtomicBool>,
    thread: JoinHandle<std::io::Result<Vec<(f64, Duration)>>>,
    file: PathBuf,
}

impl DiskProbe {
    /// Starts probing in `dir`; times are seconds since `start`.
    pub fn start(dir: PathBuf, start: Instant) -> DiskProbe {
        let file = dir.join(format!("disk-probe-{}.tmp", std::process::id()));
        let stop = Arc::new(AtomicBool::new(false));
        let (path, stopped) = (file.clone(), stop.clone());
        let thread = std::thread::spawn(move || {
            let mut f = OpenOptions::new()
                .create(true)
                .truncate(true)
                .write(true)
                .open(&path)?;
            let page = [0u8; 4096];
            let mut slow = Vec::new();
            while !stopped.load(Ordering::Relaxed) {
                let began = Instant::now();
                f.write_all(&page)?;
                f.sync_data()?;
                let took = began.elapsed();
                if took > SLOW {
                    slow.push(((began - start).as_secs_f64(), took));
                }
                std::thread::sleep(Duration::from_millis(10));
            }
            Ok(slow)
        });
        DiskProbe { stop, thread, file }
    }

    /// Stops and prints the slow syncs.
    pub fn finish(self) {
        self.stop.store(true, Ordering::Relaxed);
        let result = self.thread.join();
        let _ = std::fs::remove_file(&self.file);
        match result {
            Ok(Ok(slow)) => {
                let list: Vec<String> = slow
                    .iter()
                    .map(|(at, took)| format!("{at:.2} s: {:.0} ms", took.as_secs_f64() * 1e3))
                    .collect();
                println!(
                    "disk probe: {} fdatasyncs over {} ms [{}]",
                    slow.len(),
                    SLOW.as_millis(),
                    list.join(", ")
                );
            }
            Ok(Err(e)) => println!("disk probe failed: {e}"),
            Err(_) => println!("disk probe thread panicked"),
        }
    }
}
