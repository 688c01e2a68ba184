//! Replay defence across restarts for the in-memory cache (`replay = "memory"`).
//!
//! The in-memory cache forgets every signature when the node stops, kill -9 included, while
//! those messages stay acceptable by their Timestamps for up to `max_age + skew`. So the
//! node keeps one number on disk, `DATA_DIR/replay-horizon`: a bound on the `wsu:Created`
//! of every message it has accepted. The bound is raised, in steps of [`STEP`] ahead of
//! the clock, and written and fsync'd *before* a message Created past it is accepted. At
//! start the previous run's bound is read, and a message Created at or before it is refused
//! as a possible replay: the previous run may have accepted it, and nothing else remembers.
//!
//! The price (docs/SECURITY.md, "Replay across restarts"): messages signed before a restart
//! and still in flight, or resent byte for byte, are refused and must be signed again, at
//! most `max_age + skew` worth of them; a message whose Created ran ahead of the clock
//! moves the bound ahead with it. Redis outlives the node and needs none of this.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Mutex;
use std::time::Duration;

use chrono::{DateTime, Utc};

use super::WssError;

/// How far ahead of the newest accepted Created the bound is written: at most one write
/// (and its fsyncs) per step under steady traffic, and the window a fast restart refuses.
pub const STEP: Duration = Duration::from_secs(1);

/// File name under the data directory.
pub const FILE: &str = "replay-horizon";

pub struct Horizon {
    path: PathBuf,
    /// Milliseconds since the epoch: a message Created at or before it may have been
    /// accepted by an earlier run of this node.
    before: i64,
    /// Every message this run accepted was Created at or before it. Raised only once the
    /// file holding the new value is on disk.
    persisted: AtomicI64,
    /// One writer at a time; readers of `persisted` never wait for it.
    write: Mutex<()>,
}

impl Horizon {
    /// Reads the previous run's bound and writes this run's first one. A missing file means
    /// no run of this node accepted anything (the file is on disk before the first
    /// acceptance), so nothing is refused: refusing from the start time would refuse every
    /// caller whose clock lags ours, or who writes Created to the second. An unreadable
    /// file counts as the start time plus the skew, the latest Created the previous run
    /// could have accepted.
    pub fn open(
        data_dir: &Path,
        now: DateTime<Utc>,
        skew: chrono::Duration,
    ) -> Result<Self, String> {
        let path = data_dir.join(FILE);
        let start = now.timestamp_millis();
        let before = match std::fs::read_to_string(&path) {
            Ok(text) => match text.trim().parse::<i64>() {
                Ok(ms) => ms,
                Err(_) => {
                    log::warn!(
                        "{}: not a replay horizon; refusing messages Created before {} s from now",
                        path.display(),
                        skew.num_seconds()
                    );
                    start + skew.num_milliseconds()
                }
            },
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => i64::MIN,
            Err(e) => return Err(format!("{}: cannot read: {e}", path.display())),
        };
        let first = before.max(start);
        write_durably(&path, first)
            .map_err(|e| format!("{}: cannot write: {e}", path.display()))?;
        Ok(Horizon {
            path,
            before,
            persisted: AtomicI64::new(first),
            write: Mutex::new(()),
        })
    }

    /// Admits a verified message Created at `created`: refused when an earlier run may have
    /// accepted it, and recorded on disk before it can be accepted by this one.
    pub fn admit(&self, created: DateTime<Utc>, now: DateTime<Utc>) -> Result<(), WssError> {
        let c = created.timestamp_millis();
        if c <= self.before {
            return Err(WssError::Replay(
                "this message was signed before the gateway restarted and may have been received already; sign it again (new Timestamp and signature)"
                    .into(),
            ));
        }
        if c <= self.persisted.load(Ordering::Acquire) {
            return Ok(());
        }
        let _one = self.write.lock().unwrap_or_else(|p| p.into_inner());
        if c <= self.persisted.load(Ordering::Acquire) {
            return Ok(());
        }
        let next = c.max(now.timestamp_millis()) + STEP.as_millis() as i64;
        write_durably(&self.path, next).map_err(|e| {
            log::error!("{}: cannot write: {e}", self.path.display());
            WssError::ReplayCacheUnavailable(format!("replay horizon: {e}"))
        })?;
        self.persisted.store(next, Ordering::Release);
        Ok(())
    }
}

/// Replaces the file with `ms` so that a crash leaves either the old value or the new one:
/// written to a temporary file, fsync'd, renamed over, and the directory fsync'd.
fn write_durably(path: &Path, ms: i64) -> std::io::Result<()> {
    let tmp = path.with_extension("tmp");
    let mut f = std::fs::File::create(&tmp)?;
    f.write_all(format!("{ms}\n").as_bytes())?;
    f.sync_all()?;
    drop(f);
    std::fs::rename(&tmp, path)?;
    if let Some(dir) = path.parent() {
        std::fs::File::open(dir)?.sync_all()?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(ms: i64) -> DateTime<Utc> {
        DateTime::from_timestamp_millis(1_800_000_000_000 + ms).unwrap()
    }

    #[test]
    fn what_one_run_accepted_the_next_refuses() {
        let dir = tempfile::tempdir().unwrap();
        let skew = chrono::Duration::seconds(300);
        let first = Horizon::open(dir.path(), t(0), skew).unwrap();
        // A new data directory: nothing was accepted before, even a Created a little
        // before the start (a lagging clock, or Created to the second).
        first.admit(t(-900), t(10)).unwrap();
        first.admit(t(10), t(10)).unwrap();
        first.admit(t(5_000), t(4_000)).unwrap();
        // Restart (no clean shutdown needed: the bound was on disk before the admission).
        let second = Horizon::open(dir.path(), t(5_500), skew).unwrap();
        for seen in [t(10), t(5_000)] {
            assert!(matches!(
                second.admit(seen, t(5_600)),
                Err(WssError::Replay(_))
            ));
        }
        // Past the bound the previous run wrote (Created + STEP), messages are new.
        second.admit(t(6_001), t(6_001)).unwrap();
        // The refusal carries over a second restart that accepted nothing newer.
        let third = Horizon::open(dir.path(), t(6_100), skew).unwrap();
        assert!(third.admit(t(6_001), t(6_200)).is_err());
    }

    #[test]
    fn an_unreadable_file_refuses_what_the_skew_allowed() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(FILE), "garbage").unwrap();
        let skew = chrono::Duration::seconds(300);
        let h = Horizon::open(dir.path(), t(0), skew).unwrap();
        assert!(h.admit(t(299_000), t(1)).is_err());
        h.admit(t(300_001), t(300_001)).unwrap();
    }
}
