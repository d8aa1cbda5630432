//! The listener: accepts connections and serves each with hyper (HTTP/1.1), bounding what a slow or
//! idle client can hold (issue 12):
//! - at most `http.max_connections` open at once; at the cap the server stops accepting (new
//!   connections wait in the kernel's backlog) until one closes;
//! - a connection must deliver a complete request head within `http.header_read_timeout_secs` of
//!   opening or of its first byte (slowloris);
//! - a kept-alive connection with no request in flight and no traffic for
//!   `http.keep_alive_idle_secs` is closed;
//! - an accept that fails for want of resources (EMFILE, ENFILE, ENOBUFS) is retried with backoff
//!   and logged once per episode, not once per attempt;
//! - on shutdown: stop accepting, let each connection finish its request in flight, then close.
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::Router;
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering::Relaxed};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;
use tower::Service;

/// What a connection may hold, from `http.*`.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub header_read: Duration,
    pub keep_alive_idle: Duration,
    pub max_connections: usize,
}

impl Limits {
    /// From the config; the connection cap is lowered to fit the process's open-file limit (less the
    /// pool and a reserve for the database, logs and files), so that the cap, not EMFILE, is met
    /// first.
    pub fn from_config(config: &crate::config::Config) -> Limits {
        let http = &config.http;
        let mut max_connections = http.max_connections.max(1);
        if let Some(files) = open_file_limit() {
            let reserve = 2 * config.database.max_connections as usize + 64;
            let fits = files.saturating_sub(reserve).max(16);
            if fits < max_connections {
                tracing::warn!(
                    configured = max_connections,
                    open_file_limit = files,
                    using = fits,
                    "http.max_connections lowered to fit the open-file limit"
                );
                max_connections = fits;
            }
        }
        Limits {
            header_read: Duration::from_secs(http.header_read_timeout_secs.max(1)),
            keep_alive_idle: Duration::from_secs(http.keep_alive_idle_secs.max(1)),
            max_connections,
        }
    }

    /// How often a connection's watchdog looks: a quarter of the shorter bound, 100 ms to 1 s.
    fn tick(&self) -> Duration {
        (self.header_read.min(self.keep_alive_idle) / 4)
            .clamp(Duration::from_millis(100), Duration::from_secs(1))
    }
}

/// The soft limit on open files (Linux: from /proc; elsewhere unknown).
fn open_file_limit() -> Option<usize> {
    let limits = std::fs::read_to_string("/proc/self/limits").ok()?;
    parse_open_file_limit(&limits)
}

fn parse_open_file_limit(limits: &str) -> Option<usize> {
    let line = limits.lines().find(|l| l.starts_with("Max open files"))?;
    line.trim_start_matches("Max open files")
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

/// Serves `app` on `listener` until `shutdown`, then until every connection has closed.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    limits: Limits,
    shutdown: CancellationToken,
) {
    let permits = Arc::new(Semaphore::new(limits.max_connections));
    let mut trouble = AcceptTrouble::default();
    loop {
        let permit = tokio::select! {
            p = permits.clone().acquire_owned() => p.expect("the semaphore is never closed"),
            _ = shutdown.cancelled() => break,
        };
        let (tcp, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(c) => c,
                Err(e) => {
                    trouble.failed(e).await;
                    continue;
                }
            },
            _ = shutdown.cancelled() => break,
        };
        trouble.recovered();
        // Responses are one write each: send them at once rather than wait for the client's ACK.
        if let Err(e) = tcp.set_nodelay(true) {
            tracing::debug!(error = %e, "TCP_NODELAY not set");
        }
        let (app, shutdown) = (app.clone(), shutdown.clone());
        tokio::spawn(async move {
            connection(tcp, peer, app, limits, shutdown).await;
            drop(permit);
        });
    }
    drop(listener);
    // Every connection holds a permit until it closes.
    let all = u32::try_from(limits.max_connections).unwrap_or(u32::MAX);
    let _ = permits.acquire_many(all).await;
}

