//! Accounts: users (for HTTP Basic) and API tokens (for Bearer), kept in the
//! store so the CLI (`sightline user|token`) and a running server share them.
//!
//! The store keeps only what it must: a user's password as an argon2 PHC
//! string and a token's secret as its SHA-256. Hashing and verifying belong to
//! the server; the store never sees a password or a token secret.
//!
//! [`AccountStore::accounts_generation`] changes on every change (also one
//! made by another process on the same store), so a server caching verified
//! credentials can drop its cache when a user is removed or a token revoked.

use crate::{Result, StoreError};

/// A user who may sign in with HTTP Basic.
#[derive(Clone, PartialEq, Eq)]
pub struct User {
    /// Unique; see [`validate_user_name`].
    pub name: String,
    /// An argon2 PHC string (`$argon2id$v=19$...`).
    pub password_hash: String,
    /// Group names, used by collection permissions as `group:NAME`.
    pub groups: Vec<String>,
    /// May read and write every collection.
    pub admin: bool,
}

// Not derived: even a password hash stays out of logs and panic messages.
impl std::fmt::Debug for User {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("User")
            .field("name", &self.name)
            .field("groups", &self.groups)
            .field("admin", &self.admin)
            .finish_non_exhaustive()
    }
}

/// An API token. The token a client sends is `sl_<id>_<secret>`; only the
/// SHA-256 of the secret is stored.
#[derive(Clone, PartialEq, Eq)]
pub struct ApiToken {
    /// Unique, public (shown by listings, used to revoke).
    pub id: String,
    /// The user the token acts as (must exist).
    pub user: String,
    pub secret_sha256: [u8; 32],
    /// Creation time, seconds since the Unix epoch.
    pub created: u64,
    pub revoked: bool,
    /// When it stops working, seconds since the Unix epoch (`None`: never).
    pub expires: Option<u64>,
    /// When it last authenticated a request, seconds since the Unix epoch, as
    /// recorded by [`AccountStore::touch_token`] (at most once a minute).
    pub last_used: Option<u64>,
}

impl std::fmt::Debug for ApiToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApiToken")
            .field("id", &self.id)
            .field("user", &self.user)
            .field("created", &self.created)
            .field("revoked", &self.revoked)
            .field("expires", &self.expires)
            .field("last_used", &self.last_used)
            .finish_non_exhaustive()
    }
}

/// Checks a user name: 1-64 characters, no colon (HTTP Basic splits
/// `name:password` at the first one), no whitespace or control characters,
/// and not starting with `group:` (permission lists use that prefix).
pub fn validate_user_name(name: &str) -> Result<()> {
    let ok = !name.is_empty()
        && name.chars().count() <= 64
        && !name.contains(':')
        && !name.chars().any(|c| c.is_whitespace() || c.is_control());
    if ok {
        Ok(())
    } else {
        Err(StoreError::Invalid(format!(
            "user name {name:?} must be 1-64 characters without ':', spaces or control characters"
        )))
    }
}

/// Checks a group name: 1-64 characters, no whitespace or control characters.
pub fn validate_group_name(name: &str) -> Result<()> {
    let ok = !name.is_empty()
        && name.chars().count() <= 64
        && !name.chars().any(|c| c.is_whitespace() || c.is_control());
    if ok {
        Ok(())
    } else {
        Err(StoreError::Invalid(format!(
            "group name {name:?} must be 1-64 characters without spaces or control characters"
        )))
    }
}

impl User {
    /// Checks the name, groups and that the hash looks like a PHC string.
    pub fn validate(&self) -> Result<()> {
        validate_user_name(&self.name)?;
        for g in &self.groups {
            validate_group_name(g)?;
        }
        if !self.password_hash.starts_with('$') {
            return Err(StoreError::Invalid(
                "a password hash must be a PHC string".into(),
            ));
        }
        Ok(())
    }
}

impl ApiToken {
    /// Whether it has expired at `now` (seconds since the epoch).
    pub fn expired(&self, now: u64) -> bool {
        self.expires.is_some_and(|e| now >= e)
    }

    /// Token ids are what the `sl_<id>_<secret>` form can carry unambiguously:
    /// 1-64 ASCII letters and digits.
    pub fn validate(&self) -> Result<()> {
        let ok = !self.id.is_empty()
            && self.id.len() <= 64
            && self.id.bytes().all(|b| b.is_ascii_alphanumeric());
        if ok {
            Ok(())
        } else {
            Err(StoreError::Invalid(format!(
                "token id {:?} must be 1-64 ASCII letters or digits",
                self.id
            )))
        }
    }
}

/// Users and API tokens.
///
/// Errors: adding a user whose name exists, or a token for an unknown user or
/// with a taken id, is [`StoreError::Invalid`] (not a new variant, so code
/// matching on `StoreError` elsewhere keeps compiling).
pub trait AccountStore: Send + Sync {
    fn add_user(&self, user: &User) -> Result<()>;
    /// Removes a user and all their tokens. Returns false when there was none.
    fn remove_user(&self, name: &str) -> Result<bool>;
    /// All users, by name.
    fn users(&self) -> Result<Vec<User>>;
    fn user(&self, name: &str) -> Result<Option<User>>;
    fn create_token(&self, token: &ApiToken) -> Result<()>;
    /// Marks a token revoked (it stays listed). Returns false when there was
    /// none or it was already revoked.
    fn revoke_token(&self, id: &str) -> Result<bool>;
    fn token(&self, id: &str) -> Result<Option<ApiToken>>;
    /// All tokens (of `user`, when given), by creation time then id.
    fn tokens(&self, user: Option<&str>) -> Result<Vec<ApiToken>>;
    /// A number that changes whenever a user or token is added, removed or
    /// revoked, by this process or another one using the same store.
    fn accounts_generation(&self) -> Result<u64>;
    /// Records that token `id` authenticated a request at `at` (seconds since
    /// the epoch): its `last_used`, never moved back. Not an account change:
    /// the generation stays (credential caches are kept). No token: no-op.
    fn touch_token(&self, id: &str, at: u64) -> Result<()>;
}
