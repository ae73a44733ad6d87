//! Authentication against the store's accounts: HTTP Basic (argon2) and
//! Bearer API tokens (`sl_<id>_<secret>`), plus the helpers the CLI uses to
//! make password hashes and tokens.
//!
//! argon2 is deliberately slow (tens of milliseconds of CPU), and HTTP Basic
//! sends the password on every request. So a verified `Authorization` header
//! is remembered for a short time, keyed by HMAC-SHA256 of the header under a
//! random per-process key: the cache never holds a password or a fast,
//! offline-checkable hash of one, and a second request with the same header
//! costs a hash and a map lookup. Tokens go through the same cache (saving
//! two store reads per request). The cache is emptied whenever the store's
//! [`AccountStore::accounts_generation`] changes, checked at most every
//! [`GENERATION_CHECK`], so a removed user or revoked token stops working
//! within that time even though another process made the change.
//!
//! Each argon2 verification also takes 19 MiB. When a cache entry expires
//! under 1,000 concurrent connections sending the same header, each request
//! would verify at once (a measured 1.5 GiB spike, BENCHMARKS.md issue 3). So
//! verifications pass a gate of one per core and one per header: a request
//! whose header is being verified waits, then finds the answer in the cache.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use base64::Engine;
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};
use sightline_store::{ApiToken, Store, StoreError, User};
use sightline_taxii::{AuthError, Authenticator, Principal};
use subtle::ConstantTimeEq;

/// How often the accounts generation is re-read. Reading it is a store query;
/// doing it once a second rather than per request keeps it off the hot path.
pub const GENERATION_CHECK: Duration = Duration::from_secs(1);

/// Cached credentials kept at most; past it, expired entries are purged and,
/// if that is not enough, the cache starts over (a flood of distinct bad
/// headers is never cached: only verified ones are).
const CACHE_MAX: usize = 10_000;

/// Token text prefix: makes tokens recognisable to secret scanners and users.
pub const TOKEN_PREFIX: &str = "sl_";

/// Hashes a password as an argon2id PHC string (argon2 crate defaults:
/// m = 19 MiB, t = 2, p = 1, the OWASP recommendation).
pub fn hash_password(password: &str) -> Result<String, StoreError> {
    let salt_bytes: [u8; 16] = rand::random();
    let salt = SaltString::encode_b64(&salt_bytes)
        .map_err(|e| StoreError::Invalid(format!("cannot make a salt: {e}")))?;
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| StoreError::Invalid(format!("cannot hash the password: {e}")))
}

/// A random password of 20 characters from an unambiguous alphabet of 57
/// (about 117 bits), for generated accounts such as the demo user.
pub fn random_password() -> String {
    use rand::Rng;
    const ALPHABET: &[u8] = b"abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let mut rng = rand::rng();
    (0..20)
        .map(|_| char::from(ALPHABET[rng.random_range(0..ALPHABET.len())]))
        .collect()
}

/// Adds a user with a hashed password.
pub fn add_user(
    store: &dyn Store,
    name: &str,
    password: &str,
    groups: Vec<String>,
    admin: bool,
) -> Result<(), StoreError> {
    if password.is_empty() {
        return Err(StoreError::Invalid("the password is empty".into()));
    }
    sightline_store::accounts::validate_user_name(name)?;
    store.add_user(&User {
        name: name.to_owned(),
        password_hash: hash_password(password)?,
        groups,
        admin,
    })
}

/// A newly created token: `text` is shown to its owner once and never stored.
#[derive(Clone)]
pub struct NewToken {
    pub id: String,
    pub text: String,
}

impl std::fmt::Debug for NewToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewToken")
            .field("id", &self.id)
            .finish_non_exhaustive()
    }
}

/// Creates an API token for `user`: a random 16-hex-digit id and a 256-bit
/// secret; the store keeps only the secret's SHA-256.
pub fn create_token(store: &dyn Store, user: &str) -> Result<NewToken, StoreError> {
    let id_bytes: [u8; 8] = rand::random();
    let id = crate::config::to_hex(&id_bytes);
    let secret_bytes: [u8; 32] = rand::random();
    let secret = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(secret_bytes);
    let created = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    store.create_token(&ApiToken {
        id: id.clone(),
        user: user.to_owned(),
        secret_sha256: Sha256::digest(secret.as_bytes()).into(),
        created,
        revoked: false,
    })?;
    Ok(NewToken {
        text: format!("{TOKEN_PREFIX}{id}_{secret}"),
        id,
    })
}

