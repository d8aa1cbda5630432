//! Slow and idle clients (issue 12): the listener bounds what a connection may hold. Real TCP against
//! `simgate::server::serve` with short limits; each wait is bounded, and each asserts what happened,
//! not how fast.
use axum::routing::get;
use axum::Router;
use simgate::server::{serve, Limits};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_util::sync::CancellationToken;

const LIMITS: Limits = Limits {
    header_read: Duration::from_secs(1),
    keep_alive_idle: Duration::from_secs(3),
    max_connections: 4,
};

async fn start(
    limits: Limits,
) -> (
    std::net::SocketAddr,
    CancellationToken,
    tokio::task::JoinHandle<()>,
) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let app = Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route(
            "/slow",
            get(|| async {
                tokio::time::sleep(Duration::from_millis(1500)).await;
                "done"
            }),
        );
    let shutdown = CancellationToken::new();
    let server = tokio::spawn(serve(listener, app, limits, shutdown.clone()));
    (addr, shutdown, server)
}

/// Whether the server closed the connection within `within` (reads until EOF, ignoring any answer).
async fn closed_within(tcp: &mut TcpStream, within: Duration) -> bool {
    let mut buf = [0u8; 1024];
    tokio::time::timeout(within, async {
        loop {
            match tcp.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(_) => continue,
            }
        }
    })
    .await
    .is_ok()
}

async fn get_on(tcp: &mut TcpStream, path: &str) -> String {
    tcp.write_all(format!("GET {path} HTTP/1.1\r\nHost: t\r\n\r\n").as_bytes())
        .await
        .unwrap();
    let mut buf = vec![0u8; 4096];
    let n = tokio::time::timeout(Duration::from_secs(10), tcp.read(&mut buf))
        .await
        .expect("an answer")
        .unwrap();
    String::from_utf8_lossy(&buf[..n]).into_owned()
}

#[tokio::test]
async fn silent_and_slow_heads_are_cut_off_and_kept_alive_connections_idle_out() {
    let (addr, shutdown, server) = start(LIMITS).await;
    // A connection that sends nothing, and one that never finishes its head.
    let mut silent = TcpStream::connect(addr).await.unwrap();
    let mut partial = TcpStream::connect(addr).await.unwrap();
    partial
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: t\r\n")
        .await
        .unwrap();
    // A client that asked once and keeps the connection.
    let mut kept = TcpStream::connect(addr).await.unwrap();
    assert!(get_on(&mut kept, "/healthz")
        .await
        .starts_with("HTTP/1.1 200"));
    assert!(
        closed_within(&mut silent, Duration::from_secs(5)).await,
        "silent connection kept"
    );
    assert!(
        closed_within(&mut partial, Duration::from_secs(5)).await,
        "partial head kept"
    );
    // Past the header time-out the kept-alive connection still serves (it is idle, not slow) ...
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert!(get_on(&mut kept, "/healthz")
        .await
        .starts_with("HTTP/1.1 200"));
    // ... until it has been idle for the keep-alive time.
    assert!(
        closed_within(&mut kept, Duration::from_secs(8)).await,
        "idle connection kept"
    );
    // A request that takes longer than the header time-out is not cut off.
    let mut slow = TcpStream::connect(addr).await.unwrap();
    assert!(get_on(&mut slow, "/slow").await.contains("done"));
    shutdown.cancel();
    tokio::time::timeout(Duration::from_secs(10), server)
        .await
        .expect("server stops")
        .unwrap();
}

/// More idle connections than the cap: the server keeps serving once the idle ones are cut off, and
/// never holds more than the cap open.
#[tokio::test]
async fn a_crowd_of_idle_connections_delays_but_never_wedges_the_server() {
    let (addr, shutdown, server) = start(LIMITS).await;
    let mut crowd = Vec::new();
    for _ in 0..12 {
        crowd.push(TcpStream::connect(addr).await.unwrap());
    }
    let mut client = TcpStream::connect(addr).await.unwrap();
    // Twelve idle connections ahead of it, four at a time, each cut off after the header time-out.
    let answer = tokio::time::timeout(Duration::from_secs(20), get_on(&mut client, "/healthz"))
        .await
        .expect("answered once the idle connections are cut off");
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    for mut c in crowd {
        assert!(closed_within(&mut c, Duration::from_secs(5)).await);
    }
    shutdown.cancel();
    tokio::time::timeout(Duration::from_secs(10), server)
        .await
        .expect("server stops")
        .unwrap();
}

/// On shutdown the request in flight finishes, idle connections close, new ones are refused.
#[tokio::test]
async fn shutdown_lets_the_request_in_flight_finish() {
    let (addr, shutdown, server) = start(LIMITS).await;
    let mut idle = TcpStream::connect(addr).await.unwrap();
    assert!(get_on(&mut idle, "/healthz")
        .await
        .starts_with("HTTP/1.1 200"));
    let busy = tokio::spawn(async move {
        let mut tcp = TcpStream::connect(addr).await.unwrap();
        get_on(&mut tcp, "/slow").await
    });
    tokio::time::sleep(Duration::from_millis(300)).await;
    shutdown.cancel();
    assert!(busy.await.unwrap().contains("done"));
    assert!(closed_within(&mut idle, Duration::from_secs(5)).await);
    tokio::time::timeout(Duration::from_secs(10), server)
        .await
        .expect("server stops")
        .unwrap();
    assert!(
        TcpStream::connect(addr).await.is_err(),
        "still accepting after shutdown"
    );
}
