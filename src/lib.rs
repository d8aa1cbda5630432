//! simgate: one REST server for SIM inventory and MVNO subscriptions, speaking the TelecomX and
//! emnify dialects over one data model, on Postgres or embedded SQLite.
pub mod api;
pub mod auth;
pub mod banner;
pub mod cli;
pub mod clock;
pub mod config;
pub mod demo;
pub mod domain;
pub mod error;
pub mod jobs;
pub mod server;
pub mod service;
pub mod state;
pub mod store;

use crate::clock::{Clock, SystemClock};
use crate::config::Config;
use crate::domain::access::{AccessLevel, Scope};
use crate::domain::ids::ObjectId;
use crate::domain::org::OrgKind;
use crate::state::AppState;
use crate::store::{Actor, DynStore, NewOrg, NewUser};
use std::sync::Arc;
use tokio_util::sync::CancellationToken;

/// What first start created, for the caller to print.
pub struct Bootstrap {
    pub email: String,
    /// Set when simgate generated the password (it is shown this once).
    pub generated_password: Option<String>,
}

/// On an empty database: the PLATFORM org and its ADMIN user.
pub async fn bootstrap(
    store: &DynStore,
    config: &Config,
    clock: &dyn Clock,
) -> anyhow::Result<Option<Bootstrap>> {
    let actor = Actor::system(clock.now());
    let platform = match platform(store).await? {
        // A start that stopped between the org and its admin (a crash, a full disk) left a
        // platform with no user: the admin is created now, so that it cannot be lost.
        Some(p) if store.user_list(&Scope::All, Some(p.id), one()).await?.1 > 0 => return Ok(None),
        Some(p) => p,
        None => {
            store
                .org_create(
                    NewOrg {
                        oid: ObjectId::generate(actor.at).into_string(),
                        name: config.admin.platform_name.clone(),
                        kind: OrgKind::Platform,
                        parent_id: None,
                        country: None,
                    },
                    &actor,
                )
                .await?
        }
    };
    let generated = config
        .admin
        .password
        .is_empty()
        .then(|| auth::token::generate()[3..27].to_string());
    let password = generated
        .clone()
        .unwrap_or_else(|| config.admin.password.clone());
    let passwords = auth::password::Passwords::new(
        config.auth.argon2_memory_kib,
        config.auth.argon2_iterations,
    );
    let email = service::users::validate_email(&config.admin.email)
        .map_err(|e| anyhow::anyhow!("admin.email: {e}"))?;
    store
        .user_create(
            NewUser {
                oid: ObjectId::generate(actor.at).into_string(),
                org_id: platform.id,
                email: email.clone(),
                name: "Administrator".into(),
                password_hash: passwords.hash_plain_async(password).await,
                access_level: AccessLevel::Admin,
            },
            &actor,
        )
        .await?;
    Ok(Some(Bootstrap {
        email,
        generated_password: generated,
    }))
}

fn one() -> domain::paging::Page {
    domain::paging::Page {
        offset: 0,
        limit: 1,
    }
}

/// The PLATFORM organisation (the root, the first org ever created), if there is one.
pub async fn platform(store: &DynStore) -> anyhow::Result<Option<store::Org>> {
    if store.org_count().await? == 0 {
        return Ok(None);
    }
    let (orgs, _) = store.org_list(&Scope::All, None, one()).await?;
    Ok(orgs
        .into_iter()
        .next()
        .filter(|o| o.kind == OrgKind::Platform))
}

/// The PLATFORM's IP address space from `endpoint.default_ip_address_space`, made once in the
/// database's life (a later start, or one after an admin deleted it, leaves spaces as they are).
pub async fn seed_ip_space(
    store: &DynStore,
    config: &Config,
    clock: &dyn Clock,
) -> anyhow::Result<()> {
    let raw = config.endpoint.default_ip_address_space.trim();
    if raw.is_empty() {
        return Ok(());
    }
    let space = domain::ip::Space::parse(raw)
        .map_err(|e| anyhow::anyhow!("endpoint.default_ip_address_space: {e}"))?;
    if let Some(platform) = platform(store).await? {
        store
            .ip_space_seed(platform.id, &space, &Actor::system(clock.now()))
            .await?;
    }
    Ok(())
}

/// The JWT secret: configured, or generated once and kept in the database for every node.
pub async fn jwt_secret(store: &DynStore, config: &Config) -> anyhow::Result<String> {
    if !config.auth.jwt_secret.is_empty() {
        return Ok(config.auth.jwt_secret.clone());
    }
    Ok(store
        .setting_get_or_init("jwt_secret", &hex::encode(rand::random::<[u8; 32]>()))
        .await?)
}

