//! The command line: `serve` (default), `migrate`, `admin ...`, `healthcheck`, `default-config`.
use crate::clock::SystemClock;
use crate::config::{Config, DEFAULT_TOML};
use crate::domain::access::{AccessLevel, Principal};
use crate::domain::ids::EntityRef;
use crate::domain::org::OrgKind;
use crate::service::orgs::{self, CreateOrg};
use crate::service::tokens;
use crate::service::users::{self, CreateUser};
use crate::state::AppState;
use clap::{Parser, Subcommand};
use std::io::{Read, Write};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

/// Printed after `--help`: what the environment sets and which access levels exist.
pub const ENV_HELP: &str = "\
Environment (overrides the config file; `simgate default-config` prints every setting):
  SIMGATE_LISTEN            address to listen on [127.0.0.1:8080]; a bare port keeps the host
  SIMGATE_DATABASE_URL      sqlite://PATH or postgres://USER:PASS@HOST:PORT/DB [sqlite://data/simgate.db]
  SIMGATE_ADMIN_EMAIL       the ADMIN user created on first start [admin@localhost]
  SIMGATE_ADMIN_PASSWORD    its password; empty: generated and printed once on first start
  SIMGATE_JWT_SECRET        signs emnify JWTs; empty: generated once and kept in the database
  SIMGATE_LOG_FORMAT        text | json [text]
  SIMGATE_CONFIG            a TOML file, as --config
  SIMGATE_<SECTION>__<KEY>  any other setting, e.g. SIMGATE_HTTP__REQUEST_TIMEOUT_SECS=10
  A SIMGATE_ variable that sets nothing is named in a warning at start.

Access levels, lowest first:
  NO_LOGIN, PERSONAL, VIEWER, MANAGER, OWNER  in any organisation
  RESELLER, RESELLER_ADMIN                    in reseller organisations (SERVICE_PROVIDER, RESELLER)
  ADMIN                                       in the PLATFORM organisation only";

#[derive(Parser)]
#[command(
    name = "simgate",
    version,
    about = "SIM inventory and MVNO subscription API server",
    after_help = ENV_HELP
)]
pub struct Cli {
    /// A TOML file overriding config/default.toml (environment variables override both).
    #[arg(long, global = true, value_name = "FILE", env = "SIMGATE_CONFIG")]
    pub config: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Subcommand)]
pub enum Command {
    /// Run the HTTP server (the default).
    Serve(ServeArgs),
    /// Apply database migrations and exit.
    Migrate,
    /// Manage organisations, users and tokens directly in the database.
    #[command(subcommand)]
    Admin(AdminCommand),
    /// Fill a fresh database with a realistic, reproducible dataset (same seed, same data).
    Demo {
        /// SIMs in stock (plus two emnify batches of 5% each).
        #[arg(long, default_value_t = 2_000)]
        sims: u64,
        #[arg(long, default_value_t = 42)]
        seed: u64,
        /// Resellers (default: grows with --sims, 3 to 50).
        #[arg(long)]
        resellers: Option<usize>,
        /// Customers (default: grows with --sims, 10 to 5,000).
        #[arg(long)]
        customers: Option<usize>,
    },
    /// Exit 0 when the server on `listen` is live (/healthz) or, with --ready, ready (/readyz: its
    /// database answers), for container health checks.
    Healthcheck {
        /// host:port to check (default: the configured listen address).
        #[arg(long)]
        addr: Option<String>,
        /// Check readiness rather than liveness.
        #[arg(long)]
        ready: bool,
    },
    /// Print the default configuration file.
    DefaultConfig,
}

#[derive(clap::Args, Default)]
pub struct ServeArgs {
    /// Address to listen on, e.g. 0.0.0.0:8080 or a bare port (overrides SIMGATE_LISTEN).
    #[arg(long, value_name = "ADDR")]
    pub listen: Option<String>,
    /// sqlite://PATH or postgres://... (overrides SIMGATE_DATABASE_URL).
    #[arg(long, value_name = "URL")]
    pub database_url: Option<String>,
}

