//! One error type for the whole crate: every bad input becomes one of these, never a panic.

use alloc::string::String;
use core::fmt;

/// What went wrong, in words a user can act on.
#[derive(Debug, Clone, PartialEq)]
pub enum Error {
    /// A configuration field is out of range or inconsistent. `field` names it.
    Config {
        /// The offending field, as spelled in the JSON/URL/CLI configuration.
        field: String,
        /// Why it was refused.
        reason: String,
    },
    /// A data file (MNIST IDX, raw or gzip) is malformed.
    Data(String),
    /// A snapshot cannot be imported; nothing was loaded.
    Snapshot(String),
    /// Input arrays to an API call have the wrong length.
    Shape(String),
    /// Training produced a non-finite value; the step was not applied, weights are unchanged.
    Diverged(String),
}

impl Error {
    pub(crate) fn config(field: impl Into<String>, reason: impl Into<String>) -> Self {
        Error::Config { field: field.into(), reason: reason.into() }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Config { field, reason } => write!(f, "invalid setting `{field}`: {reason}"),
            Error::Data(m) => write!(f, "bad data file: {m}"),
            Error::Snapshot(m) => write!(f, "cannot load snapshot: {m}"),
            Error::Shape(m) => write!(f, "wrong input size: {m}"),
            Error::Diverged(m) => write!(
                f,
                "training diverged ({m}); the step was not applied and the last good weights are kept"
            ),
        }
    }
}

#[cfg(feature = "std")]
impl std::error::Error for Error {}
