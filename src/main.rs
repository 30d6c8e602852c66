//! The `newsdesk` command: serve the API, migrate, seed, print the OpenAPI document.

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use newsdesk::config::Config;
use newsdesk::{seed, server};

#[derive(Parser)]
#[command(name = "newsdesk", version, about = "The newsdesk news API")]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Migrate, add demo content to an empty database, and serve the API (the default).
    Serve,
    /// Apply pending database migrations and exit.
    Migrate,
    /// Fill the database with content.
    Seed {
        /// The hand-written demo publication.
        #[arg(long, conflicts_with = "synthetic")]
        demo: bool,
        /// N generated articles of realistic size, for benchmarks (deterministic).
        #[arg(long, value_name = "N")]
        synthetic: Option<u32>,
    },
    /// Print the OpenAPI document as JSON.
    Openapi,
}

fn main() -> ExitCode {
    let _ = dotenvy::dotenv();
    let cli = Cli::parse();
    if let Some(Command::Openapi) = cli.command {
        return match newsdesk::openapi::openapi().to_pretty_json() {
            Ok(json) => {
                println!("{json}");
                ExitCode::SUCCESS
            }
            Err(e) => fail(&e),
        };
    }
    let config = match Config::from_env() {
        Ok(config) => config,
        Err(e) => return fail(&e),
    };
    server::init_tracing(config.log_format);
    let result = match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => actix_web::rt::System::new().block_on(server::serve(config)),
        Command::Migrate => server::open_database(&config).map(|_| ()),
        Command::Seed { demo, synthetic } => run_seed(&config, demo, synthetic),
        Command::Openapi => Ok(()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => fail(&*e),
    }
}

fn run_seed(
    config: &Config,
    demo: bool,
    synthetic: Option<u32>,
) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    let pool = server::open_database(config)?;
    let mut conn = pool.get()?;
    let started = std::time::Instant::now();
    let report = match (demo, synthetic) {
        (_, Some(n)) => seed::synthetic(&mut conn, n)?,
        (true, None) => seed::demo(&mut conn)?,
        (false, None) => return Err("say what to seed: --demo or --synthetic N".into()),
    };
    eprintln!(
        "seeded {} articles in {:.1} s",
        report.articles,
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

fn fail(err: &dyn std::fmt::Display) -> ExitCode {
    eprintln!("newsdesk: {err}");
    ExitCode::FAILURE
}
