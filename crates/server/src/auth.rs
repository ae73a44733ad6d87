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
use std::net::IpAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use base64::Engine;
use hmac::{Hmac, KeyInit, Mac};
use sha2::{Digest, Sha256};
use sightline_store::{AccountStore, ApiToken, StoreError, User};
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

/// The shortest password [`check_password`] accepts, in characters.
pub const MIN_PASSWORD_CHARS: usize = 12;

/// Passwords of at least [`MIN_PASSWORD_CHARS`] that guessing lists try
/// first (compared ignoring case). Shorter common ones fail on length.
const COMMON_PASSWORDS: &[&str] = &[
    "000000000000",
    "111111111111",
    "123123123123",
    "123456789012",
    "1234567890123",
    "12345678901234",
    "123456789abc",
    "1q2w3e4r5t6y",
    "1qaz2wsx3edc",
    "1qaz2wsx3edc4rfv",
    "aaaaaaaaaaaa",
    "abc123456789",
    "abcdefghijkl",
    "abcd12345678",
    "admin1234567",
    "administrator",
    "administrator1",
    "changeme1234",
    "changemenow!",
    "correcthorsebatterystaple",
    "football1234",
    "iloveyou1234",
    "letmein12345",
    "letmeinletmein",
    "monkey123456",
    "p@ssw0rd1234",
    "p@ssword1234",
    "passw0rd1234",
    "password1234",
    "password123!",
    "password12345",
    "password123456",
    "passwordpassword",
    "qwerty123456",
    "qwertyqwerty",
    "qwertyuiop12",
    "qwertyuiop123",
    "qwertyuiopasdf",
    "sightline1234",
    "sightlinesightline",
    "superman1234",
    "trustno1trustno1",
    "welcome12345",
    "welcome123456",
];

/// The password policy for new accounts: at least [`MIN_PASSWORD_CHARS`]
/// characters, not the user name, not in a built-in list of common
/// passwords. The message says what to do instead.
pub fn check_password(name: &str, password: &str) -> Result<(), StoreError> {
    let chars = password.chars().count();
    if chars < MIN_PASSWORD_CHARS {
        return Err(StoreError::Invalid(format!(
            "the password is too short ({chars} characters): use at least \
             {MIN_PASSWORD_CHARS}, for example a few unrelated words"
        )));
    }
    let lower = password.to_lowercase();
    if lower == name.to_lowercase() {
        return Err(StoreError::Invalid(
            "the password is the user name: choose another".into(),
        ));
    }
    if COMMON_PASSWORDS.contains(&lower.as_str())
        || password
            .chars()
            .next()
            .is_some_and(|first| password.chars().all(|c| c == first))
    {
        return Err(StoreError::Invalid(
            "the password is one of the most common passwords, which are guessed first: \
             choose another"
                .into(),
        ));
    }
    Ok(())
}

