//! Prometheus metrics: requests by route and status, latency, the database pool, the process, the
//! background jobs, logins, idempotent replays and a few business gauges read from the counters.
//! Every metric is described here once, so that each has its `# HELP` line.
use crate::auth::extract::RequestUser;
use axum::extract::{MatchedPath, Request};
use axum::middleware::Next;
use axum::response::Response;
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use std::sync::OnceLock;
use std::time::Instant;

static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();

/// The process-wide recorder (installed once, shared by every router in the process).
pub fn handle() -> &'static PrometheusHandle {
    HANDLE.get_or_init(|| {
        let recorder = PrometheusBuilder::new()
            .set_buckets_for_metric(
                Matcher::Full("simgate_http_request_duration_seconds".into()),
                &[
                    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0,
                ],
            )
            .expect("valid buckets")
            .build_recorder();
        let handle = recorder.handle();
        // Another recorder may already be installed (embedding, tests); ours still renders.
        let _ = metrics::set_global_recorder(recorder);
        describe();
        let v = crate::banner::Version::current();
        metrics::gauge!("simgate_build_info", "version" => v.version, "git_sha" => v.git_sha.unwrap_or(""))
            .set(1.0);
        handle
    })
}

/// The exporter keeps every latency sample until it folds them into the histogram's buckets, which
/// it does when /metrics is rendered or when asked: where nobody scrapes, each request would leave
/// its sample in memory for good. Folded every 5 s (the exporter's own default when it runs its
/// HTTP listener, which simgate does not).
pub fn spawn_upkeep(shutdown: &tokio_util::sync::CancellationToken) -> tokio::task::JoinHandle<()> {
    let shutdown = shutdown.clone();
    tokio::spawn(async move {
        let mut every = tokio::time::interval(std::time::Duration::from_secs(5));
        every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = every.tick() => handle().run_upkeep(),
                _ = shutdown.cancelled() => return,
            }
        }
    })
}

/// Every metric simgate writes, with its help text (the exporter prints `# HELP` for these).
const DESCRIBED: &[(&str, Kind, &str)] = &[
    (
        "simgate_build_info",
        Kind::Gauge,
        "Always 1; the labels name the running version and commit",
    ),
    (
        "simgate_http_requests_total",
        Kind::Counter,
        "HTTP requests answered, by method, matched route and status",
    ),
    (
        "simgate_http_request_duration_seconds",
        Kind::Histogram,
        "Time to answer an HTTP request, by method and matched route",
    ),
    (
        "simgate_http_connections_closed_total",
        Kind::Counter,
        "Connections closed by the server, by reason (slow header, idle)",
    ),
    (
        "simgate_accept_errors_total",
        Kind::Counter,
        "Failed accepts of new connections (e.g. out of file descriptors)",
    ),
    (
        "simgate_request_retries_total",
        Kind::Counter,
        "Requests run again after a transient database error",
    ),
    (
        "simgate_db_pool_connections",
        Kind::Gauge,
        "Database pool connections, by state (idle, busy)",
    ),
    (
        "simgate_login_failures_total",
        Kind::Counter,
        "Logins refused for wrong credentials",
    ),
    (
        "simgate_login_throttled_total",
        Kind::Counter,
        "Logins answered 429 because of too many recent failures",
    ),
    (
        "simgate_idempotent_replays_total",
        Kind::Counter,
        "Writes answered from an earlier run with the same Idempotency-Key",
    ),
    (
        "simgate_job_runs_total",
        Kind::Counter,
        "Background job passes, by job and outcome (ok, failed)",
    ),
    (
        "simgate_job_last_run_timestamp_seconds",
        Kind::Gauge,
        "Unix time the job's last pass ended, by job",
    ),
    (
        "simgate_job_last_duration_seconds",
        Kind::Gauge,
        "How long the job's last pass took, by job",
    ),
    (
        "simgate_sims_in_storage",
        Kind::Gauge,
        "Unused SIMs in storage anywhere (central stock included), by network; from the counters",
    ),
    (
        "simgate_mvno_accounts",
        Kind::Gauge,
        "MVNO accounts by state (purged included)",
    ),
    (
        "process_cpu_seconds_total",
        Kind::Counter,
        "User and system CPU time the process has used",
    ),
    (
        "process_resident_memory_bytes",
        Kind::Gauge,
        "Resident memory of the process",
    ),
    (
        "process_open_fds",
        Kind::Gauge,
        "Open file descriptors of the process",
    ),
    (
        "process_max_fds",
        Kind::Gauge,
        "The process's limit of open file descriptors",
    ),
    (
        "process_start_time_seconds",
        Kind::Gauge,
        "Unix time the process started",
    ),
];

