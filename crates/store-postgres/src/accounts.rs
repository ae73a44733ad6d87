//! Users and API tokens. Every change runs in one transaction that also bumps
//! `meta.accounts_generation`, so other replicas see the change and the new
//! generation together (and drop their credential caches).

use postgres::Row;
use sightline_store::{AccountStore, ApiToken, Result, StoreError, User};

use crate::{Conn, Ctx, PgStore};

const BUMP: &str = "UPDATE meta SET value = value + 1 WHERE key = 'accounts_generation'";

impl PgStore {
    /// Runs `f` in a transaction; commits (with a generation bump) when it
    /// returns `Ok((true, _))`, rolls back otherwise.
    fn accounts_change<T>(&self, f: impl FnOnce(&mut Conn) -> Result<(bool, T)>) -> Result<T> {
        let mut c = self.conn()?;
        c.batch("BEGIN").ctx(self)?;
        let out = f(&mut c).and_then(|(changed, out)| {
            if changed {
                c.execute(BUMP, &[]).ctx(self)?;
                c.batch("COMMIT").ctx(self)?;
            } else {
                c.batch("ROLLBACK").ctx(self)?;
            }
            Ok(out)
        });
        if out.is_err() && c.batch("ROLLBACK").is_err() {
            c.discard();
        }
        out
    }

