//! HTTP for feeds: one blocking client per feed (timeouts, custom CA, Basic
//! or Bearer credentials), retries with backoff on 429, 503 and transport
//! errors, honouring `Retry-After` (RFC 9110 §10.2.3, delay-seconds form).

use std::time::Duration;

use crate::{FeedConfig, FeedError, Result};

/// The largest body read (a TAXII page or a list file): more is refused
/// rather than held in memory.
pub const MAX_BODY_BYTES: u64 = 512 << 20;

/// Retry policy: `attempts` tries in all; waits double from `base`, or what
/// `Retry-After` asks, never more than `max_wait`.
#[derive(Debug, Clone, Copy)]
pub struct Retry {
    pub attempts: u32,
    pub base: Duration,
    pub max_wait: Duration,
}

impl Default for Retry {
    fn default() -> Self {
        Retry {
            attempts: 4,
            base: Duration::from_secs(1),
            max_wait: Duration::from_secs(60),
        }
    }
}

/// A response read whole.
#[derive(Debug)]
pub struct Response {
    pub status: u16,
    pub content_type: Option<String>,
    pub headers: reqwest::header::HeaderMap,
    pub body: Vec<u8>,
    pub url: String,
}

impl Response {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

/// A feed's HTTP client.
#[derive(Debug)]
pub struct Fetcher {
    client: reqwest::blocking::Client,
    auth: Option<String>,
    retry: Retry,
    /// Waits actually slept (tests read them).
    pub slept: Vec<Duration>,
}

impl Fetcher {
    /// Builds the client for `feed`: reads the credentials' environment
    /// variables and the CA file now, so a missing one fails before any request.
    pub fn new(feed: &FeedConfig, retry: Retry) -> Result<Fetcher> {
        let bad = |message: String| FeedError::Config {
            feed: feed.name.clone(),
            message,
        };
        let env = |var: &str| {
            std::env::var(var).map_err(|_| bad(format!("environment variable {var} is not set")))
        };
        let auth = match (&feed.user, &feed.password_env, &feed.token_env) {
            (Some(u), pw, None) => {
                let pw = pw.as_deref().map(env).transpose()?.unwrap_or_default();
                Some(basic(u, &pw))
            }
            (None, _, Some(t)) => Some(format!("Bearer {}", env(t)?)),
            _ => None,
        };
        let timeout = Duration::from_secs(feed.timeout_secs.unwrap_or(60).max(1));
        let mut b = reqwest::blocking::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout.min(Duration::from_secs(15)))
            .user_agent(concat!("sightline-feeds/", env!("CARGO_PKG_VERSION")));
        if let Some(ca) = &feed.ca {
            let pem = std::fs::read(ca).map_err(|e| FeedError::Io {
                path: ca.display().to_string(),
                message: e.to_string(),
            })?;
            let certs = reqwest::Certificate::from_pem_bundle(&pem)
                .map_err(|e| bad(format!("{}: {e}", ca.display())))?;
            if certs.is_empty() {
                return Err(bad(format!("{}: no PEM certificate", ca.display())));
            }
            for c in certs {
                b = b.add_root_certificate(c);
            }
        }
        let client = b.build().map_err(|e| bad(format!("HTTP client: {e}")))?;
        Ok(Fetcher {
            client,
            auth,
            retry,
            slept: Vec::new(),
        })
    }

    /// GETs `url` with `query` and `accept`, retrying as [`Retry`] says.
    /// Any status is returned (the caller decides); only transport failures
    /// after the last attempt are errors.
    pub fn get(&mut self, url: &str, query: &[(&str, String)], accept: &str) -> Result<Response> {
        let mut attempt = 0;
        loop {
            attempt += 1;
            let last = attempt >= self.retry.attempts.max(1);
            let wait = match self.once(url, query, accept) {
                Ok(r) if matches!(r.status, 429 | 503) && !last => {
                    retry_after(&r).unwrap_or_else(|| self.backoff(attempt))
                }
                Ok(r) => return Ok(r),
                Err(e) if last => return Err(e),
                Err(FeedError::Transport { .. }) => self.backoff(attempt),
                Err(e) => return Err(e),
            };
            let wait = wait.min(self.retry.max_wait);
            self.slept.push(wait);
            std::thread::sleep(wait);
        }
    }

