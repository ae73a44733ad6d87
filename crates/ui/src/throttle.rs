//! Failed sign-ins per client address: a token bucket, as the server's
//! throttle of failed `Authorization` headers (ARCHITECTURE.md, "Resource
//! bounds"), which a sign-in form never reaches (it carries no such header).
//! A sign-in takes a token before its password is verified (argon2: the
//! costly part) and gets it back unless it fails; an empty bucket is a 429
//! without any verification.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use crate::Clock;

/// Failed sign-ins one address may make at once (the server's default
/// `auth_failure_burst`).
pub const LOGIN_FAILURE_BURST: u32 = 10;
/// Tokens regained per second (the server's default `auth_failure_per_sec`).
pub const LOGIN_FAILURES_PER_SEC: f64 = 1.0;
/// Addresses remembered; beyond, the least recently touched are forgotten.
const MAX_ADDRESSES: usize = 100_000;

struct Bucket {
    tokens: f64,
    at: Instant,
}

pub(crate) struct LoginThrottle {
    burst: f64,
    per_sec: f64,
    map: Mutex<HashMap<IpAddr, Bucket>>,
    clock: Arc<dyn Clock>,
}

/// IPv6 clients usually hold a /64: one bucket for it.
fn key(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(_) => ip,
        IpAddr::V6(v6) => {
            let s = v6.segments();
            IpAddr::V6(std::net::Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0))
        }
    }
}

impl LoginThrottle {
    pub(crate) fn new(clock: Arc<dyn Clock>) -> Self {
        Self {
            burst: f64::from(LOGIN_FAILURE_BURST),
            per_sec: LOGIN_FAILURES_PER_SEC,
            map: Mutex::new(HashMap::new()),
            clock,
        }
    }

    /// Takes a token for `ip`, or says how long until one is back.
    pub(crate) fn take(&self, ip: IpAddr) -> Result<(), Duration> {
        let now = self.clock.now();
        let mut map = self.map.lock().unwrap_or_else(PoisonError::into_inner);
        if map.len() >= MAX_ADDRESSES && !map.contains_key(&key(ip)) {
            let oldest = map.iter().min_by_key(|(_, b)| b.at).map(|(k, _)| *k);
            if let Some(k) = oldest {
                map.remove(&k);
            }
        }
        let b = map.entry(key(ip)).or_insert(Bucket {
            tokens: self.burst,
            at: now,
        });
        let elapsed = now.saturating_duration_since(b.at).as_secs_f64();
        b.tokens = (b.tokens + elapsed * self.per_sec).min(self.burst);
        b.at = now;
        if b.tokens >= 1.0 {
            b.tokens -= 1.0;
            Ok(())
        } else {
            Err(Duration::from_secs_f64((1.0 - b.tokens) / self.per_sec))
        }
    }

    /// Gives back the token of a sign-in that did not fail.
    pub(crate) fn refund(&self, ip: IpAddr) {
        let mut map = self.map.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(b) = map.get_mut(&key(ip)) {
            b.tokens = (b.tokens + 1.0).min(self.burst);
        }
    }
}