#[derive(Subcommand)]
pub enum AdminCommand {
    /// Create an organisation.
    CreateOrg {
        #[arg(long)]
        name: String,
        /// MNO, SERVICE_PROVIDER, RESELLER or ENTERPRISE.
        #[arg(long)]
        kind: String,
        /// Parent org (id or oid); default: the PLATFORM org.
        #[arg(long)]
        parent: Option<String>,
        #[arg(long)]
        country: Option<String>,
    },
    /// Create a user. Without --password one is generated and printed.
    CreateUser {
        /// Organisation id or oid.
        #[arg(long)]
        org: String,
        #[arg(long)]
        email: String,
        #[arg(long)]
        name: String,
        #[arg(long)]
        access_level: String,
        #[arg(long, env = "SIMGATE_NEW_USER_PASSWORD", hide_env_values = true)]
        password: Option<String>,
    },
    /// Import SIMs from a file of TelecomX import lines (any size; streamed in transactions of
    /// --batch lines; ICCs that exist already are skipped).
    ImportSims {
        /// `ICC;PUK1;PUK2;PIN1;PIN2;FORM_FACTOR;NETWORK[;ACTIVATION_CODE;TAG;AUTO_ASSIGN]` per line.
        file: PathBuf,
        /// Org (id or oid) to store the SIMs at; default central stock.
        #[arg(long)]
        in_storage_at: Option<String>,
        /// Lines per transaction.
        #[arg(long, default_value_t = 10_000)]
        batch: usize,
        /// Exit 0 even when lines were skipped (by default skipped lines make the exit status 1).
        #[arg(long)]
        allow_skips: bool,
        /// Write every skipped line's number and reason to FILE (`LINE<TAB>REASON` per line).
        #[arg(long, value_name = "FILE")]
        rejects: Option<PathBuf>,
    },
    /// Set a user's password (a lost admin password, say); without --password one is generated and
    /// printed. The user's sessions are ended.
    SetPassword {
        /// User id, oid or email.
        #[arg(long)]
        user: String,
        #[arg(long, env = "SIMGATE_NEW_USER_PASSWORD", hide_env_values = true)]
        password: Option<String>,
    },
    /// List organisations, one JSON object per line.
    ListOrgs,
    /// List users (optionally of one organisation), one JSON object per line.
    ListUsers {
        /// Organisation id or oid.
        #[arg(long)]
        org: Option<String>,
    },
    /// Copy the SQLite database to FILE, consistently, while the server runs (VACUUM INTO). On
    /// Postgres use pg_dump (README, "Backups").
    Backup {
        /// The copy to write (must not exist).
        file: PathBuf,
    },
    /// Add a mobile operator (it appears in `GET /api/v1/operator` for every org).
    AddOperator {
        #[arg(long)]
        name: String,
        /// ISO 3166-1 alpha-2 country code, e.g. dk.
        #[arg(long)]
        country: String,
        /// Mobile network codes (repeat the flag or separate by commas).
        #[arg(long, value_delimiter = ',')]
        mnc: Vec<String>,
        /// TAP codes (repeat the flag or separate by commas).
        #[arg(long, value_delimiter = ',')]
        tapcode: Vec<String>,
        /// An id below 100,000 (emnify's numbering); default: the next from 100,000 up.
        #[arg(long)]
        id: Option<i64>,
    },
    /// List operators (of one country), one JSON object per line.
    ListOperators {
        /// ISO 3166-1 alpha-2 country code.
        #[arg(long)]
        country: Option<String>,
    },
    /// Delete an operator no endpoint's blacklist names.
    DeleteOperator { id: i64 },
    /// Create a tariff profile for an org's subtree (default: every org).
    CreateTariffProfile {
        #[arg(long)]
        name: String,
        #[arg(long)]
        description: Option<String>,
        /// Owner org (id or oid).
        #[arg(long)]
        owner_org: Option<String>,
    },
    /// List tariff profiles (of one owner org), one JSON object per line.
    ListTariffProfiles {
        #[arg(long)]
        org: Option<String>,
    },
    /// Delete a tariff profile no live endpoint uses.
    DeleteTariffProfile { id: i64 },
    /// Create an IP address space an org's endpoints (and its subtree's) take addresses from.
    CreateIpSpace {
        /// A CIDR block, e.g. 10.191.216.64/28.
        #[arg(long)]
        ip_address_space: String,
        /// Org id or oid.
        #[arg(long)]
        org: String,
    },
    /// List IP address spaces (of one org), one JSON object per line.
    ListIpSpaces {
        #[arg(long)]
        org: Option<String>,
    },
    /// Delete an IP address space no endpoint holds an address in.
    DeleteIpSpace { id: i64 },
    /// Create an API token for a user; it is printed once.
    CreateToken {
        /// User id, oid or email.
        #[arg(long)]
        user: String,
        #[arg(long)]
        label: Option<String>,
        #[arg(long)]
        expires_in_days: Option<i64>,
    },
}