enum Kind {
    Counter,
    Gauge,
    Histogram,
}

fn describe() {
    for (name, kind, help) in DESCRIBED {
        match kind {
            Kind::Counter => metrics::describe_counter!(*name, *help),
            Kind::Gauge => metrics::describe_gauge!(*name, *help),
            Kind::Histogram => metrics::describe_histogram!(*name, *help),
        }
    }
}

/// A background job's pass: counted, timed and stamped.
pub fn job_pass(job: &'static str, started: Instant, ok: bool) {
    let outcome = if ok { "ok" } else { "failed" };
    metrics::counter!("simgate_job_runs_total", "job" => job, "outcome" => outcome).increment(1);
    metrics::gauge!("simgate_job_last_duration_seconds", "job" => job)
        .set(started.elapsed().as_secs_f64());
    metrics::gauge!("simgate_job_last_run_timestamp_seconds", "job" => job).set(unix_now());
}

fn unix_now() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or_default()
}

/// The process's CPU time, memory and file descriptors, read from /proc at scrape time (Linux; on
/// other systems these metrics are absent).
pub fn record_process() {
    let Some(p) = process::read() else { return };
    metrics::counter!("process_cpu_seconds_total").absolute(p.cpu_seconds.round() as u64);
    metrics::gauge!("process_resident_memory_bytes").set(p.resident_bytes as f64);
    metrics::gauge!("process_open_fds").set(p.open_fds as f64);
    if let Some(max) = p.max_fds {
        metrics::gauge!("process_max_fds").set(max as f64);
    }
    metrics::gauge!("process_start_time_seconds").set(p.start_time_seconds);
}

/// The business gauges: read from the database at most every `BUSINESS_EVERY`, so that a scrape
/// every few seconds (or many scrapers) costs the database nothing.
pub async fn record_business(state: &crate::state::AppState) {
    const BUSINESS_EVERY: std::time::Duration = std::time::Duration::from_secs(30);
    {
        let mut last = state
            .business_read_at
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        if last.is_some_and(|t| t.elapsed() < BUSINESS_EVERY) {
            return;
        }
        *last = Some(Instant::now());
    }
    let counts = state.store.business_counts();
    let read = tokio::time::timeout(std::time::Duration::from_secs(2), counts);
    if let Ok(Ok(counts)) = read.await {
        for (network, n) in counts.in_storage {
            metrics::gauge!("simgate_sims_in_storage", "network" => network).set(n as f64);
        }
        for (state, n) in counts.mvno_accounts {
            metrics::gauge!("simgate_mvno_accounts", "state" => state).set(n as f64);
        }
    }
}

mod process {
    pub struct Process {
        pub cpu_seconds: f64,
        pub resident_bytes: u64,
        pub open_fds: usize,
        pub max_fds: Option<u64>,
        pub start_time_seconds: f64,
    }

    /// Clock ticks per second and the page size: 100 and 4096 on every Linux simgate targets
    /// (no libc call for two constants).
    const TICKS: f64 = 100.0;
    const PAGE: u64 = 4096;

