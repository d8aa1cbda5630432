use clap::Parser;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    match simgate::cli::run(simgate::cli::Cli::parse()).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("simgate: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