pub async fn run(cli: Cli) -> anyhow::Result<()> {
    if let Some(Command::DefaultConfig) = cli.command {
        print!("{DEFAULT_TOML}");
        return Ok(());
    }
    let mut config = Config::load(cli.config.as_deref())?;
    match cli
        .command
        .unwrap_or_else(|| Command::Serve(ServeArgs::default()))
    {
        Command::Serve(args) => {
            if let Some(listen) = args.listen {
                config.listen = crate::config::listen_address(&listen, &config.listen);
            }
            if let Some(url) = args.database_url {
                config.database.url = url;
            }
            crate::init_tracing(&config);
            for var in crate::config::unknown_env(
                std::env::vars_os().filter_map(|(k, _)| k.into_string().ok()),
            ) {
                tracing::warn!(
                    variable = %var,
                    "{var} is set but is no simgate setting (see `simgate default-config`); it is ignored"
                );
            }
            let shutdown = tokio_util::sync::CancellationToken::new();
            crate::cancel_on_signal(shutdown.clone());
            crate::serve(config, shutdown).await
        }
        Command::Migrate => {
            crate::init_tracing(&config);
            crate::store::connect(
                &config.database.url,
                None,
                &crate::store::PoolConfig::single(),
            )
            .await?
            .close()
            .await;
            println!("migrations applied");
            Ok(())
        }
        Command::Healthcheck { addr, ready } => healthcheck(&addr.unwrap_or(config.listen), ready),
        Command::Admin(cmd) => admin_command(config, cmd).await,
        Command::Demo {
            sims,
            seed,
            resellers,
            customers,
        } => {
            demo(
                config,
                crate::demo::Options {
                    sims,
                    seed,
                    resellers,
                    customers,
                },
            )
            .await
        }
        Command::DefaultConfig => unreachable!("handled above"),
    }
}

/// The CLI acts with the rights of the platform's ADMIN, without a session.
fn system_principal(platform_id: i64, platform_oid: String, platform_path: String) -> Principal {
    Principal {
        user_id: 0,
        user_oid: String::new(),
        email: "cli".into(),
        name: "simgate admin CLI".into(),
        level: AccessLevel::Admin,
        org_id: platform_id,
        org_oid: platform_oid,
        org_kind: OrgKind::Platform,
        org_path: platform_path,
        token_id: None,
        request_id: Some("cli".into()),
    }
}

async fn admin_command(config: Config, cmd: AdminCommand) -> anyhow::Result<()> {
    if let AdminCommand::Backup { file } = &cmd {
        return backup(&config, file).await;
    }
    let (state, _) =
        crate::build_announcing(config, Arc::new(SystemClock), crate::banner::first_start).await?;
    let platform = crate::platform(&state.store)
        .await?
        .ok_or_else(|| anyhow::anyhow!("no PLATFORM organisation"))?;
    let p = system_principal(platform.id, platform.oid.clone(), platform.path.clone());
    let result = admin_action(&state, &p, cmd, platform.id).await;
    state.store.close().await;
    result
}

