//! Sign-in sessions: random ids from the OS, kept in memory, ended by an idle
//! timeout, an absolute lifetime or sign-out; one CSRF token each.
//!
//! In memory on purpose: a restart signs everyone out, and nothing a browser
//! holds (the cookie is a bare random id) is worth anything to anyone once the
//! server forgets it. Replicas behind a load balancer therefore need sticky
//! sessions (not done: see the crate docs).

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use axum::http::header::COOKIE;
use axum::http::HeaderMap;
use rand::TryRngCore;
use sightline_taxii::Principal;

use crate::UiError;

/// The session cookie's name.
pub const SESSION_COOKIE: &str = "sightline_session";
/// The sign-in form's CSRF cookie (double submit: there is no session yet).
pub const LOGIN_COOKIE: &str = "sightline_login";

/// Where the time comes from, so tests can move it.
pub trait Clock: Send + Sync {
    fn now(&self) -> Instant;
}

/// The monotonic clock of the OS.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Instant {
        Instant::now()
    }
}

/// A clock that moves only when told (tests).
#[derive(Debug)]
pub struct ManualClock {
    start: Instant,
    offset: Mutex<Duration>,
}

impl Default for ManualClock {
    fn default() -> Self {
        Self {
            start: Instant::now(),
            offset: Mutex::new(Duration::ZERO),
        }
    }
}

impl ManualClock {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn advance(&self, by: Duration) {
        let mut o = self.offset.lock().unwrap_or_else(PoisonError::into_inner);
        *o += by;
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Instant {
        self.start + *self.offset.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// How long sessions live and how many are kept.
#[derive(Debug, Clone)]
pub struct SessionConfig {
    /// Ended after this long without a request (default 30 min).
    pub idle: Duration,
    /// Ended this long after sign-in, however busy (default 12 h).
    pub absolute: Duration,
    /// At most this many at once; beyond, expired ones go first, then the
    /// least recently used (default 10,000).
    pub max_sessions: usize,
}

impl Default for SessionConfig {
    fn default() -> Self {
        Self {
            idle: Duration::from_secs(30 * 60),
            absolute: Duration::from_secs(12 * 3600),
            max_sessions: 10_000,
        }
    }
}

/// What a live session knows.
#[derive(Debug, Clone)]
pub(crate) struct Session {
    pub(crate) principal: Principal,
    pub(crate) csrf: String,
    /// The accounts as they were when this session was last checked.
    pub(crate) account: AccountStamp,
    created: Instant,
    last_seen: Instant,
}

/// What a session's sign-in rested on: the store's accounts generation, and
/// the user's password hash when the store holds the account (not for an
/// authenticator of its own). When the generation moves, the account is read
/// again: gone, or another password, ends the session; new groups or admin
/// rights apply at once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct AccountStamp {
    pub(crate) generation: u64,
    pub(crate) password_hash: Option<String>,
}

pub(crate) struct Sessions {
    map: Mutex<HashMap<String, Session>>,
    config: SessionConfig,
    clock: std::sync::Arc<dyn Clock>,
}

impl Sessions {
    pub(crate) fn new(config: SessionConfig, clock: std::sync::Arc<dyn Clock>) -> Self {
        Self {
            map: Mutex::new(HashMap::new()),
            config,
            clock,
        }
    }

    fn live(&self, s: &Session, now: Instant) -> bool {
        now.saturating_duration_since(s.last_seen) < self.config.idle
            && now.saturating_duration_since(s.created) < self.config.absolute
    }

    /// A new session for `principal`: its id (the cookie's value) and CSRF token.
    pub(crate) fn create(
        &self,
        principal: Principal,
        account: AccountStamp,
    ) -> Result<String, UiError> {
        let id = random_token()?;
        let csrf = random_token()?;
        let now = self.clock.now();
        let mut map = self.map.lock().unwrap_or_else(PoisonError::into_inner);
        if map.len() >= self.config.max_sessions {
            map.retain(|_, s| self.live(s, now));
        }
        if map.len() >= self.config.max_sessions {
            let oldest = map
                .iter()
                .min_by_key(|(_, s)| s.last_seen)
                .map(|(k, _)| k.clone());
            if let Some(k) = oldest {
                map.remove(&k);
            }
        }
        map.insert(
            id.clone(),
            Session {
                principal,
                csrf,
                account,
                created: now,
                last_seen: now,
            },
        );
        Ok(id)
    }

