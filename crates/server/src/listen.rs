//! The accept loop and the request deadlines: what keeps slow or stalled
//! clients (slowloris) from holding connections, on plain TCP and TLS alike.
//!
//! - Connections speak HTTP/1.1 only (TLS announces only `http/1.1` by ALPN):
//!   hyper's HTTP/1 server has a header-read timeout, its HTTP/2 server and
//!   protocol sniffing do not. TAXII clients use HTTP/1.1.
//! - A client that does not finish its request line and headers within
//!   `header_read_timeout` is dropped (also an idle keep-alive connection;
//!   and a TLS handshake gets as long).
//! - A request body that has not fully arrived `body_read_timeout` after the
//!   headers fails to read: the handler answers 408 and the connection closes.
//! - A request that takes longer than `request_timeout` in all is answered 408.
//! - A client IP address with `max_connections_per_ip` connections open gets
//!   any further one closed at once, before a byte is read (so one client
//!   cannot take every file descriptor or task); 0 turns the bound off.
//! - On shutdown the listener closes, idle connections close, requests in
//!   flight get the grace period to finish.
//!
//! 408s are TAXII error messages (invariant 10 of ARCHITECTURE.md).

use std::collections::HashMap;
use std::future::Future;
use std::net::IpAddr;
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Router;
use axum_server::accept::Accept;
use axum_server::tls_rustls::{RustlsAcceptor, RustlsConfig};
use http_body::{Frame, SizeHint};
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto::Builder;
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use sightline_taxii::TaxiiError;
use tokio::net::TcpListener;

/// Serves `app` on `listener` (through TLS when `tls` is given) until
/// `shutdown` completes, then waits up to `grace` for requests in flight.
pub(crate) async fn serve(
    listener: TcpListener,
    tls: Option<RustlsConfig>,
    app: Router,
    header_timeout: Duration,
    grace: Duration,
    max_per_ip: usize,
    shutdown: impl Future<Output = ()> + Send + 'static,
) {
    let per_ip = (max_per_ip > 0).then(|| Arc::new(PerIp::new(max_per_ip)));
    let mut builder = Builder::new(TokioExecutor::new()).http1_only();
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(header_timeout);
    let builder = Arc::new(builder);
    let acceptor =
        tls.map(|c| RustlsAcceptor::new(http1_alpn(&c)).handshake_timeout(header_timeout));
    let graceful = GracefulShutdown::new();
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            r = listener.accept() => match r {
                Ok(c) => c,
                Err(e) => {
                    // Out of file descriptors and the like: wait, do not spin.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        // Held by the connection's task: dropped (and counted off) when it ends.
        let slot = match &per_ip {
            None => None,
            Some(t) => match PerIp::take(t, peer.ip()) {
                Some(s) => Some(s),
                None => {
                    // A counter, not a warning per connection: a flood would flood the log.
                    metrics::counter!("sightline_connections_refused_total").increment(1);
                    tracing::debug!(%peer, limit = max_per_ip, "too many connections from this address: closed");
                    drop(stream);
                    continue;
                }
            },
        };
        let _ = stream.set_nodelay(true);
        // Taken before the handshake, so shutdown waits for it too.
        let watcher = graceful.watcher();
        let builder = builder.clone();
        let service = TowerToHyperService::new(app.clone());
        let acceptor = acceptor.clone();
        tokio::spawn(async move {
            let _slot = slot;
            let served = match acceptor {
                None => {
                    let conn = builder.serve_connection(TokioIo::new(stream), service);
                    watcher.watch(conn.into_owned()).await
                }
                Some(a) => match a.accept(stream, ()).await {
                    Ok((tls, ())) => {
                        let conn = builder.serve_connection(TokioIo::new(tls), service);
                        watcher.watch(conn.into_owned()).await
                    }
                    Err(e) => {
                        tracing::debug!(%peer, error = %e, "TLS handshake failed");
                        return;
                    }
                },
            };
            if let Err(e) = served {
                // Header timeouts, resets, malformed requests: the client's doing.
                tracing::debug!(%peer, error = %e, "connection closed with an error");
            }
        });
    }
    // Refuse new connections at once rather than leaving them queued.
    drop(listener);
    tracing::info!(?grace, "shutting down: finishing in-flight requests");
    if tokio::time::timeout(grace, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!(?grace, "grace period over: dropping unfinished requests");
    }
}

/// Live connections by client IP address (IPv4-mapped IPv6 counted as IPv4).
struct PerIp {
    limit: usize,
    live: Mutex<HashMap<IpAddr, usize>>,
}

/// One counted connection; counts itself off when dropped.
struct Slot {
    table: Arc<PerIp>,
    ip: IpAddr,
}

impl PerIp {
    fn new(limit: usize) -> Self {
        PerIp {
            limit,
            live: Mutex::new(HashMap::new()),
        }
    }

    /// A slot for one more connection from `ip`, unless it has `limit` open.
    fn take(table: &Arc<PerIp>, ip: IpAddr) -> Option<Slot> {
        let ip = ip.to_canonical();
        let mut live = table.live.lock().unwrap_or_else(PoisonError::into_inner);
        let n = live.entry(ip).or_insert(0);
        if *n >= table.limit {
            return None;
        }
        *n += 1;
        Some(Slot {
            table: table.clone(),
            ip,
        })
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut live = self
            .table
            .live
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if let Some(n) = live.get_mut(&self.ip) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                live.remove(&self.ip);
            }
        }
    }
}