async fn admin_action(
    state: &AppState,
    p: &Principal,
    cmd: AdminCommand,
    platform_id: i64,
) -> anyhow::Result<()> {
    let fail = |e: crate::error::AppError| anyhow::anyhow!("{} ({})", e.public_message(), e.code());
    match cmd {
        AdminCommand::CreateOrg {
            name,
            kind,
            parent,
            country,
        } => {
            let input = CreateOrg {
                name,
                kind,
                parent: Some(parent.unwrap_or_else(|| platform_id.to_string())),
                country,
            };
            let org = orgs::create_org(state, p, input).await.map_err(fail)?;
            println!(
                "{}",
                serde_json::json!({
                    "id": org.id, "oid": org.oid, "name": org.name, "kind": org.kind, "parent_id": org.parent_id
                })
            );
        }
        AdminCommand::CreateUser {
            org,
            email,
            name,
            access_level,
            password,
        } => {
            let generated = password.is_none().then(generate_password);
            let password = password.or_else(|| generated.clone()).unwrap_or_default();
            let user = users::create_user(
                state,
                p,
                CreateUser {
                    org,
                    email,
                    name,
                    password,
                    access_level,
                },
            )
            .await
            .map_err(fail)?;
            println!(
                "{}",
                serde_json::json!({
                    "id": user.id, "oid": user.oid, "org_id": user.org_id, "email": user.email,
                    "access_level": user.access_level
                })
            );
            if let Some(pw) = generated {
                println!("generated password (shown only now): {pw}");
            }
        }
        AdminCommand::ImportSims {
            file,
            in_storage_at,
            batch,
            allow_skips,
            rejects,
        } => {
            let skipped = import_sims(
                state,
                p,
                &file,
                in_storage_at.as_deref(),
                batch,
                rejects.as_deref(),
            )
            .await?;
            if skipped > 0 && !allow_skips {
                anyhow::bail!(
                    "{skipped} line(s) skipped{} (--allow-skips to exit 0 anyway)",
                    rejects
                        .map(|f| format!(", reasons in {}", f.display()))
                        .unwrap_or_default()
                );
            }
        }
        AdminCommand::SetPassword { user, password } => {
            let user = find_user(state, p, &user).await?;
            let generated = password.is_none().then(generate_password);
            let password = password.or_else(|| generated.clone()).unwrap_or_default();
            users::set_password(state, p, &user, password)
                .await
                .map_err(fail)?;
            println!(
                "{}",
                serde_json::json!({"id": user.id, "email": user.email, "password_set": true})
            );
            if let Some(pw) = generated {
                println!("generated password (shown only now): {pw}");
            }
        }
        AdminCommand::ListOrgs => {
            for_each_page(|page| async move {
                let (orgs, total) = state.store.org_list(&p.scope(), None, page).await?;
                let lines = orgs
                    .iter()
                    .map(|o| {
                        serde_json::json!({
                            "id": o.id, "oid": o.oid, "name": o.name, "kind": o.kind,
                            "parent_id": o.parent_id, "country": o.country
                        })
                    })
                    .collect();
                Ok((lines, total))
            })
            .await?
        }
        AdminCommand::ListUsers { org } => {
            let org = match org {
                Some(raw) => Some(
                    crate::service::orgs::org_filter(state, p, "org", &raw)
                        .await
                        .map_err(fail)?
                        .id,
                ),
                None => None,
            };
            for_each_page(|page| async move {
                let (users, total) = state.store.user_list(&p.scope(), org, page).await?;
                let lines = users
                    .iter()
                    .map(|u| {
                        serde_json::json!({
                            "id": u.id, "oid": u.oid, "org_id": u.org_id, "email": u.email,
                            "name": u.name, "access_level": u.access_level, "state": u.state
                        })
                    })
                    .collect();
                Ok((lines, total))
            })
            .await?
        }
        AdminCommand::Backup { .. } => unreachable!("handled before the store opens"),
        AdminCommand::AddOperator {
            name,
            country,
            mnc,
            tapcode,
            id,
        } => {
            let input = crate::service::catalog::OperatorInput {
                id,
                name: Some(name),
                country: Some(country),
                mnc: Some(mnc),
                tapcode: Some(tapcode),
            };
            let row = crate::service::catalog::create_operator(state, p, input)
                .await
                .map_err(fail)?;
            print_json(&crate::api::emnify::operators::entry(row));
        }
        AdminCommand::ListOperators { country } => {
            let country = country.as_deref();
            for_each_page(|page| async move {
                let (rows, total) = crate::service::catalog::operators(state, country, page)
                    .await
                    .map_err(fail)?;
                Ok((
                    json_lines(rows.into_iter().map(crate::api::emnify::operators::entry)),
                    total,
                ))
            })
            .await?
        }
        AdminCommand::DeleteOperator { id } => {
            crate::service::catalog::delete_operator(state, p, id)
                .await
                .map_err(fail)?;
            println!("{}", serde_json::json!({"deleted": {"operator": id}}));
        }
        AdminCommand::CreateTariffProfile {
            name,
            description,
            owner_org,
        } => {
            let row = crate::service::catalog::create_tariff_profile(
                state,
                p,
                Some(name),
                description,
                owner_org.as_deref(),
            )
            .await
            .map_err(fail)?;
            print_json(&crate::api::admin::tariff_profiles::TariffProfileDto::from(
                row,
            ));
        }
        AdminCommand::ListTariffProfiles { org } => {
            let org = org.as_deref();
            for_each_page(|page| async move {
                let (rows, total) = crate::service::catalog::tariff_profiles(state, p, org, page)
                    .await
                    .map_err(fail)?;
                Ok((
                    json_lines(
                        rows.into_iter()
                            .map(crate::api::admin::tariff_profiles::TariffProfileDto::from),
                    ),
                    total,
                ))
            })
            .await?
        }
        AdminCommand::DeleteTariffProfile { id } => {
            crate::service::catalog::delete_tariff_profile(state, p, id)
                .await
                .map_err(fail)?;
            println!("{}", serde_json::json!({"deleted": {"tariff_profile": id}}));
        }
        AdminCommand::CreateIpSpace {
            ip_address_space,
            org,
        } => {
            let row = crate::service::ip_spaces::create(state, p, &ip_address_space, Some(&org))
                .await
                .map_err(fail)?;
            print_json(&crate::api::admin::ip_spaces::IpSpaceDto::from(row));
        }
        AdminCommand::ListIpSpaces { org } => {
            let org = org.as_deref();
            for_each_page(|page| async move {
                let (rows, total) = crate::service::ip_spaces::list(state, p, org, page)
                    .await
                    .map_err(fail)?;
                Ok((
                    json_lines(
                        rows.into_iter()
                            .map(crate::api::admin::ip_spaces::IpSpaceDto::from),
                    ),
                    total,
                ))
            })
            .await?
        }
        AdminCommand::DeleteIpSpace { id } => {
            crate::service::ip_spaces::delete(state, p, id)
                .await
                .map_err(fail)?;
            println!(
                "{}",
                serde_json::json!({"deleted": {"ip_address_space": id}})
            );
        }
        AdminCommand::CreateToken {
            user,
            label,
            expires_in_days,
        } => {
            let user = find_user(state, p, &user).await?;
            let (t, secret) = tokens::issue_token(state, p, &user, label, expires_in_days)
                .await
                .map_err(fail)?;
            println!(
                "{}",
                serde_json::json!({"id": t.id, "user_id": user.id, "token": secret})
            );
        }
    }
    Ok(())
}

