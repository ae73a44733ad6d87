//! Users and API tokens (`users`, `tokens`; schema V2, expiry and last use V7).
//! Recording a token's use ([`AccountStore::touch_token`]) is no account
//! change: it commits without a generation bump.
//!
//! Every change runs on the writer connection in one IMMEDIATE transaction
//! that also bumps `meta.accounts_generation`, so another process (a running
//! server) sees the change and the new generation together.

use rusqlite::{params, Connection, OptionalExtension, Row, TransactionBehavior};
use sightline_store::{AccountStore, ApiToken, Result, StoreError, User};

use crate::{Ctx, SqliteStore};

const BUMP: &str = "INSERT INTO meta (key, value) VALUES ('accounts_generation', 1)
     ON CONFLICT (key) DO UPDATE SET value = value + 1";

impl SqliteStore {
    /// Runs `f` in a write transaction; commits (with a generation bump) when
    /// it returns `Ok(true)`, rolls back otherwise.
    fn accounts_change<T>(&self, f: impl FnOnce(&Connection) -> Result<(bool, T)>) -> Result<T> {
        if self.read_only {
            return Err(StoreError::no_space(format!(
                "{}: the store was opened read-only",
                self.path.display()
            )));
        }
        let mut conn = self.lock_writer();
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .ctx(&self.path)?;
        let (changed, out) = f(&tx)?;
        if changed {
            tx.execute(BUMP, []).ctx(&self.path)?;
            tx.commit().ctx(&self.path)?;
            self.wake_checkpointer();
        }
        Ok(out)
    }
}

fn user_from_row(r: &Row<'_>) -> rusqlite::Result<(String, String, String, bool)> {
    Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
}

type TokenRow = (String, String, Vec<u8>, i64, bool, Option<i64>, Option<i64>);

fn token_from_row(r: &Row<'_>) -> rusqlite::Result<TokenRow> {
    Ok((
        r.get(0)?,
        r.get(1)?,
        r.get(2)?,
        r.get(3)?,
        r.get(4)?,
        r.get(5)?,
        r.get(6)?,
    ))
}

/// Seconds since the epoch as SQLite stores them.
fn secs(v: u64, what: &str) -> Result<i64> {
    i64::try_from(v).map_err(|_| StoreError::Invalid(format!("token {what} out of range")))
}

impl SqliteStore {
    fn to_user(
        &self,
        (name, password_hash, groups, admin): (String, String, String, bool),
    ) -> Result<User> {
        let groups: Vec<String> = serde_json::from_str(&groups).map_err(|e| {
            StoreError::corrupt(format!(
                "{}: groups of user {name:?} are not a JSON list: {e}",
                self.path.display()
            ))
            .caused_by(e)
        })?;
        Ok(User {
            name,
            password_hash,
            groups,
            admin,
        })
    }

    fn to_token(
        &self,
        (id, user, secret, created, revoked, expires, last_used): TokenRow,
    ) -> Result<ApiToken> {
        let secret_sha256: [u8; 32] = secret.try_into().map_err(|_| {
            StoreError::corrupt(format!(
                "{}: token {id:?} has a malformed secret hash",
                self.path.display()
            ))
        })?;
        Ok(ApiToken {
            id,
            user,
            secret_sha256,
            created: u64::try_from(created).unwrap_or(0),
            revoked,
            expires: expires.map(|e| u64::try_from(e).unwrap_or(0)),
            last_used: last_used.map(|e| u64::try_from(e).unwrap_or(0)),
        })
    }
}

const USER_COLS: &str = "SELECT name, password_hash, groups, admin FROM users";
const TOKEN_COLS: &str =
    "SELECT id, user, secret_sha256, created, revoked, expires, last_used FROM tokens";

impl AccountStore for SqliteStore {
    fn add_user(&self, user: &User) -> Result<()> {
        user.validate()?;
        let groups =
            serde_json::to_string(&user.groups).map_err(|e| StoreError::Invalid(e.to_string()))?;
        self.accounts_change(|c| {
            let exists = c
                .query_row("SELECT 1 FROM users WHERE name = ?1", [&user.name], |_| {
                    Ok(())
                })
                .optional()
                .ctx(&self.path)?
                .is_some();
            if exists {
                return Err(StoreError::Invalid(format!(
                    "user {:?} already exists",
                    user.name
                )));
            }
            c.execute(
                "INSERT INTO users (name, password_hash, groups, admin) VALUES (?1, ?2, ?3, ?4)",
                params![user.name, user.password_hash, groups, user.admin],
            )
            .ctx(&self.path)?;
            Ok((true, ()))
        })
    }