/// The TLS config with ALPN offering HTTP/1.1 only (the server speaks no h2).
fn http1_alpn(c: &RustlsConfig) -> RustlsConfig {
    let mut inner = (*c.get_inner()).clone();
    inner.alpn_protocols = vec![b"http/1.1".to_vec()];
    RustlsConfig::from_config(Arc::new(inner))
}

/// Middleware: the whole request within `limit`, else a TAXII 408.
pub(crate) async fn request_deadline(
    State(limit): State<Duration>,
    req: Request,
    next: Next,
) -> Response {
    match tokio::time::timeout(limit, next.run(req)).await {
        Ok(r) => r,
        Err(_) => {
            tracing::warn!(?limit, "request timed out");
            TaxiiError::RequestTimeout(format!(
                "the request was not completed within {} s",
                limit.as_secs()
            ))
            .into_response()
        }
    }
}

/// Middleware: the request body must have arrived in full within `limit`
/// of the headers; after that, reading it fails with a `TimedOut` I/O error
/// (which the TAXII handlers answer with 408).
pub(crate) async fn body_deadline(
    State(limit): State<Duration>,
    req: Request,
    next: Next,
) -> Response {
    use http_body::Body as _;
    if req.body().is_end_stream() {
        return next.run(req).await;
    }
    let req = req.map(|b| {
        Body::new(DeadlineBody {
            inner: b,
            deadline: Box::pin(tokio::time::sleep(limit)),
            limit,
        })
    });
    next.run(req).await
}

struct DeadlineBody {
    inner: Body,
    deadline: Pin<Box<tokio::time::Sleep>>,
    limit: Duration,
}

impl http_body::Body for DeadlineBody {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        let this = &mut *self;
        if let Poll::Ready(frame) = Pin::new(&mut this.inner).poll_frame(cx) {
            return Poll::Ready(frame);
        }
        if this.deadline.as_mut().poll(cx).is_ready() {
            let e = std::io::Error::new(
                std::io::ErrorKind::TimedOut,
                format!(
                    "the request body did not arrive within {} s",
                    this.limit.as_secs()
                ),
            );
            return Poll::Ready(Some(Err(axum::Error::new(e))));
        }
        Poll::Pending
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn per_ip_slots_count_off_when_dropped() {
        let t = Arc::new(PerIp::new(2));
        let a: IpAddr = "192.0.2.1".parse().expect("ip");
        let mapped: IpAddr = "::ffff:192.0.2.1".parse().expect("ip");
        let b: IpAddr = "192.0.2.2".parse().expect("ip");
        let s1 = PerIp::take(&t, a).expect("first");
        let s2 = PerIp::take(&t, mapped).expect("second, same address");
        assert!(PerIp::take(&t, a).is_none(), "third refused");
        assert!(
            PerIp::take(&t, b).is_some(),
            "another address is not affected"
        );
        drop(s1);
        let s3 = PerIp::take(&t, a).expect("a slot freed");
        drop((s2, s3));
        assert!(
            t.live.lock().expect("lock").is_empty(),
            "no entry left behind"
        );
    }
}
