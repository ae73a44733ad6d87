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
//! - At most `max_connections` connections are open in all, below the file
//!   descriptor limit (raised to the hard limit at start,
//!   [`raise_nofile_limit`]): past it a new connection is closed at once, so
//!   the process never runs out of descriptors for its store, its logs or
//!   the next accept once a connection ends.
//! - A response write that makes no progress for `write_timeout` (a client
//!   that stopped reading) fails, and the connection is dropped with what it
//!   held (issue 12 §3, slow readers).
//! - Each request carries the client's address as `ConnectInfo<SocketAddr>`
//!   (the failure throttle of `auth` keys on it).
//! - On shutdown the listener closes, idle connections close, requests in
//!   flight get the grace period to finish.
//!
//! 408s are TAXII error messages (invariant 10 of ARCHITECTURE.md).

use std::collections::HashMap;
use std::future::Future;
use std::net::IpAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Router;
use http_body::{Frame, SizeHint};
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto::Builder;
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use sightline_taxii::TaxiiError;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;
use tower::Layer;

/// The connection bounds of the accept loop (from `[limits]`).
#[derive(Debug, Clone, Copy)]
pub(crate) struct ConnLimits {
    pub(crate) header_timeout: Duration,
    pub(crate) grace: Duration,
    /// 0: no per-address bound.
    pub(crate) max_per_ip: usize,
    /// Open connections in all.
    pub(crate) max_connections: usize,
    pub(crate) write_timeout: Duration,
}

/// Descriptors kept free below the soft limit for the store, logs and
/// accepting (a connection is one descriptor; a TLS one too).
pub const FD_RESERVE: u64 = 64;

/// The default global connection cap: below the descriptor limit by
/// [`FD_RESERVE`], and at most 10,000.
pub fn default_max_connections(nofile_soft: u64) -> usize {
    let room = if nofile_soft > 2 * FD_RESERVE {
        nofile_soft - FD_RESERVE
    } else {
        nofile_soft / 2
    };
    usize::try_from(room.min(10_000)).unwrap_or(10_000).max(1)
}

/// Raises the soft `RLIMIT_NOFILE` to the hard limit (the common default soft
/// limit, 1,024, is what a few hundred idle connections exhaust) and returns
/// the soft limit now in force (`u64::MAX` when unlimited).
pub fn raise_nofile_limit() -> u64 {
    use rustix::process::{getrlimit, setrlimit, Resource, Rlimit};
    let cur = getrlimit(Resource::Nofile);
    // `None` is unlimited. Linux refuses an unlimited soft limit for files
    // (it must stay within fs.nr_open): aim for 2^20, its default.
    let target = cur.maximum.unwrap_or(1 << 20);
    if cur.current.is_some_and(|soft| soft < target) {
        let new = Rlimit {
            current: Some(target),
            maximum: cur.maximum,
        };
        match setrlimit(Resource::Nofile, new) {
            Ok(()) => tracing::info!(
                from = cur.current.unwrap_or(u64::MAX),
                to = target,
                "raised the open file limit (RLIMIT_NOFILE) to the hard limit"
            ),
            Err(e) => tracing::warn!(error = %e, "cannot raise the open file limit"),
        }
    }
    getrlimit(Resource::Nofile).current.unwrap_or(u64::MAX)
}

