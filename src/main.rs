//! The `newsdesk` command: serve the API, migrate, seed, print the OpenAPI document.

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use newsdesk::config::Config;
use newsdesk::{admin, seed, server};

/// mimalloc rather than the system allocator: a cached read is mostly
/// headers and buffers made and dropped, and glibc's malloc took about a
/// tenth of its CPU.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

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
    /// Create an admin account, or promote an existing account to admin.
    CreateAdmin {
        /// The account's email.
        #[arg(long)]
        email: String,
        /// Read the password from standard input instead of prompting.
        #[arg(long)]
        password_stdin: bool,
    },
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
        Command::CreateAdmin {
            email,
            password_stdin,
        } => run_create_admin(&config, &email, password_stdin),
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

fn run_create_admin(
    config: &Config,
    email: &str,
    password_stdin: bool,
) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    let pool = server::open_database(config)?;
    let mut conn = pool.get()?;
    let exists =
        newsdesk::db::users::find_by_email(&mut conn, &email.trim().to_lowercase())?.is_some();
    let password = if password_stdin {
        let mut line = String::new();
        std::io::stdin().read_line(&mut line)?;
        Some(line.trim_end_matches(['\r', '\n']).to_owned())
    } else if exists {
        None
    } else {
        let first = rpassword::prompt_password("Password for the new admin: ")?;
        let again = rpassword::prompt_password("Again: ")?;
        if first != again {
            return Err("the passwords differ".into());
        }
        Some(first)
    };
    let now = newsdesk::clock::Clock::System.now();
    let outcome = admin::create_admin(&mut conn, email, password.as_deref(), now)?;
    eprintln!(
        "{}: {email} is an admin",
        match outcome {
            admin::AdminOutcome::Created => "created",
            admin::AdminOutcome::Promoted => "promoted",
        }
    );
    Ok(())
}

fn fail(err: &dyn std::fmt::Display) -> ExitCode {
    eprintln!("newsdesk: {err}");
    ExitCode::FAILURE
}