fn print_json(value: &impl serde::Serialize) {
    println!("{}", serde_json::to_value(value).unwrap_or_default());
}

fn json_lines<T: serde::Serialize>(rows: impl Iterator<Item = T>) -> Vec<serde_json::Value> {
    rows.map(|r| serde_json::to_value(r).unwrap_or_default())
        .collect()
}

fn generate_password() -> String {
    crate::auth::token::generate()[3..23].to_string()
}

/// A user by id, oid or email.
async fn find_user(
    state: &AppState,
    p: &Principal,
    raw: &str,
) -> anyhow::Result<crate::store::User> {
    let found = match EntityRef::parse(raw) {
        Some(r) => state.store.user_find(&p.scope(), &r).await?,
        None => match state
            .store
            .identity_by_email(&raw.trim().to_ascii_lowercase())
            .await?
        {
            Some(i) => {
                let r = EntityRef::Id(i.user_id);
                state.store.user_find(&p.scope(), &r).await?
            }
            None => None,
        },
    };
    found.ok_or_else(|| anyhow::anyhow!("user {raw} not found"))
}

/// Prints every page a list gives, one JSON object per line.
async fn for_each_page<F, Fut>(mut list: F) -> anyhow::Result<()>
where
    F: FnMut(crate::domain::paging::Page) -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<(Vec<serde_json::Value>, i64)>>,
{
    let mut offset = 0;
    loop {
        let page = crate::domain::paging::Page { offset, limit: 500 };
        let (lines, total) = list(page).await?;
        for line in &lines {
            println!("{line}");
        }
        offset += lines.len() as i64;
        if lines.is_empty() || offset >= total {
            return Ok(());
        }
    }
}

