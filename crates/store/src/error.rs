//! [`StoreError`]: what any backend's call can fail with.

use std::error::Error;
use std::fmt;

/// The original error behind a [`StoreError`] (a driver's, the OS's), boxed so
/// that no driver type appears in this crate's API (invariant 6). Code that
/// needs it can walk [`Error::source`] and downcast, e.g. to `std::io::Error`.
pub type Cause = Box<dyn Error + Send + Sync + 'static>;

/// Errors of any backend. Backends map their driver errors into these; none
/// carries a driver type in its signature.
///
/// The failure kinds carry a `message` for people (where, what failed and the
/// cause in words: the backend writes it, naming the file or database, never
/// a password) and the original error as `source`, when there is one. The
/// `Display` is the kind and the message only, so the cause is not said twice
/// by code that prints the `source` chain too.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// Reading or writing the store's files failed, or there is no store where
    /// one was expected.
    #[error("storage I/O failed: {message}")]
    Io {
        message: String,
        #[source]
        source: Option<Cause>,
    },
    /// The store cannot take writes: a full disk, a read-only file system or
    /// database, no permission.
    #[error("the store is read-only or its disk is full: {message}")]
    NoSpace {
        message: String,
        #[source]
        source: Option<Cause>,
    },
    /// Locked by another writer, or (a server backend) unreachable: worth a
    /// retry later. The message says which.
    #[error("the store is busy or unavailable: {message}")]
    Busy {
        message: String,
        #[source]
        source: Option<Cause>,
    },
    /// Damaged, or written by a newer Sightline.
    #[error("the store is corrupt or from an incompatible version: {message}")]
    Corrupt {
        message: String,
        #[source]
        source: Option<Cause>,
    },
    /// `id` (a collection id or alias, as given) names no collection.
    #[error("no collection {id:?}")]
    NoSuchCollection { id: String },
    /// A new collection's id or alias is taken (`id` is the one taken).
    #[error("collection {id:?} already exists")]
    CollectionExists { id: String },
    /// What the caller asked for cannot be done as asked (a bad value, a taken
    /// name, an unknown user): the message says why, for the caller to fix.
    #[error("invalid request: {0}")]
    Invalid(String),
    /// Any other failure of the backend.
    #[error("storage backend error: {message}")]
    Backend {
        message: String,
        #[source]
        source: Option<Cause>,
    },
}

/// A failure kind that carries a message and a cause: used by the
/// constructors and by [`StoreError::map_text`].
macro_rules! with_message {
    ($($ctor:ident => $variant:ident),* $(,)?) => {
        impl StoreError {
            $(
                #[doc = concat!("[`StoreError::", stringify!($variant), "`] with `message` and no cause yet.")]
                pub fn $ctor(message: impl Into<String>) -> Self {
                    StoreError::$variant {
                        message: message.into(),
                        source: None,
                    }
                }
            )*

            /// The same error with `cause` as its [`source`](Error::source)
            /// (for the kinds that carry one; the others are returned as they are).
            #[must_use]
            pub fn caused_by(self, cause: impl Into<Cause>) -> Self {
                match self {
                    $(StoreError::$variant { message, .. } => StoreError::$variant {
                        message,
                        source: Some(cause.into()),
                    },)*
                    other => other,
                }
            }

            /// The human text of the error (message, id or reason).
            pub fn message(&self) -> &str {
                match self {
                    $(StoreError::$variant { message, .. } => message,)*
                    StoreError::NoSuchCollection { id } | StoreError::CollectionExists { id } => id,
                    StoreError::Invalid(m) => m,
                }
            }

            /// The same error with `f` applied to every text it carries: its
            /// message, id or reason, and its cause's, which then becomes a
            /// [`Redacted`] text (how `sightline_server` removes passwords).
            #[must_use]
            pub fn map_text(self, f: impl Fn(String) -> String) -> Self {
                let cause = |s: Option<Cause>| -> Option<Cause> {
                    s.map(|c| Box::new(Redacted(f(chain_text(&*c)))) as Cause)
                };
                match self {
                    $(StoreError::$variant { message, source } => StoreError::$variant {
                        message: f(message),
                        source: cause(source),
                    },)*
                    StoreError::NoSuchCollection { id } => StoreError::NoSuchCollection { id: f(id) },
                    StoreError::CollectionExists { id } => StoreError::CollectionExists { id: f(id) },
                    StoreError::Invalid(m) => StoreError::Invalid(f(m)),
                }
            }
        }
    };
}

with_message! {
    io => Io,
    no_space => NoSpace,
    busy => Busy,
    corrupt => Corrupt,
    backend => Backend,
}

impl StoreError {
    pub fn no_such_collection(id: impl Into<String>) -> Self {
        StoreError::NoSuchCollection { id: id.into() }
    }

    pub fn collection_exists(id: impl Into<String>) -> Self {
        StoreError::CollectionExists { id: id.into() }
    }
}

/// `e` and its sources, joined by ": ".
fn chain_text(e: &(dyn Error + 'static)) -> String {
    let mut out = e.to_string();
    let mut next = e.source();
    while let Some(s) = next {
        out.push_str(": ");
        out.push_str(&s.to_string());
        next = s.source();
    }
    out
}

/// A cause kept as text only, after [`StoreError::map_text`] rewrote it.
#[derive(Debug)]
pub struct Redacted(pub String);

impl fmt::Display for Redacted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl Error for Redacted {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cause_is_kept_for_code_and_left_out_of_the_text() {
        let io = std::io::Error::new(std::io::ErrorKind::StorageFull, "No space left");
        let e = StoreError::no_space("/data/sightline.db: cannot write").caused_by(io);
        assert_eq!(
            e.to_string(),
            "the store is read-only or its disk is full: /data/sightline.db: cannot write"
        );
        let cause = e.source().expect("a source");
        let io = cause
            .downcast_ref::<std::io::Error>()
            .expect("the io::Error itself");
        assert_eq!(io.kind(), std::io::ErrorKind::StorageFull);
        assert_eq!(e.message(), "/data/sightline.db: cannot write");
        // Kinds without a cause stay as they are.
        let n = StoreError::no_such_collection("feeds").caused_by(Redacted("x".into()));
        assert!(matches!(&n, StoreError::NoSuchCollection { id } if id == "feeds"));
        assert!(n.source().is_none());
    }

    #[test]
    fn map_text_reaches_the_cause() {
        let cause = std::io::Error::other("password=hunter2 refused");
        let e = StoreError::backend("db password=hunter2").caused_by(cause);
        let e = e.map_text(|t| t.replace("hunter2", "***"));
        assert_eq!(e.to_string(), "storage backend error: db password=***");
        let src = e.source().expect("kept").to_string();
        assert_eq!(src, "password=*** refused");
        let e = StoreError::collection_exists("hunter2").map_text(|t| t.replace("hunter2", "*"));
        assert_eq!(e.to_string(), "collection \"*\" already exists");
    }
}