/// Store, bootstrap and state: everything but the listener. Says nothing (tests, embedding).
pub async fn build(
    config: Config,
    clock: Arc<dyn Clock>,
) -> anyhow::Result<(AppState, Option<Bootstrap>)> {
    build_announcing(config, clock, |_, _| {}).await
}

/// As [`build`], handing a first start's bootstrap to `announce` the moment it is made: whatever
/// fails after that point, the generated password has been shown.
pub async fn build_announcing(
    config: Config,
    clock: Arc<dyn Clock>,
    announce: impl FnOnce(&Bootstrap, &Config),
) -> anyhow::Result<(AppState, Option<Bootstrap>)> {
    let read_url = Some(config.database.read_url.as_str()).filter(|u| !u.is_empty());
    let store = store::connect(&config.database.url, read_url, &config.database.pool())
        .await
        .map_err(|e| {
            anyhow::anyhow!(
                "opening the database {}: {e:#}",
                store::redacted_url(&config.database.url)
            )
        })?;
    let boot = bootstrap(&store, &config, clock.as_ref()).await?;
    if let Some(b) = &boot {
        announce(b, &config);
    }
    seed_ip_space(&store, &config, clock.as_ref()).await?;
    let secret = jwt_secret(&store, &config).await?;
    let state = AppState::new(store, config, clock, &secret);
    // The current month's partitions exist before the first write (and before `demo` fills them).
    jobs::maintenance::run_once(&state).await?;
    Ok((state, boot))
}

/// Runs the server until `shutdown` is cancelled; in-flight requests finish first.
pub async fn serve(config: Config, shutdown: CancellationToken) -> anyhow::Result<()> {
    let mut config = config;
    config.database.validate()?;
    // The listener first: a busy port must fail before first start creates the admin (whose
    // generated password would otherwise be printed by no one).
    let listener = tokio::net::TcpListener::bind(&config.listen)
        .await
        .map_err(|e| anyhow::anyhow!("cannot listen on {}: {e}", config.listen))?;
    let addr = listener.local_addr()?;
    config.listen = addr.to_string();
    let grace = std::time::Duration::from_secs(config.http.shutdown_grace_secs);
    let (state, _) = build_announcing(config, Arc::new(SystemClock), banner::first_start).await?;
    let limits = server::Limits::from_config(&state.config);
    banner::started(&state.config, state.store.backend());
    let store = state.store.clone();
    let mut jobs = jobs::spawn_all(&state, &shutdown);
    jobs.push(api::metrics::spawn_upkeep(&shutdown));
    let app = api::router(state);
    let server = server::serve(listener, app, limits, shutdown.clone());
    // The whole shutdown is bounded: in-flight requests get `http.shutdown_grace_secs`, the jobs
    // and the pool a few seconds more (a database behind a partition would otherwise hold us).
    let stopped = {
        let shutdown = shutdown.clone();
        async move {
            shutdown.cancelled().await;
            tokio::time::sleep(grace).await;
        }
    };
    tokio::select! {
        _ = server => {}
        _ = stopped => tracing::warn!(?grace, "shutdown grace passed with requests in flight; stopping"),
    }
    shutdown.cancel();
    let closing = async {
        for job in jobs {
            let _ = job.await;
        }
        store.close().await;
    };
    if tokio::time::timeout(std::time::Duration::from_secs(5), closing)
        .await
        .is_err()
    {
        tracing::warn!("background jobs or the database pool did not close within 5 s; stopping");
    }
    tracing::info!("simgate stopped");
    Ok(())
}

/// Cancels `token` on ctrl-c or SIGTERM.
pub fn cancel_on_signal(token: CancellationToken) {
    tokio::spawn(async move {
        let ctrl_c = tokio::signal::ctrl_c();
        #[cfg(unix)]
        let term = async {
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(mut s) => {
                    s.recv().await;
                }
                Err(_) => std::future::pending::<()>().await,
            }
        };
        #[cfg(not(unix))]
        let term = std::future::pending::<()>();
        tokio::select! {
            _ = ctrl_c => {},
            _ = term => {},
        }
        // Cancel before logging: a log write that fails or blocks (a closed or full pipe) must not
        // keep the server from stopping.
        token.cancel();
        tracing::info!("shutdown signal received, finishing in-flight requests");
    });
}

pub fn init_tracing(config: &Config) {
    use tracing_subscriber::EnvFilter;
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(&config.log.level));
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    // A log line that cannot be written is dropped: by default tracing-subscriber reports the failed
    // write with `eprintln!`, which panics when stderr itself is the closed pipe.
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(ansi)
        .log_internal_errors(false);
    let _ = if config.log.format == "json" {
        builder.json().try_init()
    } else {
        builder.try_init()
    };
}