/// `VACUUM INTO`: a consistent copy of a live SQLite database, readers and writers unblocked.
async fn backup(config: &Config, file: &std::path::Path) -> anyhow::Result<()> {
    if !config.database.url.starts_with("sqlite:") {
        anyhow::bail!(
            "simgate admin backup copies an embedded SQLite database; on Postgres use pg_dump \
             (README, \"Backups\")"
        );
    }
    if file.exists() {
        anyhow::bail!(
            "{} exists already; the backup goes to a new file",
            file.display()
        );
    }
    let store = crate::store::connect(
        &config.database.url,
        None,
        &crate::store::PoolConfig::single(),
    )
    .await?;
    let result = store.backup_into(&file.to_string_lossy()).await;
    store.close().await;
    result?;
    crate::store::restrict_file(file)?;
    println!(
        "{}",
        serde_json::json!({"backup": file.display().to_string(), "bytes": std::fs::metadata(file)?.len()})
    );
    Ok(())
}

/// A plain HTTP/1.0 GET of /healthz (or /readyz): no HTTP client in the binary for one request.
fn healthcheck(listen: &str, ready: bool) -> anyhow::Result<()> {
    let addr = listen
        .replace("0.0.0.0", "127.0.0.1")
        .replace("[::]", "[::1]");
    let path = if ready { "/readyz" } else { "/healthz" };
    let fail = |e: std::io::Error| anyhow::anyhow!("cannot reach simgate at {addr}: {e}");
    let mut stream = std::net::TcpStream::connect(&addr).map_err(fail)?;
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .map_err(fail)?;
    stream
        .write_all(format!("GET {path} HTTP/1.0\r\nHost: {addr}\r\n\r\n").as_bytes())
        .map_err(fail)?;
    let mut response = String::new();
    stream.read_to_string(&mut response).map_err(fail)?;
    let status_line = response.lines().next().unwrap_or_default();
    if status_line.split_whitespace().nth(1) == Some("200") {
        println!("ok");
        Ok(())
    } else {
        anyhow::bail!(
            "simgate at {addr} is not {}: {status_line}",
            if ready { "ready" } else { "live" }
        )
    }
}

