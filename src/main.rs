use clap::Parser;

/// glibc's allocator was an eighth of the server's time on the single-device read (malloc, free and
/// their consolidation under two threads); mimalloc's thread-local pages cost less.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

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