/// Adds a user with a hashed password, after [`check_password`].
pub fn add_user(
    store: &dyn AccountStore,
    name: &str,
    password: &str,
    groups: Vec<String>,
    admin: bool,
) -> Result<(), StoreError> {
    check_password(name, password)?;
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

/// Creates an API token for `user` that never expires; see [`create_token_expiring`].
pub fn create_token(store: &dyn AccountStore, user: &str) -> Result<NewToken, StoreError> {
    create_token_expiring(store, user, None)
}

/// Creates an API token for `user`: a random 16-hex-digit id and a 256-bit
/// secret; the store keeps only the secret's SHA-256. With `valid_for`, it
/// is refused from that long after now.
pub fn create_token_expiring(
    store: &dyn AccountStore,
    user: &str,
    valid_for: Option<Duration>,
) -> Result<NewToken, StoreError> {
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
        expires: valid_for.map(|d| created.saturating_add(d.as_secs())),
        last_used: None,
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
    /// Only the accounts: the authenticator reads users and tokens, nothing else.
    store: Arc<dyn AccountStore>,
    ttl: Duration,
    key: [u8; 32],
    cache: Mutex<Cache>,
    /// Set while one caller reads the accounts generation (single flight).
    refreshing: AtomicBool,
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
    pub fn new(
        store: Arc<dyn AccountStore>,
        ttl: Duration,
    ) -> Result<StoreAuthenticator, StoreError> {
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
            refreshing: AtomicBool::new(false),
            verifications: AtomicU64::new(0),
            gate: Gate::new(std::thread::available_parallelism().map_or(2, usize::from)),
            dummy_hash: hash_password(&crate::config::to_hex(&dummy))?,
        })
    }

    /// Whether `header` has a cached answer (verified or refused) that has
    /// not expired: answering it costs no argon2 run. The generation check
    /// is not done here: this only decides that a request skips the failure
    /// throttle; `authenticate` still decides who it is.
    pub fn is_cached(&self, header: &str) -> bool {
        let key = self.cache_key(header);
        let now = Instant::now();
        let c = self.cache.lock().unwrap_or_else(PoisonError::into_inner);
        c.entries.get(&key).is_some_and(|e| e.expires > now)
    }

    /// How many argon2 verifications ran (the cost the cache saves). Also
    /// exported as `sightline_password_verifications_total`.
    pub fn verifications(&self) -> u64 {
        self.verifications.load(Ordering::Relaxed)
    }

    fn cache_key(&self, header: &str) -> [u8; 32] {
        // HMAC accepts keys of any length; this cannot fail.
        let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(&self.key)
            .unwrap_or_else(|_| unreachable!("HMAC takes any key length"));
        mac.update(header.as_bytes());
        mac.finalize().into_bytes().into()
    }

    /// The cached answer for `key`: `Ok(Some)` verified, `Err(Invalid)`
    /// refused, `Ok(None)` not known. When the accounts generation is due,
    /// one caller reads it (a store query, up to the PostgreSQL connect
    /// timeout when the database hangs) without holding the cache lock; the
    /// others answer from the cache meanwhile, so a hung database stalls
    /// only that caller, not every authenticated request.
    fn cached(&self, key: &[u8; 32]) -> Result<Option<Principal>, AuthError> {
        if self.generation_due(Instant::now()) {
            if let Some(_refresh) = Refresh::start(&self.refreshing) {
                let g = self
                    .store
                    .accounts_generation()
                    .map_err(|e| AuthError::Unavailable(e.to_string()))?;
                let mut c = self.cache.lock().unwrap_or_else(PoisonError::into_inner);
                c.checked = Some(Instant::now());
                if g != c.generation {
                    c.generation = g;
                    c.entries.clear();
                }
            }
        }
        let now = Instant::now();
        let mut c = self.cache.lock().unwrap_or_else(PoisonError::into_inner);
        match c.entries.get(key) {
            Some(e) if e.expires > now => e.principal.clone().map(Some).ok_or(AuthError::Invalid),
            Some(_) => {
                c.entries.remove(key);
                Ok(None)
            }
            None => Ok(None),
        }
    }

    /// Whether the accounts generation should be re-read.
    fn generation_due(&self, now: Instant) -> bool {
        let c = self.cache.lock().unwrap_or_else(PoisonError::into_inner);
        c.checked
            .is_none_or(|t| now.duration_since(t) >= GENERATION_CHECK)
    }

    /// Caches an answer for the TTL, or less when `left` (a token's time to
    /// expiry) is shorter: an expiring token is not trusted past its end.
    fn remember(
        &self,
        key: [u8; 32],
        principal: Option<&Principal>,
        generation: u64,
        left: Option<Duration>,
    ) {
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
                expires: now + left.map_or(self.ttl, |l| l.min(self.ttl)),
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

    /// The token's user, and its time left when it expires. Notes the use in
    /// the store at most once a minute per token (verification runs only on
    /// cache misses, so `last_used` is exact to the cache TTL).
    fn verify_token(&self, text: &str) -> Result<(Principal, Option<Duration>), AuthError> {
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
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        if !same || token.revoked || token.expired(now) {
            return Err(AuthError::Invalid);
        }
        if token.last_used.is_none_or(|l| now >= l.saturating_add(60)) {
            // Bookkeeping: a failure to note it must not refuse the request.
            if let Err(e) = self.store.touch_token(&token.id, now) {
                tracing::debug!(error = %e, "token use not recorded");
            }
        }
        let left = token
            .expires
            .map(|e| Duration::from_secs(e.saturating_sub(now)));
        let user = self
            .store
            .user(&token.user)
            .map_err(unavailable)?
            .ok_or(AuthError::Invalid)?;
        Ok((Self::principal(user), left))
    }
}