/// A verified header: who it is, or `None` when it was refused. Refusals
/// are kept too, so a client retrying a stale password (a connector's many
/// workers, every second) costs one argon2 run per TTL, not one per request.
/// Any account change purges both kinds (the accounts generation).
struct Entry {
    principal: Option<Principal>,
    expires: Instant,
}

struct Cache {
    entries: HashMap<[u8; 32], Entry>,
    generation: u64,
    /// When the generation was last read; `None` forces a read.
    checked: Option<Instant>,
}

/// The [`Authenticator`] over a store's accounts.
pub struct StoreAuthenticator {
    store: Arc<dyn Store>,
    ttl: Duration,
    key: [u8; 32],
    cache: Mutex<Cache>,
    verifications: AtomicU64,
    /// Bounds concurrent argon2 verifications (memory and CPU).
    gate: Gate,
    /// A real hash to verify against for unknown users, so a wrong user name
    /// takes as long as a wrong password (no user enumeration by timing).
    dummy_hash: String,
}

impl std::fmt::Debug for StoreAuthenticator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoreAuthenticator")
            .field("ttl", &self.ttl)
            .finish_non_exhaustive()
    }
}

impl StoreAuthenticator {
    pub fn new(store: Arc<dyn Store>, ttl: Duration) -> Result<StoreAuthenticator, StoreError> {
        let generation = store.accounts_generation()?;
        let dummy: [u8; 16] = rand::random();
        Ok(StoreAuthenticator {
            store,
            ttl,
            key: rand::random(),
            cache: Mutex::new(Cache {
                entries: HashMap::new(),
                generation,
                checked: Some(Instant::now()),
            }),
            verifications: AtomicU64::new(0),
            gate: Gate::new(std::thread::available_parallelism().map_or(2, usize::from)),
            dummy_hash: hash_password(&crate::config::to_hex(&dummy))?,
        })
    }

    /// How many argon2 verifications ran (the cost the cache saves). Also
    /// exported as `sightline_password_verifications_total`.
    pub fn verifications(&self) -> u64 {
        self.verifications.load(Ordering::Relaxed)
    }