    /// The live session `id`, marked as used now; an expired one is forgotten.
    pub(crate) fn get(&self, id: &str) -> Option<Session> {
        let now = self.clock.now();
        let mut map = self.map.lock().unwrap_or_else(PoisonError::into_inner);
        let live = self.live(map.get(id)?, now);
        if !live {
            map.remove(id);
            return None;
        }
        let s = map.get_mut(id)?;
        s.last_seen = now;
        Some(s.clone())
    }

    /// The account behind session `id` was read again and still stands.
    pub(crate) fn refresh(&self, id: &str, principal: Principal, generation: u64) {
        let mut map = self.map.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(s) = map.get_mut(id) {
            s.principal = principal;
            s.account.generation = generation;
        }
    }

    pub(crate) fn remove(&self, id: &str) {
        self.map
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(id);
    }
}

/// 256 random bits from the OS, in hex.
pub(crate) fn random_token() -> Result<String, UiError> {
    let mut b = [0u8; 32];
    rand::rngs::OsRng
        .try_fill_bytes(&mut b)
        .map_err(|e| UiError::internal(format!("the OS random number generator failed: {e}")))?;
    Ok(hex::encode(b))
}

/// The value of cookie `name` in the request, if any.
pub(crate) fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// A `Set-Cookie` value: HttpOnly and SameSite=Strict always, Secure under
/// TLS; `max_age` 0 removes the cookie.
pub(crate) fn set_cookie(
    name: &str,
    value: &str,
    path: &str,
    secure: bool,
    max_age: Option<u64>,
) -> String {
    let mut c = format!("{name}={value}; Path={path}; HttpOnly; SameSite=Strict");
    if secure {
        c.push_str("; Secure");
    }
    if let Some(a) = max_age {
        c.push_str(&format!("; Max-Age={a}"));
    }
    c
}

/// Equality whose time does not depend on where the inputs differ.
pub(crate) fn same(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    fn alice() -> Principal {
        Principal {
            name: "alice".into(),
            groups: vec![],
            admin: false,
        }
    }

    fn stamp() -> AccountStamp {
        AccountStamp {
            generation: 0,
            password_hash: None,
        }
    }

    #[test]
    fn ids_are_256_random_bits() {
        let a = random_token().expect("rng");
        let b = random_token().expect("rng");
        assert_eq!(a.len(), 64);
        assert_ne!(a, b);
    }

    #[test]
    fn absolute_lifetime_ends_a_busy_session() {
        let clock = Arc::new(ManualClock::new());
        let s = Sessions::new(SessionConfig::default(), clock.clone());
        let id = s.create(alice(), stamp()).expect("create");
        // Used every 20 minutes: never idle, yet over after 12 h.
        for _ in 0..35 {
            clock.advance(Duration::from_secs(20 * 60));
            assert!(s.get(&id).is_some());
        }
        clock.advance(Duration::from_secs(20 * 60));
        assert!(s.get(&id).is_none(), "12 h 0 min after sign-in");
    }

    #[test]
    fn a_full_table_drops_the_least_recently_used() {
        let clock = Arc::new(ManualClock::new());
        let config = SessionConfig {
            max_sessions: 2,
            ..SessionConfig::default()
        };
        let s = Sessions::new(config, clock.clone());
        let a = s.create(alice(), stamp()).expect("a");
        clock.advance(Duration::from_secs(1));
        let b = s.create(alice(), stamp()).expect("b");
        clock.advance(Duration::from_secs(1));
        assert!(s.get(&a).is_some()); // a is now the more recent
        let c = s.create(alice(), stamp()).expect("c");
        assert!(s.get(&b).is_none());
        assert!(s.get(&a).is_some() && s.get(&c).is_some());
    }

    #[test]
    fn cookies_are_found_among_others() {
        let mut h = HeaderMap::new();
        h.append(COOKIE, "a=1; sightline_session=abc".parse().expect("hv"));
        h.append(COOKIE, "b=2".parse().expect("hv"));
        assert_eq!(cookie(&h, SESSION_COOKIE), Some("abc"));
        assert_eq!(cookie(&h, "b"), Some("2"));
        assert_eq!(cookie(&h, "sightline"), None);
        assert!(same("abc", "abc") && !same("abc", "abd") && !same("abc", "ab"));
    }
}