/// The one caller reading the accounts generation; the flag is cleared when
/// it is dropped, on success, error or unwind alike.
struct Refresh<'a>(&'a AtomicBool);

impl<'a> Refresh<'a> {
    fn start(flag: &'a AtomicBool) -> Option<Refresh<'a>> {
        flag.compare_exchange(false, true, Ordering::AcqRel, Ordering::Acquire)
            .ok()
            .map(|_| Refresh(flag))
    }
}

impl Drop for Refresh<'_> {
    fn drop(&mut self) {
        self.0.store(false, Ordering::Release);
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
        // that, and the possible purge, to `authenticate`, unless another
        // caller is reading it already (then answer from the cache, as
        // `cached` does meanwhile).
        if c.checked
            .is_none_or(|t| now.duration_since(t) >= GENERATION_CHECK)
            && !self.refreshing.load(Ordering::Acquire)
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
            self.verify_basic(rest).map(|p| (p, None))
        } else if scheme.eq_ignore_ascii_case("bearer") {
            self.verify_token(rest)
        } else {
            return Err(AuthError::Malformed);
        };
        match verified {
            Ok((principal, left)) => {
                self.remember(key, Some(&principal), generation, left);
                Ok(Some(principal))
            }
            Err(AuthError::Invalid) => {
                self.remember(key, None, generation, None);
                Err(AuthError::Invalid)
            }
            // Malformed costs nothing to find again; Unavailable must be
            // retried.
            Err(e) => Err(e),
        }
    }
}

/// Failed authentications per client address, as token buckets: each
/// request whose credentials are not already cached as good takes a token
/// before it may reach argon2, and gets it back unless it ends in a 401.
/// An empty bucket is a 429 with `Retry-After`, answered without verifying
/// anything: random Basic credentials from one address then cost one argon2
/// run per refill interval, not one per request (issue 12 §3).
///
/// Taking the token before verifying (not after a failure) also bounds how
/// many verifications one address has in flight at once to the burst.
/// IPv6 addresses are keyed by their /64, what one host usually holds.
pub struct AuthThrottle {
    burst: f64,
    per_sec: f64,
    max_addresses: usize,
    buckets: Mutex<HashMap<IpAddr, Bucket>>,
}

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    last: Instant,
}

impl std::fmt::Debug for AuthThrottle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuthThrottle")
            .field("burst", &self.burst)
            .field("per_sec", &self.per_sec)
            .finish_non_exhaustive()
    }
}

/// Addresses tracked at most by default; past it the longest-untouched
/// eighth is forgotten (a forgotten address starts with a full bucket).
pub const THROTTLE_MAX_ADDRESSES: usize = 100_000;

impl AuthThrottle {
    /// `burst` failures at once, then `per_sec` per second.
    pub fn new(burst: u32, per_sec: f64, max_addresses: usize) -> Self {
        AuthThrottle {
            burst: f64::from(burst.max(1)),
            per_sec: if per_sec.is_finite() && per_sec > 0.0 {
                per_sec
            } else {
                1.0
            },
            max_addresses: max_addresses.max(1),
            buckets: Mutex::new(HashMap::new()),
        }
    }

    fn key(ip: IpAddr) -> IpAddr {
        match ip.to_canonical() {
            IpAddr::V6(v6) => {
                let bits = u128::from(v6) & !((1u128 << 64) - 1);
                IpAddr::V6(std::net::Ipv6Addr::from(bits))
            }
            v4 => v4,
        }
    }

    /// Takes one token for `ip`, or says how long until one is back.
    pub fn take(&self, ip: IpAddr) -> Result<(), Duration> {
        self.take_at(ip, Instant::now())
    }

    fn take_at(&self, ip: IpAddr, now: Instant) -> Result<(), Duration> {
        let key = Self::key(ip);
        let mut map = self.buckets.lock().unwrap_or_else(PoisonError::into_inner);
        if !map.contains_key(&key) && map.len() >= self.max_addresses {
            self.evict(&mut map, now);
        }
        let b = map.entry(key).or_insert(Bucket {
            tokens: self.burst,
            last: now,
        });
        let elapsed = now.saturating_duration_since(b.last).as_secs_f64();
        b.tokens = (b.tokens + elapsed * self.per_sec).min(self.burst);
        b.last = now;
        if b.tokens >= 1.0 {
            b.tokens -= 1.0;
            Ok(())
        } else {
            Err(Duration::from_secs_f64((1.0 - b.tokens) / self.per_sec))
        }
    }