    fn cache_key(&self, header: &str) -> [u8; 32] {
        // HMAC accepts keys of any length; this cannot fail.
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.key)
            .unwrap_or_else(|_| unreachable!("HMAC takes any key length"));
        mac.update(header.as_bytes());
        mac.finalize().into_bytes().into()
    }

    /// The cached answer for `key`: `Ok(Some)` verified, `Err(Invalid)`
    /// refused, `Ok(None)` not known.
    fn cached(&self, key: &[u8; 32]) -> Result<Option<Principal>, AuthError> {
        let now = Instant::now();
        let mut c = self.cache.lock().unwrap_or_else(PoisonError::into_inner);
        if c.checked
            .is_none_or(|t| now.duration_since(t) >= GENERATION_CHECK)
        {
            let g = self
                .store
                .accounts_generation()
                .map_err(|e| AuthError::Unavailable(e.to_string()))?;
            c.checked = Some(now);
            if g != c.generation {
                c.generation = g;
                c.entries.clear();
            }
        }
        match c.entries.get(key) {
            Some(e) if e.expires > now => e.principal.clone().map(Some).ok_or(AuthError::Invalid),
            Some(_) => {
                c.entries.remove(key);
                Ok(None)
            }
            None => Ok(None),
        }
    }

    fn remember(&self, key: [u8; 32], principal: Option<&Principal>, generation: u64) {
        let now = Instant::now();
        let mut c = self.cache.lock().unwrap_or_else(PoisonError::into_inner);
        // Verified against an older generation than the cache now holds:
        // the account may have changed since, so do not keep it.
        if generation != c.generation {
            return;
        }
        if c.entries.len() >= CACHE_MAX {
            c.entries.retain(|_, e| e.expires > now);
        }
        if c.entries.len() >= CACHE_MAX {
            // Many distinct wrong headers must not push out the good ones.
            c.entries.retain(|_, e| e.principal.is_some());
        }
        if c.entries.len() >= CACHE_MAX {
            c.entries.clear();
        }
        c.entries.insert(
            key,
            Entry {
                principal: principal.cloned(),
                expires: now + self.ttl,
            },
        );
    }

    fn principal(user: User) -> Principal {
        Principal {
            name: user.name,
            groups: user.groups,
            admin: user.admin,
        }
    }

    fn verify_basic(&self, b64: &str) -> Result<Principal, AuthError> {
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(b64.trim())
            .map_err(|_| AuthError::Malformed)?;
        let text = String::from_utf8(decoded).map_err(|_| AuthError::Malformed)?;
        let (name, password) = text.split_once(':').ok_or(AuthError::Malformed)?;
        let user = self.store.user(name).map_err(unavailable)?;
        let hash = user
            .as_ref()
            .map_or(self.dummy_hash.as_str(), |u| u.password_hash.as_str());
        let ok = self.argon2_verify(password, hash);
        match user {
            Some(u) if ok => Ok(Self::principal(u)),
            _ => Err(AuthError::Invalid),
        }
    }

    fn argon2_verify(&self, password: &str, phc: &str) -> bool {
        self.verifications.fetch_add(1, Ordering::Relaxed);
        metrics::counter!("sightline_password_verifications_total").increment(1);
        match PasswordHash::new(phc) {
            Ok(h) => Argon2::default()
                .verify_password(password.as_bytes(), &h)
                .is_ok(),
            Err(_) => {
                tracing::warn!("a stored password hash is not a valid PHC string");
                false
            }
        }
    }

    fn verify_token(&self, text: &str) -> Result<Principal, AuthError> {
        let rest = text
            .trim()
            .strip_prefix(TOKEN_PREFIX)
            .ok_or(AuthError::Invalid)?;
        let (id, secret) = rest.split_once('_').ok_or(AuthError::Invalid)?;
        let token = self
            .store
            .token(id)
            .map_err(unavailable)?
            .ok_or(AuthError::Invalid)?;
        let digest: [u8; 32] = Sha256::digest(secret.as_bytes()).into();
        let same: bool = digest.ct_eq(&token.secret_sha256).into();
        if !same || token.revoked {
            return Err(AuthError::Invalid);
        }
        let user = self
            .store
            .user(&token.user)
            .map_err(unavailable)?
            .ok_or(AuthError::Invalid)?;
        Ok(Self::principal(user))
    }
}

/// Admits at most `permits` verifications at a time, and one per cache key:
/// a request whose header is being verified waits for that answer instead.
struct Gate {
    state: Mutex<GateState>,
    changed: Condvar,
}

struct GateState {
    free: usize,
    in_flight: std::collections::HashSet<[u8; 32]>,
}

struct Permit<'a> {
    gate: &'a Gate,
    key: [u8; 32],
}

impl Gate {
    fn new(permits: usize) -> Self {
        Gate {
            state: Mutex::new(GateState {
                free: permits.max(1),
                in_flight: std::collections::HashSet::new(),
            }),
            changed: Condvar::new(),
        }
    }

    fn enter(&self, key: [u8; 32]) -> Permit<'_> {
        let mut st = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        while st.free == 0 || st.in_flight.contains(&key) {
            st = self
                .changed
                .wait(st)
                .unwrap_or_else(PoisonError::into_inner);
        }
        st.free -= 1;
        st.in_flight.insert(key);
        Permit { gate: self, key }
    }
}

impl Drop for Permit<'_> {
    fn drop(&mut self) {
        let mut st = self
            .gate
            .state
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        st.free += 1;
        st.in_flight.remove(&self.key);
        // Waiters for this key and for a free permit alike.
        self.gate.changed.notify_all();
    }
}

fn unavailable(e: StoreError) -> AuthError {
    AuthError::Unavailable(e.to_string())
}

impl Authenticator for StoreAuthenticator {
    fn authenticate_cached(&self, authorization: &str) -> Option<Principal> {
        let key = self.cache_key(authorization);
        let now = Instant::now();
        let c = self.cache.lock().unwrap_or_else(PoisonError::into_inner);
        // The accounts generation is due for a re-read (a store query): leave
        // that, and the possible purge, to `authenticate`.
        if c.checked
            .is_none_or(|t| now.duration_since(t) >= GENERATION_CHECK)
        {
            return None;
        }
        // A cached refusal goes through `authenticate` too, which answers it
        // at once.
        c.entries
            .get(&key)
            .filter(|e| e.expires > now)
            .and_then(|e| e.principal.clone())
    }

