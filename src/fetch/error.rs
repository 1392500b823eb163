//! What can go wrong while fetching: the error of the fetch layer. Each
//! failure becomes one diagnostic naming the source (URL or file).

use sigma_engine::diag::Diagnostic;
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    /// The connection failed or the server could not be reached.
    #[error("{0}")]
    Connection(String),
    /// The server answered, but not with the file.
    #[error("the server answered HTTP {0}")]
    Status(u16),
    /// Fewer bytes arrived than the server announced, or the stream broke.
    #[error("download cut short: {0}")]
    Cut(String),
    /// The download goes beyond the most one may bring.
    #[error("the download is larger than {0} bytes: refused")]
    TooLarge(u64),
    /// A local file could not be read or written.
    #[error("{what} {}: {source}", path.display())]
    File {
        what: &'static str,
        path: PathBuf,
        source: std::io::Error,
    },
    /// The archive cannot be opened or unpacked.
    #[error("{0}")]
    Archive(String),
    /// What arrived is not what was asked for (not a bundle of the domain,
    /// not the version, no rules, no atomics, no such release).
    #[error("{0}")]
    Content(String),
}

impl FetchError {
    /// Whether another attempt may succeed: broken connections, cut
    /// downloads and server-side errors.
    pub fn retryable(&self) -> bool {
        match self {
            FetchError::Connection(_) | FetchError::Cut(_) => true,
            FetchError::Status(s) => *s >= 500 || *s == 429,
            _ => false,
        }
    }

    pub fn file(what: &'static str, path: &Path) -> impl FnOnce(std::io::Error) -> FetchError {
        let path = path.to_path_buf();
        move |source| FetchError::File { what, path, source }
    }

    /// The error as a diagnostic about `source`.
    pub fn at(&self, source: &str) -> Diagnostic {
        Diagnostic::error("fetch", format!("{source}: {self}"))
    }
}