    /// Gives back the token of a request that did not fail authentication.
    pub fn refund(&self, ip: IpAddr) {
        let mut map = self.buckets.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(b) = map.get_mut(&Self::key(ip)) {
            b.tokens = (b.tokens + 1.0).min(self.burst);
        }
    }

    /// Makes room: buckets that have refilled are like new ones and go
    /// first; then the longest-untouched eighth (one pass, amortised over
    /// the next inserts).
    fn evict(&self, map: &mut HashMap<IpAddr, Bucket>, now: Instant) {
        let (burst, per_sec) = (self.burst, self.per_sec);
        map.retain(|_, b| {
            b.tokens + now.saturating_duration_since(b.last).as_secs_f64() * per_sec < burst
        });
        if map.len() < self.max_addresses {
            return;
        }
        let mut lasts: Vec<Instant> = map.values().map(|b| b.last).collect();
        let nth = lasts.len() / 8;
        let (_, cut, _) = lasts.select_nth_unstable(nth);
        let cut = *cut;
        map.retain(|_, b| b.last > cut);
    }

    #[cfg(test)]
    fn tracked(&self) -> usize {
        self.buckets
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }
}

/// What the failure-throttle middleware needs.
#[derive(Debug, Clone)]
pub(crate) struct ThrottleState {
    pub(crate) auth: Arc<StoreAuthenticator>,
    pub(crate) throttle: Arc<AuthThrottle>,
    /// Headers (by cache key) with a request between the throttle and its
    /// answer, and how many. Only the first request for a header takes a
    /// token: the others wait for its one verification (the gate) and find
    /// the answer cached, so 500 workers of one connector starting at once,
    /// or a credential whose cache entry expired, cost one token, not 500.
    pub(crate) pending: Arc<Mutex<HashMap<[u8; 32], usize>>>,
}

/// Counts a request off [`ThrottleState::pending`] when it ends (or is dropped).
struct Pending {
    map: Arc<Mutex<HashMap<[u8; 32], usize>>>,
    key: [u8; 32],
}

impl Pending {
    /// Counts a request in; true when it is the only one for its header.
    fn enter(map: &Arc<Mutex<HashMap<[u8; 32], usize>>>, key: [u8; 32]) -> (Pending, bool) {
        let mut m = map.lock().unwrap_or_else(PoisonError::into_inner);
        let n = m.entry(key).or_insert(0);
        *n += 1;
        let first = *n == 1;
        drop(m);
        (
            Pending {
                map: map.clone(),
                key,
            },
            first,
        )
    }
}

impl Drop for Pending {
    fn drop(&mut self) {
        let mut m = self.map.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(n) = m.get_mut(&self.key) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                m.remove(&self.key);
            }
        }
    }
}

/// Middleware: requests with an `Authorization` header that has no cached
/// answer pass [`AuthThrottle`] for their client address (from the accept
/// loop's `ConnectInfo`). Cached credentials, good or refused, cost no
/// argon2 run and pass (a connector retrying a stale password keeps getting
/// its 401); requests without credentials are not counted.
pub(crate) async fn throttle_failures(
    axum::extract::State(st): axum::extract::State<ThrottleState>,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use axum::extract::ConnectInfo;
    use axum::http::{header, StatusCode};
    let Some(value) = req.headers().get(header::AUTHORIZATION) else {
        return next.run(req).await;
    };
    let Some(ConnectInfo(peer)) = req
        .extensions()
        .get::<ConnectInfo<std::net::SocketAddr>>()
        .copied()
    else {
        return next.run(req).await;
    };
    let Ok(header) = value.to_str() else {
        return next.run(req).await; // refused as malformed, no argon2
    };
    if st.auth.is_cached(header) {
        return next.run(req).await;
    }
    let (_pending, first) = Pending::enter(&st.pending, st.auth.cache_key(header));
    if !first {
        return next.run(req).await;
    }
    let ip = peer.ip();
    if let Err(wait) = st.throttle.take(ip) {
        metrics::counter!("sightline_auth_throttled_total").increment(1);
        tracing::debug!(%peer, "too many failed authentications from this address: 429");
        let secs = wait.as_secs().max(1);
        return too_many_requests(secs);
    }
    let response = next.run(req).await;
    if response.status() != StatusCode::UNAUTHORIZED {
        st.throttle.refund(ip);
    }
    response
}