    fn authenticate(&self, authorization: Option<&str>) -> Result<Option<Principal>, AuthError> {
        let Some(header) = authorization else {
            return Ok(None);
        };
        let key = self.cache_key(header);
        if let Some(p) = self.cached(&key)? {
            return Ok(Some(p));
        }
        // Runs on the blocking pool, so waiting here stalls no async task.
        let _permit = self.gate.enter(key);
        // Another request with this header may have been verified while this
        // one waited.
        if let Some(p) = self.cached(&key)? {
            return Ok(Some(p));
        }
        // The generation before verifying: if accounts change while we
        // verify, `remember` sees a newer one and does not cache.
        let generation = self
            .cache
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .generation;
        let (scheme, rest) = header
            .trim_start()
            .split_once(' ')
            .ok_or(AuthError::Malformed)?;
        let verified = if scheme.eq_ignore_ascii_case("basic") {
            self.verify_basic(rest)
        } else if scheme.eq_ignore_ascii_case("bearer") {
            self.verify_token(rest)
        } else {
            return Err(AuthError::Malformed);
        };
        match verified {
            Ok(principal) => {
                self.remember(key, Some(&principal), generation);
                Ok(Some(principal))
            }
            Err(AuthError::Invalid) => {
                self.remember(key, None, generation);
                Err(AuthError::Invalid)
            }
            // Malformed costs nothing to find again; Unavailable must be
            // retried.
            Err(e) => Err(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sightline_store::MemoryStore;

    fn basic(user: &str, pw: &str) -> String {
        format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(format!("{user}:{pw}"))
        )
    }

    #[test]
    fn basic_tokens_and_cache() {
        let store: Arc<dyn Store> = Arc::new(MemoryStore::new());
        add_user(store.as_ref(), "bob", "s3cret:x", vec!["g".into()], false).expect("add");
        let auth = StoreAuthenticator::new(store.clone(), Duration::from_secs(300)).expect("auth");
        assert_eq!(auth.authenticate(None), Ok(None));
        let p = auth
            .authenticate(Some(&basic("bob", "s3cret:x")))
            .expect("ok")
            .expect("principal");
        assert_eq!(
            (p.name.as_str(), p.groups.clone(), p.admin),
            ("bob", vec!["g".to_owned()], false)
        );
        for _ in 0..50 {
            auth.authenticate(Some(&basic("bob", "s3cret:x")))
                .expect("cached");
        }
        assert_eq!(auth.verifications(), 1, "argon2 runs once per credential");
        assert_eq!(
            auth.authenticate_cached(&basic("bob", "s3cret:x"))
                .map(|p| p.name),
            Some("bob".into()),
            "a verified header is answered without blocking"
        );
        assert_eq!(auth.authenticate_cached(&basic("bob", "wrong")), None);
        auth.cache.lock().expect("lock").checked = None;
        assert_eq!(
            auth.authenticate_cached(&basic("bob", "s3cret:x")),
            None,
            "a due generation check goes through authenticate"
        );
        assert_eq!(
            auth.authenticate(Some(&basic("bob", "wrong"))),
            Err(AuthError::Invalid)
        );
        assert_eq!(
            auth.authenticate(Some(&basic("eve", "x"))),
            Err(AuthError::Invalid)
        );
        assert_eq!(
            auth.verifications(),
            3,
            "unknown users cost a verification too"
        );
        for _ in 0..20 {
            assert_eq!(
                auth.authenticate(Some(&basic("bob", "wrong"))),
                Err(AuthError::Invalid)
            );
        }
        assert_eq!(auth.verifications(), 3, "a refusal is cached too");
        assert_eq!(
            auth.authenticate(Some("Basic %%%")),
            Err(AuthError::Malformed)
        );
        assert_eq!(
            auth.authenticate(Some("Digest x")),
            Err(AuthError::Malformed)
        );

        let t = create_token(store.as_ref(), "bob").expect("token");
        assert!(t.text.starts_with("sl_"));
        let bearer = format!("Bearer {}", t.text);
        assert_eq!(
            auth.authenticate(Some(&bearer))
                .expect("ok")
                .map(|p| p.name),
            Some("bob".into())
        );
        let forged = format!("Bearer sl_{}_AAAA", t.id);
        assert_eq!(auth.authenticate(Some(&forged)), Err(AuthError::Invalid));
        assert_eq!(
            auth.authenticate(Some("Bearer nope")),
            Err(AuthError::Invalid)
        );

        // A refusal lasts only until the accounts change: once carol exists,
        // her header is verified again.
        assert_eq!(
            auth.authenticate(Some(&basic("carol", "pw"))),
            Err(AuthError::Invalid)
        );
        add_user(store.as_ref(), "carol", "pw", vec![], false).expect("add carol");
        auth.cache.lock().expect("lock").checked = None;
        assert_eq!(
            auth.authenticate(Some(&basic("carol", "pw")))
                .expect("ok")
                .map(|p| p.name),
            Some("carol".into())
        );

        // Revoking bumps the generation; after the next check the cached
        // token (and password) must be verified again.
        assert!(store.revoke_token(&t.id).expect("revoke"));
        auth.cache.lock().expect("lock").checked = None;
        assert_eq!(auth.authenticate(Some(&bearer)), Err(AuthError::Invalid));
        assert!(store.remove_user("bob").expect("remove"));
        auth.cache.lock().expect("lock").checked = None;
        assert_eq!(
            auth.authenticate(Some(&basic("bob", "s3cret:x"))),
            Err(AuthError::Invalid)
        );
    }

    /// A stampede of one header (1,000 connections whose cache entry just
    /// expired) verifies once; distinct headers verify at most one per gate
    /// permit at a time (argon2 takes 19 MiB each).
    #[test]
    fn concurrent_requests_share_one_verification() {
        let store: Arc<dyn Store> = Arc::new(MemoryStore::new());
        add_user(store.as_ref(), "bob", "pw", vec![], false).expect("add");
        let auth =
            Arc::new(StoreAuthenticator::new(store, Duration::from_secs(300)).expect("auth"));
        // 16 threads sending one header at once: their answers.
        let stampede = |header: String| {
            let threads: Vec<_> = (0..16)
                .map(|_| {
                    let (auth, header) = (auth.clone(), header.clone());
                    std::thread::spawn(move || auth.authenticate(Some(&header)))
                })
                .collect();
            threads
                .into_iter()
                .map(|t| t.join().expect("thread"))
                .collect::<Vec<_>>()
        };
        for got in stampede(basic("bob", "pw")) {
            let got = got.expect("ok").map(|p| p.name);
            assert_eq!(got.as_deref(), Some("bob"));
        }
        assert_eq!(auth.verifications(), 1, "the waiters used the first result");

        // The same for a wrong password: one refusal, shared.
        for got in stampede(basic("bob", "stale")) {
            assert_eq!(got, Err(AuthError::Invalid));
        }
        assert_eq!(auth.verifications(), 2, "one verification refused them all");

        let gate = Arc::new(Gate::new(2));
        let inside = Arc::new(AtomicU64::new(0));
        let most = Arc::new(AtomicU64::new(0));
        let threads: Vec<_> = (0..8)
            .map(|_| {
                let (gate, inside, most) = (gate.clone(), inside.clone(), most.clone());
                std::thread::spawn(move || {
                    let key: [u8; 32] = rand::random();
                    let _p = gate.enter(key);
                    let n = inside.fetch_add(1, Ordering::SeqCst) + 1;
                    most.fetch_max(n, Ordering::SeqCst);
                    std::thread::sleep(Duration::from_millis(20));
                    inside.fetch_sub(1, Ordering::SeqCst);
                })
            })
            .collect();
        for t in threads {
            t.join().expect("thread");
        }
        assert_eq!(most.load(Ordering::SeqCst), 2);
    }

    #[test]
    fn cache_expires() {
        let store: Arc<dyn Store> = Arc::new(MemoryStore::new());
        add_user(store.as_ref(), "bob", "pw", vec![], true).expect("add");
        let auth = StoreAuthenticator::new(store, Duration::from_millis(0)).expect("auth");
        auth.authenticate(Some(&basic("bob", "pw"))).expect("ok");
        assert_eq!(auth.authenticate_cached(&basic("bob", "pw")), None);
        auth.authenticate(Some(&basic("bob", "pw"))).expect("ok");
        assert_eq!(auth.verifications(), 2, "a zero TTL caches nothing");
    }
}