async fn connection(
    tcp: TcpStream,
    peer: SocketAddr,
    app: Router,
    limits: Limits,
    shutdown: CancellationToken,
) {
    let activity = Arc::new(Activity::new());
    let io = TokioIo::new(Watched {
        inner: tcp,
        activity: activity.clone(),
    });
    let service = {
        let activity = activity.clone();
        hyper::service::service_fn(move |mut req: hyper::Request<Incoming>| {
            // The peer address reaches the handlers (login throttling by client address).
            req.extensions_mut().insert(ConnectInfo(peer));
            let mut app = app.clone();
            let activity = activity.clone();
            activity.request_started();
            async move {
                let res = app.call(req.map(Body::new)).await;
                activity.request_finished();
                res
            }
        })
    };
    let conn = hyper::server::conn::http1::Builder::new().serve_connection(io, service);
    tokio::pin!(conn);
    let mut tick = tokio::time::interval(limits.tick());
    let mut closing = false;
    loop {
        tokio::select! {
            done = conn.as_mut() => {
                if let Err(e) = done {
                    tracing::debug!(error = %e, "connection ended with an error");
                }
                return;
            }
            _ = shutdown.cancelled(), if !closing => {
                // Finishes the request in flight, if any, then closes.
                conn.as_mut().graceful_shutdown();
                closing = true;
            }
            _ = tick.tick() => {
                if let Some(why) = activity.overdue(&limits) {
                    tracing::debug!(%peer, why, "closing connection");
                    metrics::counter!("simgate_http_connections_closed_total", "reason" => why)
                        .increment(1);
                    // No request in flight: dropping the connection closes the socket.
                    return;
                }
            }
        }
    }
}

/// What a connection has been doing, for its watchdog: milliseconds since it opened.
struct Activity {
    opened: Instant,
    in_flight: AtomicUsize,
    served: AtomicBool,
    /// Last byte read or written, or request finished.
    last: AtomicU64,
    /// First byte of a request head not yet complete (0: none).
    head_started: AtomicU64,
}

impl Activity {
    fn new() -> Activity {
        Activity {
            opened: Instant::now(),
            in_flight: AtomicUsize::new(0),
            served: AtomicBool::new(false),
            last: AtomicU64::new(0),
            head_started: AtomicU64::new(0),
        }
    }

    fn now(&self) -> u64 {
        u64::try_from(self.opened.elapsed().as_millis())
            .unwrap_or(u64::MAX)
            .max(1)
    }

    fn read(&self, bytes: usize) {
        self.read_at(bytes, self.now());
    }

    fn read_at(&self, bytes: usize, now: u64) {
        if bytes == 0 {
            return;
        }
        self.last.store(now, Relaxed);
        if self.in_flight.load(Relaxed) == 0 {
            let _ = self.head_started.compare_exchange(0, now, Relaxed, Relaxed);
        }
    }

    fn wrote(&self) {
        self.last.store(self.now(), Relaxed);
    }

    fn request_started(&self) {
        self.in_flight.fetch_add(1, Relaxed);
        self.served.store(true, Relaxed);
        self.head_started.store(0, Relaxed);
    }

    fn request_finished(&self) {
        self.request_finished_at(self.now());
    }

    fn request_finished_at(&self, now: u64) {
        self.in_flight.fetch_sub(1, Relaxed);
        self.last.store(now, Relaxed);
    }

    fn overdue(&self, limits: &Limits) -> Option<&'static str> {
        self.overdue_at(self.now(), limits)
    }

    /// Why the connection should close at `now`, if it should. A request in flight is bounded by
    /// the request time-out instead.
    fn overdue_at(&self, now: u64, limits: &Limits) -> Option<&'static str> {
        if self.in_flight.load(Relaxed) > 0 {
            return None;
        }
        let past =
            |since: u64, limit: Duration| u128::from(now.saturating_sub(since)) > limit.as_millis();
        let head = self.head_started.load(Relaxed);
        let served = self.served.load(Relaxed);
        if head != 0 {
            // A head begun and not complete, on a new or a kept-alive connection.
            return past(head, limits.header_read).then_some("header_read_timeout");
        }
        if !served {
            // A new connection that has sent nothing.
            return past(0, limits.header_read).then_some("header_read_timeout");
        }
        past(self.last.load(Relaxed), limits.keep_alive_idle).then_some("keep_alive_idle")
    }
}

/// A TCP stream that reports its traffic to the connection's [`Activity`].
struct Watched {
    inner: TcpStream,
    activity: Arc<Activity>,
}

impl AsyncRead for Watched {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let polled = Pin::new(&mut self.inner).poll_read(cx, buf);
        if let Poll::Ready(Ok(())) = polled {
            self.activity.read(buf.filled().len() - before);
        }
        polled
    }
}