/// A TAXII error message (§3.6.1) with status 429 and `Retry-After`.
fn too_many_requests(retry_after_secs: u64) -> axum::response::Response {
    use axum::http::{header, HeaderValue, StatusCode};
    use axum::response::IntoResponse;
    let body = serde_json::json!({
        "title": "Too many requests",
        "description": format!(
            "too many failed authentications from your address; retry in {retry_after_secs} s"
        ),
        "http_status": "429",
    })
    .to_string();
    let mut r = (StatusCode::TOO_MANY_REQUESTS, body).into_response();
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(sightline_taxii::TAXII_CONTENT_TYPE),
    );
    h.insert(header::RETRY_AFTER, HeaderValue::from(retry_after_secs));
    r
}

#[cfg(test)]
mod tests {
    use super::*;
    use sightline_store::{MemoryStore, Store};

    const BOB_PW: &str = "bob-passphrase-ok";
    const CAROL_PW: &str = "carol-passphrase-ok";

    fn basic(user: &str, pw: &str) -> String {
        format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(format!("{user}:{pw}"))
        )
    }

    #[test]
    fn basic_tokens_and_cache() {
        let store: Arc<dyn Store> = Arc::new(MemoryStore::new());
        add_user(
            store.as_ref(),
            "bob",
            "s3cret:x-long-enough",
            vec!["g".into()],
            false,
        )
        .expect("add");
        let auth = StoreAuthenticator::new(store.clone(), Duration::from_secs(300)).expect("auth");
        assert_eq!(auth.authenticate(None), Ok(None));
        let p = auth
            .authenticate(Some(&basic("bob", "s3cret:x-long-enough")))
            .expect("ok")
            .expect("principal");
        assert_eq!(
            (p.name.as_str(), p.groups.clone(), p.admin),
            ("bob", vec!["g".to_owned()], false)
        );
        for _ in 0..50 {
            auth.authenticate(Some(&basic("bob", "s3cret:x-long-enough")))
                .expect("cached");
        }
        assert_eq!(auth.verifications(), 1, "argon2 runs once per credential");
        assert_eq!(
            auth.authenticate_cached(&basic("bob", "s3cret:x-long-enough"))
                .map(|p| p.name),
            Some("bob".into()),
            "a verified header is answered without blocking"
        );
        assert_eq!(auth.authenticate_cached(&basic("bob", "wrong")), None);
        auth.cache.lock().expect("lock").checked = None;
        assert_eq!(
            auth.authenticate_cached(&basic("bob", "s3cret:x-long-enough")),
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
            auth.authenticate(Some(&basic("carol", CAROL_PW))),
            Err(AuthError::Invalid)
        );
        add_user(store.as_ref(), "carol", CAROL_PW, vec![], false).expect("add carol");
        auth.cache.lock().expect("lock").checked = None;
        assert_eq!(
            auth.authenticate(Some(&basic("carol", CAROL_PW)))
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
            auth.authenticate(Some(&basic("bob", "s3cret:x-long-enough"))),
            Err(AuthError::Invalid)
        );
    }

    /// A stampede of one header (1,000 connections whose cache entry just
    /// expired) verifies once; distinct headers verify at most one per gate
    /// permit at a time (argon2 takes 19 MiB each).
    #[test]
    fn concurrent_requests_share_one_verification() {
        let store: Arc<dyn Store> = Arc::new(MemoryStore::new());
        add_user(store.as_ref(), "bob", BOB_PW, vec![], false).expect("add");
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
        for got in stampede(basic("bob", BOB_PW)) {
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
        add_user(store.as_ref(), "bob", BOB_PW, vec![], true).expect("add");
        let auth = StoreAuthenticator::new(store, Duration::from_millis(0)).expect("auth");
        auth.authenticate(Some(&basic("bob", BOB_PW))).expect("ok");
        assert_eq!(auth.authenticate_cached(&basic("bob", BOB_PW)), None);
        auth.authenticate(Some(&basic("bob", BOB_PW))).expect("ok");
        assert_eq!(auth.verifications(), 2, "a zero TTL caches nothing");
    }

    #[test]
    fn password_policy() {
        let store = MemoryStore::new();
        let refused = |pw: &str| match add_user(&store, "alice", pw, vec![], false) {
            Err(StoreError::Invalid(m)) => m,
            other => panic!("{pw:?} accepted: {other:?}"),
        };
        assert!(refused("").contains("at least 12"));
        assert!(refused("s3cret!x").contains("too short (8 characters)"));
        // 11 characters, counted as characters, not bytes.
        assert!(refused("ééééééééééx").contains("too short"));
        assert!(refused("Password1234").contains("common"));
        assert!(refused("QWERTYUIOP12").contains("common"));
        assert!(refused("zzzzzzzzzzzzzzzz").contains("common"));
        assert!(refused("alicealice").contains("short"));
        assert!(
            store.user("alice").expect("read").is_none(),
            "nothing stored"
        );
        add_user(&store, "alice", "plum tractor evening", vec![], false).expect("a good one");
        assert!(check_password("administrator1", "administrator1").is_err());
    }

    /// Issue 12 §3: failed authentications from one address beyond the
    /// burst are refused for the refill time; other addresses are not
    /// affected; successes give their token back.
    #[test]
    fn throttle_buckets() {
        let t = AuthThrottle::new(3, 1.0, 100);
        let a: IpAddr = "192.0.2.1".parse().expect("ip");
        let b: IpAddr = "192.0.2.2".parse().expect("ip");
        let t0 = Instant::now();
        for _ in 0..3 {
            t.take_at(a, t0).expect("within the burst");
        }
        let wait = t.take_at(a, t0).expect_err("beyond the burst");
        assert!(wait <= Duration::from_secs(1) && wait > Duration::ZERO);
        t.take_at(b, t0)
            .expect("another address has its own bucket");
        t.take_at(a, t0 + Duration::from_millis(1_100))
            .expect("refilled after a second");
        assert!(t.take_at(a, t0 + Duration::from_millis(1_200)).is_err());
        t.refund(a);
        t.take_at(a, t0 + Duration::from_millis(1_200))
            .expect("a refunded token");
        // IPv4-mapped IPv6 is the IPv4 address; one /64 is one bucket.
        let mapped: IpAddr = "::ffff:192.0.2.1".parse().expect("ip");
        assert!(t
            .take_at(mapped, t0 + Duration::from_millis(1_200))
            .is_err());
        let v6a: IpAddr = "2001:db8:1:2::1".parse().expect("ip");
        let v6b: IpAddr = "2001:db8:1:2:ffff::9".parse().expect("ip");
        for _ in 0..3 {
            t.take_at(v6a, t0).expect("burst");
        }
        assert!(t.take_at(v6b, t0).is_err(), "same /64");
    }

    #[test]
    fn throttle_map_is_bounded() {
        let t = AuthThrottle::new(2, 1.0, 64);
        let t0 = Instant::now();
        let hot: IpAddr = "198.51.100.7".parse().expect("ip");
        t.take_at(hot, t0).expect("one");
        t.take_at(hot, t0).expect("two");
        for i in 0..10_000u32 {
            let ip = IpAddr::V4(std::net::Ipv4Addr::from(0x0a00_0000 + i));
            let _ = t.take_at(ip, t0 + Duration::from_micros(u64::from(i) + 1));
            assert!(t.tracked() <= 64, "at most the bound");
        }
        // The hot address was the oldest: forgotten, it starts over full.
        let later = t0 + Duration::from_millis(20);
        t.take_at(hot, later).expect("evicted, so a fresh bucket");
    }

    #[test]
    fn cached_answers_are_known() {
        let store: Arc<dyn Store> = Arc::new(MemoryStore::new());
        add_user(store.as_ref(), "bob", BOB_PW, vec![], false).expect("add");
        let auth = StoreAuthenticator::new(store, Duration::from_secs(300)).expect("auth");
        assert!(!auth.is_cached(&basic("bob", BOB_PW)), "not yet verified");
        auth.authenticate(Some(&basic("bob", BOB_PW))).expect("ok");
        assert!(auth.is_cached(&basic("bob", BOB_PW)));
        assert!(!auth.is_cached(&basic("bob", "wrong")));
        let _ = auth.authenticate(Some(&basic("bob", "wrong")));
        assert!(
            auth.is_cached(&basic("bob", "wrong")),
            "a refusal is known too"
        );
    }

    /// A store whose `accounts_generation` blocks, once armed, until the
    /// test releases it: a database that hangs (up to the PostgreSQL connect
    /// timeout in production).
    struct StalledStore {
        inner: MemoryStore,
        armed: std::sync::atomic::AtomicBool,
        entered: Mutex<std::sync::mpsc::Sender<()>>,
        release: Mutex<std::sync::mpsc::Receiver<()>>,
    }

    impl AccountStore for StalledStore {
        fn add_user(&self, user: &User) -> sightline_store::Result<()> {
            self.inner.add_user(user)
        }
        fn remove_user(&self, name: &str) -> sightline_store::Result<bool> {
            self.inner.remove_user(name)
        }
        fn users(&self) -> sightline_store::Result<Vec<User>> {
            self.inner.users()
        }
        fn user(&self, name: &str) -> sightline_store::Result<Option<User>> {
            self.inner.user(name)
        }
        fn create_token(&self, token: &ApiToken) -> sightline_store::Result<()> {
            self.inner.create_token(token)
        }
        fn revoke_token(&self, id: &str) -> sightline_store::Result<bool> {
            self.inner.revoke_token(id)
        }
        fn token(&self, id: &str) -> sightline_store::Result<Option<ApiToken>> {
            self.inner.token(id)
        }
        fn tokens(&self, user: Option<&str>) -> sightline_store::Result<Vec<ApiToken>> {
            self.inner.tokens(user)
        }
        fn accounts_generation(&self) -> sightline_store::Result<u64> {
            if self.armed.swap(false, Ordering::SeqCst) {
                let _ = self.entered.lock().expect("lock").send(());
                let _ = self.release.lock().expect("lock").recv();
            }
            self.inner.accounts_generation()
        }
        fn touch_token(&self, id: &str, at: u64) -> sightline_store::Result<()> {
            self.inner.touch_token(id, at)
        }
    }

    #[test]
    fn stalled_generation_read_does_not_block_cached_answers() {
        let (entered_tx, entered_rx) = std::sync::mpsc::channel();
        let (release_tx, release_rx) = std::sync::mpsc::channel();
        let store = Arc::new(StalledStore {
            inner: MemoryStore::new(),
            armed: std::sync::atomic::AtomicBool::new(false),
            entered: Mutex::new(entered_tx),
            release: Mutex::new(release_rx),
        });
        add_user(&store.inner, "bob", BOB_PW, vec![], false).expect("add");
        let auth = Arc::new(
            StoreAuthenticator::new(store.clone(), Duration::from_secs(300)).expect("auth"),
        );
        let header = basic("bob", BOB_PW);
        auth.authenticate(Some(&header)).expect("ok").expect("bob");

        // The generation is due; the next read of it hangs.
        auth.cache.lock().expect("lock").checked = None;
        store.armed.store(true, Ordering::SeqCst);
        let stuck = {
            let (auth, header) = (auth.clone(), header.clone());
            std::thread::spawn(move || auth.authenticate(Some(&header)))
        };
        entered_rx
            .recv_timeout(Duration::from_secs(10))
            .expect("the first caller reads the generation");

        // Meanwhile another request with the cached header is answered.
        let (done_tx, done_rx) = std::sync::mpsc::channel();
        let other = {
            let (auth, header) = (auth.clone(), header.clone());
            std::thread::spawn(move || {
                let fast = auth.authenticate_cached(&header).map(|p| p.name);
                let full = auth.authenticate(Some(&header)).map(|p| p.map(|p| p.name));
                let _ = done_tx.send((fast, full));
            })
        };
        let got = done_rx.recv_timeout(Duration::from_secs(2));
        let _ = release_tx.send(());
        let first = stuck.join().expect("thread");
        other.join().expect("thread");
        let (fast, full) = got.expect("a cached header waits for no generation read");
        assert_eq!(fast.as_deref(), Some("bob"));
        assert_eq!(full, Ok(Some("bob".to_owned())));
        assert_eq!(first.map(|p| p.map(|p| p.name)), Ok(Some("bob".to_owned())));
        assert_eq!(auth.verifications(), 1, "no verification ran again");
        assert!(!auth.refreshing.load(Ordering::SeqCst), "the refresh ended");
        assert!(
            !auth.generation_due(Instant::now()),
            "the generation was read"
        );
    }
}
