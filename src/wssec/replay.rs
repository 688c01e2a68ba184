//! The replay cache (docs/SECURITY.md, R14 "Once only"): a signed message is accepted once
//! within its validity window. Keyed on the SHA-256 of the decoded signature value; the
//! insert is atomic; the entry lives until the message would be refused by its timestamp
//! anyway.
//!
//! `memory` serves one node; a Redis URL (`SET key 1 NX PX ttl`, atomic on the server)
//! lets every node behind a load balancer refuse the others' replays. Either way the
//! cache is bounded: the in-memory one refuses when full (fail closed), Redis entries
//! all carry a TTL of at most `max_age + 2 * skew`. The in-memory cache forgets at a
//! restart; `super::horizon` refuses what the previous run may have accepted.

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use super::WssError;

pub enum ReplayCache {
    Memory(Memory),
    Redis(Redis),
}

impl ReplayCache {
    /// `"memory"` or `redis://...`.
    pub fn from_setting(setting: &str, capacity: usize) -> Result<ReplayCache, String> {
        if setting == "memory" {
            return Ok(ReplayCache::Memory(Memory::new(capacity)));
        }
        if setting.starts_with("redis://") || setting.starts_with("rediss://") {
            let client = redis::Client::open(setting).map_err(|e| e.to_string())?;
            return Ok(ReplayCache::Redis(Redis {
                client,
                conn: tokio::sync::OnceCell::new(),
            }));
        }
        Err(format!(
            "replay = `{setting}`: expected \"memory\" or a redis:// URL"
        ))
    }

    /// Records `key` for `ttl`; `Err(Replay)` when it was already there.
    pub async fn insert_once(&self, key: &str, ttl: Duration) -> Result<(), WssError> {
        match self {
            ReplayCache::Memory(m) => m.insert_once(key, ttl, Instant::now()),
            ReplayCache::Redis(r) => r.insert_once(key, ttl).await,
        }
    }
}

fn replayed() -> WssError {
    WssError::Replay(
        "this signed message was already received; sign the retry again (new Timestamp and signature)"
            .into(),
    )
}

pub struct Memory {
    capacity: usize,
    inner: Mutex<MemoryInner>,
}

#[derive(Default)]
struct MemoryInner {
    until: HashMap<String, Instant>,
    /// Expiry order, for purging without scanning.
    by_expiry: BTreeMap<(Instant, u64), String>,
    seq: u64,
}

impl Memory {
    pub fn new(capacity: usize) -> Memory {
        Memory {
            capacity,
            inner: Mutex::new(MemoryInner::default()),
        }
    }

    fn insert_once(&self, key: &str, ttl: Duration, now: Instant) -> Result<(), WssError> {
        let mut g = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        // Purge what has expired (cheap: ordered by expiry).
        while let Some((&(t, s), _)) = g.by_expiry.iter().next() {
            if t > now {
                break;
            }
            if let Some(k) = g.by_expiry.remove(&(t, s)) {
                if g.until.get(&k) == Some(&t) {
                    g.until.remove(&k);
                }
            }
        }
        if let Some(t) = g.until.get(key) {
            if *t > now {
                return Err(replayed());
            }
        }
        if g.until.len() >= self.capacity {
            return Err(WssError::ReplayCacheUnavailable(
                "the replay cache is full".into(),
            ));
        }
        let until = now + ttl;
        g.seq += 1;
        let seq = g.seq;
        g.until.insert(key.to_string(), until);
        g.by_expiry.insert((until, seq), key.to_string());
        Ok(())
    }
}

pub struct Redis {
    client: redis::Client,
    conn: tokio::sync::OnceCell<redis::aio::MultiplexedConnection>,
}

impl Redis {
    async fn insert_once(&self, key: &str, ttl: Duration) -> Result<(), WssError> {
        let down = |e: String| WssError::ReplayCacheUnavailable(format!("replay cache: {e}"));
        let work = async {
            let conn = self
                .conn
                .get_or_try_init(|| self.client.get_multiplexed_async_connection())
                .await
                .map_err(|e| down(e.to_string()))?;
            let mut conn = conn.clone();
            let set: Option<String> = redis::cmd("SET")
                .arg(format!("lienthong:replay:{key}"))
                .arg(1)
                .arg("NX")
                .arg("PX")
                .arg(ttl.as_millis().max(1) as u64)
                .query_async(&mut conn)
                .await
                .map_err(|e| down(e.to_string()))?;
            match set {
                Some(_) => Ok(()),
                None => Err(replayed()),
            }
        };
        tokio::time::timeout(Duration::from_secs(2), work)
            .await
            .map_err(|_| down("timed out".into()))?
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn memory_refuses_a_second_insert_until_expiry_and_when_full() {
        let m = Memory::new(2);
        let t0 = Instant::now();
        m.insert_once("a", Duration::from_secs(10), t0).unwrap();
        assert!(matches!(
            m.insert_once("a", Duration::from_secs(10), t0),
            Err(WssError::Replay(_))
        ));
        m.insert_once("b", Duration::from_secs(10), t0).unwrap();
        assert!(matches!(
            m.insert_once("c", Duration::from_secs(10), t0),
            Err(WssError::ReplayCacheUnavailable(_))
        ));
        // After expiry both slots are free again.
        let later = t0 + Duration::from_secs(11);
        m.insert_once("a", Duration::from_secs(10), later).unwrap();
        m.insert_once("c", Duration::from_secs(10), later).unwrap();
    }
}
