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
}

/// Per-collection rights (TAXII 2.1 §5.2 `can_read` / `can_write`).
pub trait AccessPolicy: Send + Sync {
    fn can_read(&self, who: Option<&Principal>, collection_id: &str) -> bool;
    fn can_write(&self, who: Option<&Principal>, collection_id: &str) -> bool;
}
