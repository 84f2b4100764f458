//! The command line: `serve`, `check-config`, `migrate`.

use crate::config::Settings;
use crate::logging::{self, LogFormat};
use anyhow::Context;
use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;
use stocksync_store::Store;
use tokio_util::sync::CancellationToken;

#[derive(Parser)]
#[command(
    name = "stocksync",
    version,
    about = "Keeps POS stock counts and a web shop's stock table in agreement"
)]
pub struct Cli {
    /// Log lines as text or as JSON objects.
    #[arg(long, value_enum, global = true, default_value_t)]
    log_format: LogFormat,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the service (defaults: SQLite file stocksync.db, 127.0.0.1:5000, no accounts).
    Serve(ConfigArg),
    /// Validate the configuration and print it without secrets; exit 1 listing every problem.
    CheckConfig(ConfigArg),
    /// Bring the database schema up to date, then exit.
    Migrate(ConfigArg),
}

#[derive(clap::Args)]
struct ConfigArg {
    /// The appsettings.json to read (else $STOCKSYNC_CONFIG, else ./appsettings.json if present).
    #[arg(long)]
    config: Option<PathBuf>,
}

impl ConfigArg {
    fn load(&self) -> Result<Settings, crate::config::ConfigErrors> {
        Settings::load(self.config.as_deref(), &|name| std::env::var(name).ok())
    }
}

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    logging::init(cli.log_format);
    let settings = match &cli.command {
        Command::Serve(arg) | Command::CheckConfig(arg) | Command::Migrate(arg) => arg.load(),
    };
    let settings = match settings {
        Ok(settings) => settings,
        Err(errors) => {
            eprint!("{errors}");
            return ExitCode::FAILURE;
        }
    };
    let outcome = match cli.command {
        Command::CheckConfig(_) => {
            print!("{}", settings.summary());
            println!("the configuration is valid");
            Ok(())
        }
        Command::Migrate(_) => runtime().block_on(migrate(settings)),
        Command::Serve(_) => runtime().block_on(serve(settings)),
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            tracing::error!("{err:#}");
            ExitCode::FAILURE
        }
    }
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime")
}

async fn migrate(settings: Settings) -> anyhow::Result<()> {
    let store = Store::connect(&settings.database).await?;
    store.migrate().await?;
    store.close().await;
    println!("the database {} is up to date", settings.database);
    Ok(())
}

async fn serve(settings: Settings) -> anyhow::Result<()> {
    let listener = tokio::net::TcpListener::bind(settings.listen)
        .await
        .with_context(|| format!("cannot listen on {}", settings.listen))?;
    let shutdown = CancellationToken::new();
    let on_signal = shutdown.clone();
    tokio::spawn(async move {
        wait_for_signal().await;
        tracing::info!("stopping");
        on_signal.cancel();
    });
    let connect = crate::app::vendor_clients(&settings);
    crate::app::run(settings, listener, connect, shutdown).await
}

async fn wait_for_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
            .expect("a SIGTERM handler");
        tokio::select! {
            _ = ctrl_c => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = ctrl_c.await;
}
