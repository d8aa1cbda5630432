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

#[derive(Parser)]
#[command(
    name = "simgate",
    version,
    about = "SIM inventory and MVNO subscription API server"
)]
pub struct Cli {
    /// A TOML file overriding config/default.toml (environment variables override both).
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Subcommand)]
pub enum Command {
    /// Run the HTTP server (the default).
    Serve,
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
    /// Exit 0 when the server on `listen` answers /healthz (for container health checks).
    Healthcheck {
        /// host:port to check (default: the configured listen address).
        #[arg(long)]
        addr: Option<String>,
    },
    /// Print the default configuration file.
    DefaultConfig,
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
    },
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
    let config = Config::load(cli.config.as_deref())?;
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => {
            crate::init_tracing(&config);
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
        Command::Healthcheck { addr } => healthcheck(&addr.unwrap_or(config.listen)),
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
    let (state, boot) = crate::build(config, Arc::new(SystemClock)).await?;
    if let Some(b) = boot {
        println!("created the ADMIN user {}", b.email);
        if let Some(pw) = b.generated_password {
            println!("generated admin password (shown only now): {pw}");
        }
    }
    let (platforms, _) = state
        .store
        .org_list(
            &crate::domain::access::Scope::All,
            None,
            crate::domain::paging::Page {
                offset: 0,
                limit: 1,
            },
        )
        .await?;
    let platform = platforms
        .into_iter()
        .next()
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
            let generated = password
                .is_none()
                .then(|| crate::auth::token::generate()[3..23].to_string());
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
        } => import_sims(state, p, &file, in_storage_at.as_deref(), batch).await?,
        AdminCommand::CreateToken {
            user,
            label,
            expires_in_days,
        } => {
            let found = match EntityRef::parse(&user) {
                Some(r) => state.store.user_find(&p.scope(), &r).await?,
                None => match state
                    .store
                    .identity_by_email(&user.to_ascii_lowercase())
                    .await?
                {
                    Some(i) => {
                        let r = EntityRef::Id(i.user_id);
                        state.store.user_find(&p.scope(), &r).await?
                    }
                    None => None,
                },
            };
            let user = found.ok_or_else(|| anyhow::anyhow!("user {user} not found"))?;
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

/// A plain HTTP/1.0 GET of /healthz: no HTTP client in the binary for one request.
fn healthcheck(listen: &str) -> anyhow::Result<()> {
    let addr = listen
        .replace("0.0.0.0", "127.0.0.1")
        .replace("[::]", "[::1]");
    let mut stream = std::net::TcpStream::connect(&addr)?;
    stream.set_read_timeout(Some(Duration::from_secs(5)))?;
    stream.write_all(format!("GET /healthz HTTP/1.0\r\nHost: {addr}\r\n\r\n").as_bytes())?;
    let mut response = String::new();
    stream.read_to_string(&mut response)?;
    let status_line = response.lines().next().unwrap_or_default();
    if status_line.split_whitespace().nth(1) == Some("200") {
        println!("ok");
        Ok(())
    } else {
        anyhow::bail!("unhealthy: {status_line}")
    }
}

/// Streams a SIM file into the database in transactions of `batch` lines, with a progress bar.
async fn import_sims(
    state: &AppState,
    p: &Principal,
    file: &std::path::Path,
    in_storage_at: Option<&str>,
    batch: usize,
) -> anyhow::Result<()> {
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
            chunk.push((line_no, line.trim_end_matches(['\n', '\r']).to_string()));
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
    for s in skipped.iter().take(20) {
        eprintln!("line {}: {}", s.line, s.reason);
    }
    println!(
        "{}",
        serde_json::json!({"imported": imported, "skipped": skipped.len()})
    );
    Ok(())
}

async fn demo(config: Config, opts: crate::demo::Options) -> anyhow::Result<()> {
    let (state, boot) = crate::build(config, Arc::new(SystemClock)).await?;
    if let Some(b) = &boot {
        println!("created the ADMIN user {}", b.email);
        if let Some(pw) = &b.generated_password {
            println!("generated admin password (shown only now): {pw}");
        }
    }
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
        "demo data in {:.1}s: {} resellers, {} customers, {} SIMs, {} MVNO accounts",
        started.elapsed().as_secs_f64(),
        s.resellers,
        s.customers,
        s.sims,
        s.accounts
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