    pub fn read() -> Option<Process> {
        let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
        // Fields after the command name, which is in parentheses and may hold spaces.
        let rest = stat.rsplit_once(')')?.1;
        let f: Vec<&str> = rest.split_whitespace().collect();
        // rest[0] is field 3 (state): utime is field 14, stime 15, starttime 22, rss 24.
        let field = |n: usize| f.get(n - 3).and_then(|v| v.parse::<u64>().ok());
        let cpu_seconds = (field(14)? + field(15)?) as f64 / TICKS;
        let resident_bytes = field(24)? * PAGE;
        let boot = std::fs::read_to_string("/proc/stat")
            .ok()?
            .lines()
            .find_map(|l| l.strip_prefix("btime ")?.trim().parse::<u64>().ok())?;
        let start_time_seconds = boot as f64 + field(22)? as f64 / TICKS;
        let open_fds = std::fs::read_dir("/proc/self/fd").ok()?.count();
        let max_fds = std::fs::read_to_string("/proc/self/limits")
            .ok()?
            .lines()
            .find(|l| l.starts_with("Max open files"))
            .and_then(|l| l.split_whitespace().nth(3)?.parse().ok());
        Some(Process {
            cpu_seconds,
            resident_bytes,
            open_fds,
            max_fds,
            start_time_seconds,
        })
    }
}

/// Counts and times every request, and writes its one log line (INFO): method, the matched route
/// (a template: no id, ICC or token of the path), status, latency, request id and the user id of
/// whoever authenticated. Never a header, a query or a body.
pub async fn track(mut req: Request, next: Next) -> Response {
    let method = req.method().to_string();
    let request_id = req
        .headers()
        .get(super::REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("-")
        .to_string();
    let user = RequestUser::default();
    req.extensions_mut().insert(user.clone());
    let matched = RouteSlot::default();
    req.extensions_mut().insert(matched.clone());
    let start = Instant::now();
    let res = next.run(req).await;
    let elapsed = start.elapsed();
    let route = matched
        .0
        .get()
        .map(|p| p.as_str().to_string())
        .unwrap_or_else(|| "unmatched".into());
    let status = res.status().as_u16().to_string();
    tracing::info!(
        target: "simgate::request",
        method = %method,
        route = %route,
        status = res.status().as_u16(),
        latency_ms = (elapsed.as_secs_f64() * 1000.0 * 100.0).round() / 100.0,
        request_id = %request_id,
        user_id = user.get(),
        "request"
    );
    let labels = [
        ("method", method.clone()),
        ("route", route.clone()),
        ("status", status),
    ];
    metrics::counter!("simgate_http_requests_total", &labels).increment(1);
    metrics::histogram!("simgate_http_request_duration_seconds", "method" => method, "route" => route)
        .record(elapsed.as_secs_f64());
    res
}

/// Where [`track`], which wraps the router from outside (before a route is matched), finds the
/// route: it puts an empty slot in the request, [`RouteLabel`] fills it once the router has matched
/// one. A request answered before routing (an idempotent replay, a body over the limit) stays
/// `unmatched`; one that times out or panics in its handler keeps its route.
#[derive(Clone, Default)]
struct RouteSlot(std::sync::Arc<std::sync::OnceLock<MatchedPath>>);

/// Fills the request's [`RouteSlot`] with the matched route. A route layer: it runs on matched
/// routes only.
#[derive(Clone, Copy)]
pub struct RouteLabelLayer;

impl<S> tower::Layer<S> for RouteLabelLayer {
    type Service = RouteLabel<S>;
    fn layer(&self, inner: S) -> RouteLabel<S> {
        RouteLabel(inner)
    }
}

#[derive(Clone)]
pub struct RouteLabel<S>(S);

impl<S: tower::Service<Request>> tower::Service<Request> for RouteLabel<S> {
    type Response = S::Response;
    type Error = S::Error;
    type Future = S::Future;

    fn poll_ready(
        &mut self,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Result<(), S::Error>> {
        self.0.poll_ready(cx)
    }

    fn call(&mut self, req: Request) -> S::Future {
        if let (Some(slot), Some(route)) = (
            req.extensions().get::<RouteSlot>(),
            req.extensions().get::<MatchedPath>(),
        ) {
            let _ = slot.0.set(route.clone());
        }
        self.0.call(req)
    }
}