/// Serves `app` on `listener` (through TLS when `tls` is given) until
/// `shutdown` completes, then waits up to `grace` for requests in flight.
pub(crate) async fn serve(
    listener: TcpListener,
    tls: Option<Arc<rustls::ServerConfig>>,
    app: Router,
    limits: ConnLimits,
    shutdown: impl Future<Output = ()> + Send + 'static,
) {
    let ConnLimits {
        header_timeout,
        grace,
        max_per_ip,
        max_connections,
        write_timeout,
    } = limits;
    let per_ip = (max_per_ip > 0).then(|| Arc::new(PerIp::new(max_per_ip)));
    let live = Arc::new(AtomicUsize::new(0));
    let mut builder = Builder::new(TokioExecutor::new()).http1_only();
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(header_timeout);
    let builder = Arc::new(builder);
    let acceptor = tls.map(TlsAcceptor::from);
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
        // Both held by the connection's task: dropped (and counted off) when it ends.
        let Some(counted) = Live::take(&live, max_connections) else {
            metrics::counter!("sightline_connections_refused_total").increment(1);
            tracing::debug!(%peer, limit = max_connections, "connection cap reached: closed");
            drop(stream);
            continue;
        };
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
        let service = TowerToHyperService::new(
            axum::Extension(axum::extract::ConnectInfo(peer)).layer(app.clone()),
        );
        let acceptor = acceptor.clone();
        let stream = WriteTimeout::new(stream, write_timeout);
        tokio::spawn(async move {
            let _slot = (slot, counted);
            let served = match acceptor {
                None => {
                    let conn = builder.serve_connection(TokioIo::new(stream), service);
                    watcher.watch(conn.into_owned()).await
                }
                // The handshake gets the header read timeout: a client that
                // never finishes it holds a slot no longer than a slow header.
                Some(a) => match tokio::time::timeout(header_timeout, a.accept(stream)).await {
                    Ok(Ok(tls)) => {
                        let conn = builder.serve_connection(TokioIo::new(tls), service);
                        watcher.watch(conn.into_owned()).await
                    }
                    Ok(Err(e)) => {
                        tracing::debug!(%peer, error = %e, "TLS handshake failed");
                        return;
                    }
                    Err(_) => {
                        tracing::debug!(%peer, "TLS handshake timed out");
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

/// One open connection of the global count; counts itself off when dropped.
struct Live(Arc<AtomicUsize>);

impl Live {
    fn take(count: &Arc<AtomicUsize>, limit: usize) -> Option<Live> {
        count
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                (n < limit).then_some(n + 1)
            })
            .ok()
            .map(|_| Live(count.clone()))
    }
}

impl Drop for Live {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

/// A stream whose writes fail with `TimedOut` after `limit` without
/// progress: hyper then drops the connection, and with it the response body
/// it was writing. Reads are untouched (the header and body deadlines bound
/// them).
struct WriteTimeout<S> {
    inner: S,
    limit: Duration,
    /// Armed while a write is pending; cleared by any progress.
    stalled: Option<Pin<Box<tokio::time::Sleep>>>,
}

impl<S> WriteTimeout<S> {
    fn new(inner: S, limit: Duration) -> Self {
        WriteTimeout {
            inner,
            limit,
            stalled: None,
        }
    }

    /// After the inner write returned `Pending`: an error once stalled for
    /// `limit`, else `Pending` (the timer will wake the task).
    fn pending<T>(&mut self, cx: &mut Context<'_>) -> Poll<std::io::Result<T>> {
        let limit = self.limit;
        let timer = self
            .stalled
            .get_or_insert_with(|| Box::pin(tokio::time::sleep(limit)));
        if timer.as_mut().poll(cx).is_ready() {
            metrics::counter!("sightline_write_timeouts_total").increment(1);
            return Poll::Ready(Err(std::io::Error::new(
                std::io::ErrorKind::TimedOut,
                format!("the client read nothing for {} s", limit.as_secs()),
            )));
        }
        Poll::Pending
    }

    fn progress<T>(
        &mut self,
        p: Poll<std::io::Result<T>>,
        cx: &mut Context<'_>,
    ) -> Poll<std::io::Result<T>> {
        match p {
            Poll::Ready(r) => {
                self.stalled = None;
                Poll::Ready(r)
            }
            Poll::Pending => self.pending(cx),
        }
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for WriteTimeout<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for WriteTimeout<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        let p = Pin::new(&mut self.inner).poll_write(cx, buf);
        self.progress(p, cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        let p = Pin::new(&mut self.inner).poll_write_vectored(cx, bufs);
        self.progress(p, cx)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        let p = Pin::new(&mut self.inner).poll_flush(cx);
        self.progress(p, cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        let p = Pin::new(&mut self.inner).poll_shutdown(cx);
        self.progress(p, cx)
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

/// POST body bytes admitted at once, over all requests: a semaphore whose
/// permits are KiB (tokio counts permits in `u32` per acquisition). A POST
/// holds its share from before its body is read until its answer is ready,
/// which covers the parsed and validated copies the handler makes too.
#[derive(Debug, Clone)]
pub(crate) struct PostBytes {
    sem: Arc<tokio::sync::Semaphore>,
    total_kib: u32,
    /// Charged for a body without `Content-Length` (chunked): the largest
    /// `max_content_length` of any API root, what it may grow to.
    unknown_kib: u32,
    wait: Duration,
}

impl PostBytes {
    pub(crate) fn new(total_bytes: usize, unknown_bytes: usize, wait: Duration) -> Self {
        let kib = |b: usize| u32::try_from(b.div_ceil(1024)).unwrap_or(u32::MAX).max(1);
        // tokio's semaphore holds at most usize::MAX >> 3 permits; u32 is below.
        let total_kib = kib(total_bytes);
        PostBytes {
            sem: Arc::new(tokio::sync::Semaphore::new(total_kib as usize)),
            total_kib,
            unknown_kib: kib(unknown_bytes).min(total_kib),
            wait,
        }
    }

    /// The permits one request is charged: its declared length (at most
    /// the whole budget, so a large one can still run alone).
    fn charge(&self, content_length: Option<u64>) -> u32 {
        match content_length {
            Some(n) => u32::try_from(n.div_ceil(1024))
                .unwrap_or(u32::MAX)
                .clamp(1, self.total_kib),
            None => self.unknown_kib,
        }
    }
}

/// Middleware: a POST waits for [`PostBytes`] room for its body before it is
/// read, and gets a TAXII 503 with `Retry-After` when none frees up within
/// the wait. Other methods pass straight through.
pub(crate) async fn post_bytes(State(pb): State<PostBytes>, req: Request, next: Next) -> Response {
    if req.method() != axum::http::Method::POST {
        return next.run(req).await;
    }
    let declared = req
        .headers()
        .get(axum::http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    let n = pb.charge(declared);
    let permit = match tokio::time::timeout(pb.wait, pb.sem.clone().acquire_many_owned(n)).await {
        Ok(Ok(p)) => p,
        _ => {
            metrics::counter!("sightline_post_bytes_refused_total").increment(1);
            tracing::warn!(kib = n, "too many POST bytes in flight: 503");
            let mut r = TaxiiError::Unavailable(
                "the server is busy receiving other uploads; retry later".into(),
            )
            .into_response();
            r.headers_mut().insert(
                axum::http::header::RETRY_AFTER,
                axum::http::HeaderValue::from(pb.wait.as_secs().max(1)),
            );
            return r;
        }
    };
    let r = next.run(req).await;
    drop(permit);
    r
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

    #[test]
    fn global_count_and_default_cap() {
        let count = Arc::new(AtomicUsize::new(0));
        let a = Live::take(&count, 2).expect("one");
        let b = Live::take(&count, 2).expect("two");
        assert!(Live::take(&count, 2).is_none(), "over the cap");
        drop(a);
        let c = Live::take(&count, 2).expect("freed");
        drop((b, c));
        assert_eq!(count.load(Ordering::SeqCst), 0);
        assert_eq!(default_max_connections(1024), 960);
        assert_eq!(default_max_connections(256), 192);
        assert_eq!(default_max_connections(1 << 20), 10_000);
        assert_eq!(default_max_connections(100), 50);
        assert!(raise_nofile_limit() >= 64, "a soft limit is in force");
    }

    /// A peer that never reads: the write fails with `TimedOut` once it
    /// has made no progress for the limit; progress resets the clock.
    #[tokio::test]
    async fn write_timeout_fires_only_without_progress() {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let (near, mut far) = tokio::io::duplex(1024);
        let mut w = WriteTimeout::new(near, Duration::from_millis(200));
        // Reads drain it in time: no error however long it runs in all.
        let reader = tokio::spawn(async move {
            let mut buf = vec![0u8; 1024];
            let mut total = 0;
            while total < 64 * 1024 {
                tokio::time::sleep(Duration::from_millis(20)).await;
                total += far.read(&mut buf).await.expect("read");
            }
            far
        });
        for _ in 0..64 {
            w.write_all(&[7u8; 1024])
                .await
                .expect("a slow reader is fine");
        }
        let far = reader.await.expect("reader");
        // Now nobody reads: the write stalls and fails.
        let t0 = std::time::Instant::now();
        let err = loop {
            if let Err(e) = w.write_all(&[7u8; 1024]).await {
                break e;
            }
        };
        assert_eq!(err.kind(), std::io::ErrorKind::TimedOut);
        assert!(
            t0.elapsed() >= Duration::from_millis(150),
            "{:?}",
            t0.elapsed()
        );
        drop(far);
    }
}