    fn backoff(&self, attempt: u32) -> Duration {
        self.retry
            .base
            .saturating_mul(1u32 << (attempt - 1).min(16))
    }

    /// POSTs `body` once (the caller decides whether to try again; TAXII
    /// adds are idempotent per object version, so a retry is harmless there).
    pub fn post(
        &mut self,
        url: &str,
        body: Vec<u8>,
        content_type: &str,
        accept: &str,
    ) -> Result<Response> {
        let req = self
            .client
            .post(url)
            .header(reqwest::header::CONTENT_TYPE, content_type)
            .header(reqwest::header::ACCEPT, accept)
            .body(body);
        self.send(url, req)
    }

    fn once(&self, url: &str, query: &[(&str, String)], accept: &str) -> Result<Response> {
        let req = self
            .client
            .get(url)
            .query(query)
            .header(reqwest::header::ACCEPT, accept);
        self.send(url, req)
    }

    fn send(&self, url: &str, mut req: reqwest::blocking::RequestBuilder) -> Result<Response> {
        let transport = |e: reqwest::Error| FeedError::Transport {
            url: url.to_owned(),
            message: describe(&e),
        };
        if let Some(a) = &self.auth {
            req = req.header(reqwest::header::AUTHORIZATION, a);
        }
        let resp = req.send().map_err(transport)?;
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        let content_type = headers
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let full_url = resp.url().to_string();
        if resp.content_length().is_some_and(|n| n > MAX_BODY_BYTES) {
            return Err(FeedError::BadBody {
                url: full_url,
                message: format!("body over {MAX_BODY_BYTES} bytes"),
            });
        }
        let mut body = Vec::new();
        use std::io::Read as _;
        resp.take(MAX_BODY_BYTES + 1)
            .read_to_end(&mut body)
            .map_err(|e| FeedError::Transport {
                url: full_url.clone(),
                message: format!("reading the body: {e}"),
            })?;
        if body.len() as u64 > MAX_BODY_BYTES {
            return Err(FeedError::BadBody {
                url: full_url,
                message: format!("body over {MAX_BODY_BYTES} bytes"),
            });
        }
        Ok(Response {
            status,
            content_type,
            headers,
            body,
            url: full_url,
        })
    }
}

/// `Retry-After` in its delay-seconds form (an HTTP-date falls back to backoff).
fn retry_after(r: &Response) -> Option<Duration> {
    r.header("retry-after")
        .and_then(|v| v.trim().parse::<u64>().ok())
        .map(Duration::from_secs)
}

/// An error with its causes, one line (reqwest's own Display hides them).
fn describe(e: &reqwest::Error) -> String {
    let mut s = if e.is_timeout() {
        "timed out".to_owned()
    } else {
        e.to_string()
    };
    let mut src = std::error::Error::source(e);
    while let Some(c) = src {
        let m = c.to_string();
        if !s.contains(&m) {
            s.push_str(": ");
            s.push_str(&m);
        }
        src = c.source();
    }
    s
}

/// An HTTP Basic `Authorization` value (RFC 7617).
fn basic(user: &str, pw: &str) -> String {
    use base64::Engine as _;
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{user}:{pw}"))
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 7617 §2's example.
    #[test]
    fn basic_header() {
        assert_eq!(
            basic("Aladdin", "open sesame"),
            "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ=="
        );
        assert_eq!(basic("a", ""), "Basic YTo=");
        assert_eq!(basic("ab", "c"), "Basic YWI6Yw==");
    }
}
