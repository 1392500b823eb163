//! Downloads: timeouts, retries with backoff, the proxy environment
//! variables (`HTTPS_PROXY`, `NO_PROXY`, ... read by ureq), conditional
//! requests, a progress bar with sizes, and a sha256 of what arrived. A
//! download lands in a temporary file; the caller moves it into place only
//! once it is verified.

use super::error::FetchError;
use crate::digest::hex;
use indicatif::{ProgressBar, ProgressStyle};
use sha2::{Digest, Sha256};
use std::io::{Read, Write};
use std::path::Path;
use std::time::Duration;

/// What the server holds for a conditional request.
#[derive(Debug, Clone, Default)]
pub struct Validators {
    pub etag: Option<String>,
    pub last_modified: Option<String>,
}

/// The result of one download.
#[derive(Debug, Clone)]
pub enum Got {
    /// 304: the cached copy is current; nothing was downloaded.
    NotModified,
    /// The body is in the temporary file.
    Body {
        size: u64,
        sha256: String,
        validators: Validators,
        /// Where the body came from, after redirects (a release's own URL
        /// behind a `latest` link).
        url: String,
    },
}

/// An HTTP client with the fetch command's policy.
pub struct Client {
    agent: ureq::Agent,
    retries: u32,
    first_wait: Duration,
    progress: bool,
    max_bytes: u64,
}

impl Client {
    pub fn new(progress: bool, first_wait: Duration, max_bytes: u64) -> Client {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .timeout_connect(Some(Duration::from_secs(15)))
            .timeout_recv_response(Some(Duration::from_secs(60)))
            .timeout_recv_body(Some(Duration::from_secs(600)))
            .http_status_as_error(false)
            .user_agent(concat!("attack-vault/", env!("CARGO_PKG_VERSION")))
            .build()
            .into();
        Client {
            agent,
            retries: 3,
            first_wait,
            progress,
            max_bytes,
        }
    }

    /// GET `url` into `dest`, conditionally on `known` when given. Server
    /// errors and broken connections are retried three times, after a wait
    /// that doubles (1 s, 2 s, 4 s by default).
    pub fn get(
        &self,
        url: &str,
        known: Option<&Validators>,
        dest: &Path,
    ) -> Result<Got, FetchError> {
        let mut wait = self.first_wait;
        let mut attempt = 0;
        loop {
            attempt += 1;
            match self.once(url, known, dest) {
                Ok(got) => return Ok(got),
                Err(e) if e.retryable() && attempt <= self.retries => {
                    eprintln!("{url}: {e}; retrying in {:.1?}", wait);
                    std::thread::sleep(wait);
                    wait *= 2;
                }
                Err(e) => return Err(e),
            }
        }
    }

    /// One attempt; the error says whether a retry may help.
    fn once(&self, url: &str, known: Option<&Validators>, dest: &Path) -> Result<Got, FetchError> {
        let mut req = self.agent.get(url);
        if let Some(v) = known {
            if let Some(e) = &v.etag {
                req = req.header("If-None-Match", e);
            }
            if let Some(m) = &v.last_modified {
                req = req.header("If-Modified-Since", m);
            }
        }
        let resp = req
            .call()
            .map_err(|e| FetchError::Connection(e.to_string()))?;
        let status = resp.status().as_u16();
        if status == 304 {
            return Ok(Got::NotModified);
        }
        if status != 200 {
            return Err(FetchError::Status(status));
        }
        let header = |n: &str| {
            resp.headers()
                .get(n)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string)
        };
        let validators = Validators {
            etag: header("etag"),
            last_modified: header("last-modified"),
        };
        let length = header("content-length").and_then(|l| l.parse::<u64>().ok());
        if length.is_some_and(|l| l > self.max_bytes) {
            return Err(FetchError::TooLarge(self.max_bytes));
        }
        let final_url = {
            use ureq::ResponseExt;
            resp.get_uri().to_string()
        };
        let bar = self.bar(url, length);
        let body = resp.into_body().into_reader();
        let (size, sha256) = self.save(body, dest, &bar)?;
        bar.finish_and_clear();
        if let Some(l) = length
            && l != size
        {
            return Err(FetchError::Cut(format!("{size} of {l} bytes arrived")));
        }
        Ok(Got::Body {
            size,
            sha256,
            validators,
            url: final_url,
        })
    }

    /// Writes a body to `dest`, at most `max_bytes` of it, and syncs it:
    /// its size and sha256.
    fn save(
        &self,
        mut body: impl Read,
        dest: &Path,
        bar: &ProgressBar,
    ) -> Result<(u64, String), FetchError> {
        let mut out =
            std::fs::File::create(dest).map_err(FetchError::file("cannot write", dest))?;
        let mut hash = Sha256::new();
        let mut size = 0u64;
        let mut buf = vec![0u8; 1 << 16];
        loop {
            let n = body
                .read(&mut buf)
                .map_err(|e| FetchError::Cut(e.to_string()))?;
            if n == 0 {
                break;
            }
            if size + n as u64 > self.max_bytes {
                return Err(FetchError::TooLarge(self.max_bytes));
            }
            out.write_all(&buf[..n])
                .map_err(FetchError::file("cannot write", dest))?;
            hash.update(&buf[..n]);
            size += n as u64;
            bar.inc(n as u64);
        }
        out.sync_all()
            .map_err(FetchError::file("cannot write", dest))?;
        Ok((size, hex(&hash.finalize())))
    }

    fn bar(&self, url: &str, length: Option<u64>) -> ProgressBar {
        if !self.progress {
            return ProgressBar::hidden();
        }
        let bar = match length {
            Some(l) => ProgressBar::new(l),
            None => ProgressBar::no_length(),
        };
        bar.set_style(
            ProgressStyle::with_template("{msg} {bytes}/{total_bytes} {bytes_per_sec} {eta}")
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        bar.set_message(url.rsplit('/').next().unwrap_or(url).to_string());
        bar
    }
}

/// sha256 of a file, lower-case hex, and its size.
pub fn sha256_file(path: &Path) -> std::io::Result<(u64, String)> {
    let mut f = std::fs::File::open(path)?;
    let mut hash = Sha256::new();
    let mut buf = vec![0u8; 1 << 16];
    let mut size = 0u64;
    loop {
        let n = f.read(&mut buf)?;
        if n == 0 {
            break;
        }
        hash.update(&buf[..n]);
        size += n as u64;
    }
    Ok((size, hex(&hash.finalize())))
}
