//! What the server tells its operator on stdout: the first start's admin, then one start banner. Text,
//! or with `log.format = "json"` one JSON object per message in the shape of the log lines, so that a
//! container's log stream stays parseable. Written with errors ignored: a closed stdout must not stop
//! the server (`println!` would panic).
use crate::config::Config;
use crate::store::{redacted_url, Backend};
use crate::Bootstrap;
use serde::Serialize;
use serde_json::{json, Value};
use utoipa::ToSchema;

/// The version and, when the build knew them, its commit and date (see build.rs).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Version {
    #[schema(example = "0.1.0")]
    pub version: &'static str,
    /// The commit built, when the build knew it.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(example = "4247f4f0a1b2")]
    pub git_sha: Option<&'static str>,
    /// The build's date (YYYY-MM-DD), when the build was given one.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(example = "2026-12-02")]
    pub build_date: Option<&'static str>,
}

impl Version {
    pub fn current() -> Version {
        Version {
            version: env!("CARGO_PKG_VERSION"),
            git_sha: option_env!("SIMGATE_GIT_SHA").filter(|s| !s.is_empty()),
            build_date: option_env!("SIMGATE_BUILD_DATE").filter(|s| !s.is_empty()),
        }
    }
}

/// First start: the admin created and its password (generated ones are shown this once).
pub fn first_start(boot: &crate::Bootstrap, config: &Config) {
    emit(config, &first_start_lines(boot, config));
}

fn first_start_lines(boot: &Bootstrap, config: &Config) -> Vec<(String, Value)> {
    let url = base_url(&config.listen);
    let mut lines = vec![(
        format!(
            "first start, created the PLATFORM organisation and the ADMIN user {}",
            boot.email
        ),
        json!({"admin_email": boot.email}),
    )];
    lines.push(match &boot.generated_password {
        Some(pw) => (
            format!("generated admin password (shown only now): {pw}"),
            json!({"admin_email": boot.email, "admin_password": pw}),
        ),
        None => (
            "admin password from SIMGATE_ADMIN_PASSWORD".to_string(),
            json!({"admin_email": boot.email}),
        ),
    });
    lines.push((
        format!(
            "log in with\n  curl -s -X POST {url}/auth/login -H 'content-type: application/json' \\\n    \
             -d '{{\"username\":\"{}\",\"password\":\"<password>\"}}'\n\
             a lost password is set again with: simgate admin set-password --user {}",
            boot.email, boot.email
        ),
        json!({"login_url": format!("{url}/auth/login")}),
    ));
    lines
}

/// The start banner: version, backend, where the data is (no credentials), address and URLs.
pub fn started(config: &Config, backend: Backend) {
    emit(config, &[banner(config, backend)]);
}

fn banner(config: &Config, backend: Backend) -> (String, Value) {
    let url = base_url(&config.listen);
    let version = Version::current();
    let database = redacted_url(&config.database.url);
    let build = match (version.git_sha, version.build_date) {
        (Some(sha), Some(date)) => format!(" ({sha}, built {date})"),
        (Some(sha), None) => format!(" ({sha})"),
        _ => String::new(),
    };
    let text = format!(
        "simgate {}{build} listening on {}\n  database  {backend:?} {database}\n  API docs  {url}/docs\n  \
         metrics   {url}/metrics",
        env!("CARGO_PKG_VERSION"),
        config.listen
    );
    let mut fields = serde_json::to_value(version).expect("a version serializes");
    fields["backend"] = format!("{backend:?}").into();
    fields["database"] = database.into();
    fields["listen"] = config.listen.clone().into();
    fields["docs_url"] = format!("{url}/docs").into();
    fields["metrics_url"] = format!("{url}/metrics").into();
    (text, fields)
}

/// The URL a client on this machine uses: a wildcard address is reached on loopback.
pub fn base_url(listen: &str) -> String {
    let addr = listen
        .replacen("0.0.0.0:", "127.0.0.1:", 1)
        .replacen("[::]:", "[::1]:", 1);
    format!("http://{addr}")
}

fn emit(config: &Config, lines: &[(String, Value)]) {
    use std::io::Write;
    let json = config.log.format == "json";
    let mut out = std::io::stdout().lock();
    for (text, fields) in lines {
        let line = if json {
            let mut f = fields.clone();
            f["message"] = text.lines().next().unwrap_or_default().into();
            json!({
                "timestamp": chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
                "level": "INFO",
                "fields": f,
                "target": "simgate",
            })
            .to_string()
        } else {
            text.lines()
                .map(|l| format!("simgate: {l}"))
                .collect::<Vec<_>>()
                .join("\n")
        };
        let _ = writeln!(out, "{line}");
    }
    let _ = out.flush();
}

#[cfg(test)]
mod tests {
    use super::*;

    fn boot(pw: Option<&str>) -> Bootstrap {
        Bootstrap {
            email: "admin@localhost".into(),
            generated_password: pw.map(String::from),
        }
    }

    #[test]
    fn the_first_start_shows_a_generated_password_and_how_to_recover_it() {
        let c = Config::defaults();
        let lines = first_start_lines(&boot(Some("pw-123")), &c);
        let text: String = lines.iter().map(|(t, _)| t.as_str()).collect();
        assert!(text.contains("(shown only now): pw-123"));
        assert!(text.contains("http://127.0.0.1:8080/auth/login"));
        assert!(text.contains("simgate admin set-password --user admin@localhost"));
        assert_eq!(lines[1].1["admin_password"], "pw-123");
        let given = first_start_lines(&boot(None), &c);
        assert!(given
            .iter()
            .all(|(t, f)| !t.contains("pw-") && f.get("admin_password").is_none()));
    }

    #[test]
    fn the_banner_names_backend_place_and_urls_without_credentials() {
        let mut c = Config::defaults();
        c.listen = "0.0.0.0:9000".into();
        c.database.url = "postgres://simgate:s3cret@db:5432/simgate".into();
        let (text, fields) = banner(&c, Backend::Postgres);
        assert!(!text.contains("s3cret") && !fields.to_string().contains("s3cret"));
        assert!(
            text.contains("Postgres postgres://db:5432/simgate"),
            "{text}"
        );
        assert!(text.contains("listening on 0.0.0.0:9000"), "{text}");
        assert_eq!(fields["docs_url"], "http://127.0.0.1:9000/docs");
        assert_eq!(fields["metrics_url"], "http://127.0.0.1:9000/metrics");
        assert_eq!(fields["version"], env!("CARGO_PKG_VERSION"));
        assert_eq!(base_url("[::]:80"), "http://[::1]:80");
    }
}