/// Streams a SIM file into the database in transactions of `batch` lines, with a progress bar; a
/// first line that is a header (`ICC;PUK1;...`) is passed over. Returns how many lines were skipped
/// (their numbers and reasons go to `rejects`, the first 20 to stderr).
async fn import_sims(
    state: &AppState,
    p: &Principal,
    file: &std::path::Path,
    in_storage_at: Option<&str>,
    batch: usize,
    rejects: Option<&std::path::Path>,
) -> anyhow::Result<usize> {
    use std::io::BufRead;
    let fail = |e: crate::error::AppError| anyhow::anyhow!("{} ({})", e.public_message(), e.code());
    let holder = match in_storage_at {
        Some(raw) => {
            let r = EntityRef::parse(raw)
                .ok_or_else(|| anyhow::anyhow!("--in-storage-at: not an organisation id"))?;
            let org = state
                .store
                .org_find(&crate::service::access::SYSTEM, &r)
                .await?
                .ok_or_else(|| anyhow::anyhow!("--in-storage-at: organisation {raw} not found"))?;
            crate::service::inventory::holder_for(state, &org)
                .await
                .map_err(fail)?
        }
        None => None,
    };
    let f = std::fs::File::open(file)?;
    let bar = indicatif::ProgressBar::new(f.metadata()?.len());
    bar.set_style(
        indicatif::ProgressStyle::with_template("{bar:40} {bytes}/{total_bytes} {msg} ({eta})")
            .expect("valid template"),
    );
    let mut reader = std::io::BufReader::new(f);
    let (mut imported, mut skipped, mut line_no) = (0usize, Vec::new(), 0usize);
    let batch = batch.clamp(1, crate::domain::sim::MAX_IMPORT_LINES);
    let mut chunk: Vec<(usize, String)> = Vec::with_capacity(batch);
    loop {
        let mut line = String::new();
        let n = reader.read_line(&mut line)?;
        if n > 0 {
            line_no += 1;
            bar.inc(n as u64);
            let line = line.trim_end_matches(['\n', '\r']);
            if !(line_no == 1 && crate::domain::sim::is_import_header(line)) {
                chunk.push((line_no, line.to_string()));
            }
        }
        if chunk.len() == batch || (n == 0 && !chunk.is_empty()) {
            let plan = crate::domain::sim::plan_lines(
                chunk.iter().map(|(i, l)| (*i, l.as_str())),
                &state.config.inventory.networks,
            );
            let outcome = crate::service::inventory::import_plan(state, p, plan, holder.as_ref())
                .await
                .map_err(fail)?;
            imported += outcome.imported;
            skipped.extend(outcome.skipped);
            bar.set_message(format!("{imported} imported, {} skipped", skipped.len()));
            chunk.clear();
        }
        if n == 0 {
            break;
        }
    }
    bar.finish();
    if let Some(path) = rejects {
        let mut out = std::io::BufWriter::new(
            std::fs::File::create(path)
                .map_err(|e| anyhow::anyhow!("--rejects {}: {e}", path.display()))?,
        );
        for s in &skipped {
            writeln!(out, "{}\t{}", s.line, s.reason)?;
        }
        out.flush()?;
    }
    for s in skipped.iter().take(20) {
        eprintln!("line {}: {}", s.line, s.reason);
    }
    if skipped.len() > 20 && rejects.is_none() {
        eprintln!(
            "... and {} more (--rejects FILE lists them all)",
            skipped.len() - 20
        );
    }
    println!(
        "{}",
        serde_json::json!({"imported": imported, "skipped": skipped.len()})
    );
    Ok(skipped.len())
}

async fn demo(config: Config, opts: crate::demo::Options) -> anyhow::Result<()> {
    let (state, _) =
        crate::build_announcing(config, Arc::new(SystemClock), crate::banner::first_start).await?;
    let bar = indicatif::ProgressBar::new(100);
    bar.set_style(
        indicatif::ProgressStyle::with_template("{bar:40} {pos}% {msg} ({elapsed})")
            .expect("valid template"),
    );
    let started = std::time::Instant::now();
    let summary = crate::demo::run(&state, opts, |pos, step| {
        bar.set_position(pos);
        bar.set_message(step.to_string());
    })
    .await;
    bar.finish();
    state.store.close().await;
    let s = summary?;
    println!(
        "demo data in {:.1}s: {} resellers, {} customers, {} SIMs, {} MVNO accounts, {} devices",
        started.elapsed().as_secs_f64(),
        s.resellers,
        s.customers,
        s.sims,
        s.accounts,
        s.endpoints
    );
    println!(
        "every demo user's password is \"{}\"; for example {} (RESELLER_ADMIN)",
        crate::demo::DEMO_PASSWORD,
        s.reseller_admin
    );
    println!(
        "its application token for POST /api/v1/authenticate: {}",
        s.reseller_token
    );
    Ok(())
}