    fn to_user(&self, r: &Row) -> Result<User> {
        let (name, password_hash, groups, admin): (String, String, String, bool) = (|| {
            Ok::<_, postgres::Error>((r.try_get(0)?, r.try_get(1)?, r.try_get(2)?, r.try_get(3)?))
        })()
        .ctx(self)?;
        let groups: Vec<String> = serde_json::from_str(&groups).map_err(|e| {
            StoreError::corrupt(format!(
                "{}: groups of user {name:?} are not a JSON list: {e}",
                self.label
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

    fn to_token(&self, r: &Row) -> Result<ApiToken> {
        type Cols = (String, String, Vec<u8>, i64, bool, Option<i64>, Option<i64>);
        let (id, user, secret, created, revoked, expires, last_used): Cols = (|| {
            Ok::<_, postgres::Error>((
                r.try_get(0)?,
                r.try_get(1)?,
                r.try_get(2)?,
                r.try_get(3)?,
                r.try_get(4)?,
                r.try_get(5)?,
                r.try_get(6)?,
            ))
        })()
        .ctx(self)?;
        let secret_sha256: [u8; 32] = secret.try_into().map_err(|_| {
            StoreError::corrupt(format!(
                "{}: token {id:?} has a malformed secret hash",
                self.label
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
    "SELECT id, \"user\", secret_sha256, created, revoked, expires, last_used FROM tokens";

/// Seconds since the epoch as PostgreSQL stores them (bigint).
fn secs(v: u64, what: &str) -> Result<i64> {
    i64::try_from(v).map_err(|_| StoreError::Invalid(format!("token {what} out of range")))
}

impl AccountStore for PgStore {
    fn add_user(&self, user: &User) -> Result<()> {
        user.validate()?;
        let groups =
            serde_json::to_string(&user.groups).map_err(|e| StoreError::Invalid(e.to_string()))?;
        self.accounts_change(|c| {
            let n = c
                .execute(
                    "INSERT INTO users (name, password_hash, groups, admin) VALUES ($1, $2, $3, $4)
                     ON CONFLICT (name) DO NOTHING",
                    &[&user.name, &user.password_hash, &groups, &user.admin],
                )
                .ctx(self)?;
            if n == 0 {
                return Err(StoreError::Invalid(format!(
                    "user {:?} already exists",
                    user.name
                )));
            }
            Ok((true, ()))
        })
    }

    fn remove_user(&self, name: &str) -> Result<bool> {
        self.accounts_change(|c| {
            // Tokens go by ON DELETE CASCADE.
            let n = c
                .execute("DELETE FROM users WHERE name = $1", &[&name])
                .ctx(self)?;
            Ok((n > 0, n > 0))
        })
    }

    fn users(&self) -> Result<Vec<User>> {
        let mut c = self.conn()?;
        let rows = c
            .query(&format!("{USER_COLS} ORDER BY name"), &[])
            .ctx(self)?;
        rows.iter().map(|r| self.to_user(r)).collect()
    }

    fn user(&self, name: &str) -> Result<Option<User>> {
        if name.contains('\0') {
            return Ok(None); // never stored: PostgreSQL text has no NUL
        }
        let mut c = self.conn()?;
        let row = c
            .query_opt(&format!("{USER_COLS} WHERE name = $1"), &[&name])
            .ctx(self)?;
        row.map(|r| self.to_user(&r)).transpose()
    }

    fn create_token(&self, token: &ApiToken) -> Result<()> {
        token.validate()?;
        let created = secs(token.created, "creation time")?;
        let expires = token.expires.map(|e| secs(e, "expiry")).transpose()?;
        let last_used = token.last_used.map(|e| secs(e, "last use")).transpose()?;
        self.accounts_change(|c| {
            // Locks the user row: a concurrent remove_user waits for us.
            let user = c
                .query_opt(
                    "SELECT 1 FROM users WHERE name = $1 FOR KEY SHARE",
                    &[&token.user],
                )
                .ctx(self)?;
            if user.is_none() {
                return Err(StoreError::Invalid(format!("no user {:?}", token.user)));
            }
            let n = c
                .execute(
                    "INSERT INTO tokens (id, \"user\", secret_sha256, created, revoked, expires, last_used)
                     VALUES ($1, $2, $3, $4, $5, $6, $7)
                     ON CONFLICT (id) DO NOTHING",
                    &[
                        &token.id,
                        &token.user,
                        &&token.secret_sha256[..],
                        &created,
                        &token.revoked,
                        &expires,
                        &last_used,
                    ],
                )
                .ctx(self)?;
            if n == 0 {
                return Err(StoreError::Invalid(format!(
                    "token id {:?} is taken",
                    token.id
                )));
            }
            Ok((true, ()))
        })
    }

    fn revoke_token(&self, id: &str) -> Result<bool> {
        self.accounts_change(|c| {
            let n = c
                .execute(
                    "UPDATE tokens SET revoked = true WHERE id = $1 AND NOT revoked",
                    &[&id],
                )
                .ctx(self)?;
            Ok((n > 0, n > 0))
        })
    }

    fn token(&self, id: &str) -> Result<Option<ApiToken>> {
        if id.contains('\0') {
            return Ok(None); // never stored: PostgreSQL text has no NUL
        }
        let mut c = self.conn()?;
        let row = c
            .query_opt(&format!("{TOKEN_COLS} WHERE id = $1"), &[&id])
            .ctx(self)?;
        row.map(|r| self.to_token(&r)).transpose()
    }

    fn tokens(&self, user: Option<&str>) -> Result<Vec<ApiToken>> {
        let mut c = self.conn()?;
        let rows = c
            .query(
                &format!(
                    "{TOKEN_COLS} WHERE $1::text IS NULL OR \"user\" = $1 ORDER BY created, id"
                ),
                &[&user],
            )
            .ctx(self)?;
        rows.iter().map(|r| self.to_token(r)).collect()
    }

    fn accounts_generation(&self) -> Result<u64> {
        let mut c = self.conn()?;
        let g: i64 = c
            .query_one(
                "SELECT value FROM meta WHERE key = 'accounts_generation'",
                &[],
            )
            .ctx(self)?
            .try_get(0)
            .ctx(self)?;
        Ok(u64::try_from(g).unwrap_or(0))
    }

    /// One autocommitted UPDATE, no generation bump (a use is no change).
    fn touch_token(&self, id: &str, at: u64) -> Result<()> {
        let at = secs(at, "last use")?;
        let mut c = self.conn()?;
        c.execute(
            "UPDATE tokens SET last_used = $2
             WHERE id = $1 AND (last_used IS NULL OR last_used < $2)",
            &[&id, &at],
        )
        .ctx(self)?;
        Ok(())
    }
}
