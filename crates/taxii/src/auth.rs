//! Who is calling, and what they may do. Implemented by `sightline-server`.

/// An authenticated caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    pub name: String,
    pub groups: Vec<String>,
    /// May manage everything (all collections readable and writable).
    pub admin: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    /// Credentials were given but are wrong, unknown or revoked (401).
    #[error("invalid credentials")]
    Invalid,
    /// The `Authorization` header is not Basic or Bearer, or is malformed (401).
    #[error("unsupported or malformed Authorization header")]
    Malformed,
    /// The credential store failed (503).
    #[error("authentication unavailable: {0}")]
    Unavailable(String),
}

/// Turns an `Authorization` header into a principal.
pub trait Authenticator: Send + Sync {
    /// `Ok(None)` for a request without credentials (anonymous).
    /// Must be cheap on repeated calls: Basic auth caches verified credentials.
    fn authenticate(&self, authorization: Option<&str>) -> Result<Option<Principal>, AuthError>;

    /// The caller for an `Authorization` header verified recently, when that
    /// can be answered at once: no password hash, no store access, nothing
    /// that blocks. `None` means "ask [`Authenticator::authenticate`]", which
    /// the server then runs on the blocking pool. The default never answers.
    fn authenticate_cached(&self, _authorization: &str) -> Option<Principal> {
        None
    }
}

/// Per-collection rights (TAXII 2.1 §5.2 `can_read` / `can_write`, and
/// Sightline's own delete right). The three are independent: writing does not
/// imply reading (a submission inbox), and neither implies deleting.
pub trait AccessPolicy: Send + Sync {
    fn can_read(&self, who: Option<&Principal>, collection_id: &str) -> bool;
    fn can_write(&self, who: Option<&Principal>, collection_id: &str) -> bool;
    /// May remove objects from the collection (§5.7), whoever added them.
    /// Only honoured together with both other rights (see `access`).
    /// Default: admins only.
    fn can_delete(&self, who: Option<&Principal>, collection_id: &str) -> bool {
        let _ = collection_id;
        who.is_some_and(|p| p.admin)
    }
}