    fn remove_user(&self, name: &str) -> Result<bool> {
        self.accounts_change(|c| {
            // Tokens go by ON DELETE CASCADE.
            let n = c
                .execute("DELETE FROM users WHERE name = ?1", [name])
                .ctx(&self.path)?;
            Ok((n > 0, n > 0))
        })
    }

    fn users(&self) -> Result<Vec<User>> {
        let conn = self.reader()?;
        let rows = conn
            .prepare_cached(&format!("{USER_COLS} ORDER BY name"))
            .and_then(|mut s| {
                s.query_map([], user_from_row)?
                    .collect::<rusqlite::Result<Vec<_>>>()
            })
            .ctx(&self.path)?;
        rows.into_iter().map(|r| self.to_user(r)).collect()
    }

    fn user(&self, name: &str) -> Result<Option<User>> {
        let conn = self.reader()?;
        let row = conn
            .prepare_cached(&format!("{USER_COLS} WHERE name = ?1"))
            .and_then(|mut s| s.query_row([name], user_from_row).optional())
            .ctx(&self.path)?;
        row.map(|r| self.to_user(r)).transpose()
    }

    fn create_token(&self, token: &ApiToken) -> Result<()> {
        token.validate()?;
        let created = secs(token.created, "creation time")?;
        let expires = token.expires.map(|e| secs(e, "expiry")).transpose()?;
        let last_used = token.last_used.map(|e| secs(e, "last use")).transpose()?;
        self.accounts_change(|c| {
            let user = c
                .query_row("SELECT 1 FROM users WHERE name = ?1", [&token.user], |_| {
                    Ok(())
                })
                .optional()
                .ctx(&self.path)?;
            if user.is_none() {
                return Err(StoreError::Invalid(format!("no user {:?}", token.user)));
            }
            let taken = c
                .query_row(
                    "SELECT 1 FROM tokens WHERE id = ?1",
                    [&token.id],
                    |_| Ok(()),
                )
                .optional()
                .ctx(&self.path)?;
            if taken.is_some() {
                return Err(StoreError::Invalid(format!(
                    "token id {:?} is taken",
                    token.id
                )));
            }
            c.execute(
                "INSERT INTO tokens (id, user, secret_sha256, created, revoked, expires, last_used)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                params![
                    token.id,
                    token.user,
                    &token.secret_sha256[..],
                    created,
                    token.revoked,
                    expires,
                    last_used
                ],
            )
            .ctx(&self.path)?;
            Ok((true, ()))
        })
    }

    fn revoke_token(&self, id: &str) -> Result<bool> {
        self.accounts_change(|c| {
            let n = c
                .execute(
                    "UPDATE tokens SET revoked = 1 WHERE id = ?1 AND revoked = 0",
                    [id],
                )
                .ctx(&self.path)?;
            Ok((n > 0, n > 0))
        })
    }

    fn token(&self, id: &str) -> Result<Option<ApiToken>> {
        let conn = self.reader()?;
        let row = conn
            .prepare_cached(&format!("{TOKEN_COLS} WHERE id = ?1"))
            .and_then(|mut s| s.query_row([id], token_from_row).optional())
            .ctx(&self.path)?;
        row.map(|r| self.to_token(r)).transpose()
    }

    fn tokens(&self, user: Option<&str>) -> Result<Vec<ApiToken>> {
        let conn = self.reader()?;
        let rows = conn
            .prepare_cached(&format!(
                "{TOKEN_COLS} WHERE ?1 IS NULL OR user = ?1 ORDER BY created, id"
            ))
            .and_then(|mut s| {
                s.query_map([user], token_from_row)?
                    .collect::<rusqlite::Result<Vec<_>>>()
            })
            .ctx(&self.path)?;
        rows.into_iter().map(|r| self.to_token(r)).collect()
    }

    fn accounts_generation(&self) -> Result<u64> {
        let conn = self.reader()?;
        let g: Option<i64> = conn
            .prepare_cached("SELECT value FROM meta WHERE key = 'accounts_generation'")
            .and_then(|mut s| s.query_row([], |r| r.get(0)).optional())
            .ctx(&self.path)?;
        Ok(g.map_or(0, |g| u64::try_from(g).unwrap_or(0)))
    }

    fn touch_token(&self, id: &str, at: u64) -> Result<()> {
        let at = secs(at, "last use")?;
        // A read-only store serves requests; it just cannot note them.
        if self.read_only {
            return Ok(());
        }
        let conn = self.lock_writer();
        conn.prepare_cached(
            "UPDATE tokens SET last_used = ?2
             WHERE id = ?1 AND (last_used IS NULL OR last_used < ?2)",
        )
        .and_then(|mut s| s.execute(params![id, at]))
        .ctx(&self.path)?;
        Ok(())
    }
}