impl AsyncWrite for Watched {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let polled = Pin::new(&mut self.inner).poll_write(cx, buf);
        if let Poll::Ready(Ok(n)) = polled {
            if n > 0 {
                self.activity.wrote();
            }
        }
        polled
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let polled = Pin::new(&mut self.inner).poll_write_vectored(cx, bufs);
        if let Poll::Ready(Ok(n)) = polled {
            if n > 0 {
                self.activity.wrote();
            }
        }
        polled
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }
}

/// Accept failures: a client that gave up before we accepted is nothing; running out of file
/// descriptors (or memory) is an episode, logged when it starts and when it ends, with backoff
/// between attempts so that the loop does not spin.
#[derive(Default)]
struct AcceptTrouble {
    since: Option<Instant>,
    failures: u64,
}

impl AcceptTrouble {
    async fn failed(&mut self, e: io::Error) {
        if matches!(
            e.kind(),
            io::ErrorKind::ConnectionAborted
                | io::ErrorKind::ConnectionReset
                | io::ErrorKind::ConnectionRefused
                | io::ErrorKind::Interrupted
        ) {
            return;
        }
        self.failures += 1;
        if self.since.is_none() {
            self.since = Some(Instant::now());
            tracing::error!(error = %e, "cannot accept connections (out of file descriptors?); backing off \
                 until it passes");
        }
        metrics::counter!("simgate_accept_errors_total").increment(1);
        tokio::time::sleep(accept_backoff(self.failures)).await;
    }

    fn recovered(&mut self) {
        if let Some(since) = self.since.take() {
            tracing::warn!(failures = self.failures, lasted = ?since.elapsed(), "accepting connections again");
        }
        self.failures = 0;
    }
}

/// 10 ms, doubling, at most 1 s.
fn accept_backoff(failures: u64) -> Duration {
    Duration::from_millis(
        10u64
            .saturating_mul(1 << failures.clamp(1, 8).saturating_sub(1))
            .min(1000),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits() -> Limits {
        Limits {
            header_read: Duration::from_millis(50),
            keep_alive_idle: Duration::from_millis(200),
            max_connections: 1,
        }
    }

    #[test]
    fn the_open_file_limit_is_read_from_proc() {
        let text = "Limit                     Soft Limit           Hard Limit           Units\n\
                    Max processes             127431               127431               processes\n\
                    Max open files            1024                 524288               files\n";
        assert_eq!(parse_open_file_limit(text), Some(1024));
        assert_eq!(
            parse_open_file_limit("Max open files  unlimited  unlimited  files"),
            None
        );
        assert_eq!(parse_open_file_limit(""), None);
    }

    #[test]
    fn accept_backoff_grows_to_a_second() {
        assert_eq!(accept_backoff(1), Duration::from_millis(10));
        assert_eq!(accept_backoff(2), Duration::from_millis(20));
        assert_eq!(accept_backoff(50), Duration::from_secs(1));
    }

    #[test]
    fn a_silent_new_connection_is_closed_after_the_header_time_out() {
        let a = Activity::new();
        assert_eq!(a.overdue_at(50, &limits()), None);
        assert_eq!(a.overdue_at(51, &limits()), Some("header_read_timeout"));
    }

    #[test]
    fn a_slow_first_head_is_closed_after_the_header_time_out_from_its_first_byte() {
        let a = Activity::new();
        a.read_at(3, 40);
        assert_eq!(a.overdue_at(90, &limits()), None);
        assert_eq!(a.overdue_at(91, &limits()), Some("header_read_timeout"));
    }

    #[test]
    fn a_request_in_flight_is_never_closed_and_a_served_connection_may_idle_longer() {
        let a = Activity::new();
        a.read_at(10, 1);
        a.request_started();
        assert_eq!(a.overdue_at(10_000, &limits()), None, "in flight");
        a.request_finished_at(10_000);
        assert_eq!(
            a.overdue_at(10_200, &limits()),
            None,
            "idle, within keep-alive"
        );
        assert_eq!(a.overdue_at(10_201, &limits()), Some("keep_alive_idle"));
    }

    #[test]
    fn a_partial_head_on_a_kept_alive_connection_has_the_header_time_out() {
        let a = Activity::new();
        a.request_started();
        a.request_finished_at(100);
        a.read_at(3, 150);
        assert_eq!(a.overdue_at(200, &limits()), None);
        assert_eq!(a.overdue_at(201, &limits()), Some("header_read_timeout"));
    }
}
