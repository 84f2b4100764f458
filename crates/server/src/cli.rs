//! The command line: `serve`, `check-config`, `migrate`.

use crate::config::{ConfigErrors, Settings};
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
    /// Run Square, Hiboutik and Lightspeed simulators with a generated catalog, until Ctrl-C.
    Simulate(SimulateArgs),
    /// Show the whole product working: simulators, database, service, and a short story.
    Demo(DemoArgs),
}

#[derive(clap::Args)]
struct DemoArgs {
    /// Where stocksync listens (any free port if taken).
    #[arg(long, default_value_t = 5000)]
    port: u16,
    /// Products in each simulator's catalog.
    #[arg(long, default_value_t = 30)]
    products: usize,
    /// End after the story instead of running until Ctrl-C.
    #[arg(long)]
    once: bool,
}

#[derive(clap::Args)]
struct SimulateArgs {
    /// Products in each simulator's catalog.
    #[arg(long, default_value_t = 100)]
    products: usize,
    /// The first of four consecutive ports (Square, Hiboutik, Lightspeed, Lightspeed OAuth);
    /// 0 picks free ones.
    #[arg(long, default_value_t = 7001)]
    port: u16,
    /// Also write an appsettings.json pointing at the simulators to this file.
    #[arg(long)]
    write_config: Option<PathBuf>,
}

#[derive(clap::Args)]
struct ConfigArg {
    /// The appsettings.json to read (else $STOCKSYNC_CONFIG, else ./appsettings.json if present).
    #[arg(long)]
    config: Option<PathBuf>,
}

impl ConfigArg {
    fn load(&self) -> anyhow::Result<Settings> {
        Ok(Settings::load(self.config.as_deref(), &|name| {
            std::env::var(name).ok()
        })?)
    }
}

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    // The demo's story is told on standard output; its logs only say what goes wrong.
    let quiet = matches!(cli.command, Command::Demo(_));
    logging::init(cli.log_format, if quiet { "warn" } else { "info" });
    let outcome = match cli.command {
        Command::CheckConfig(arg) => arg.load().map(|settings| {
            print!("{}", settings.summary());
            println!("the configuration is valid");
        }),
        Command::Migrate(arg) => arg
            .load()
            .and_then(|settings| runtime().block_on(migrate(settings))),
        Command::Serve(arg) => arg
            .load()
            .and_then(|settings| runtime().block_on(serve(settings))),
        Command::Simulate(args) => runtime().block_on(simulate(&args)),
        Command::Demo(args) => runtime().block_on(crate::demo::run(crate::demo::DemoOptions {
            port: args.port,
            products: args.products,
            once: args.once,
        })),
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            match err.downcast_ref::<ConfigErrors>() {
                // Every problem on its own line, as written for people.
                Some(problems) => eprint!("{problems}"),
                None => tracing::error!("{err:#}"),
            }
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

async fn simulate(args: &SimulateArgs) -> anyhow::Result<()> {
    let simulators = crate::simulate::Simulators::start(args.products, args.port)
        .await
        .context("cannot start the simulators")?;
    if let Some(path) = &args.write_config {
        let text = serde_json::to_string_pretty(&simulators.appsettings())?;
        std::fs::write(path, text).with_context(|| format!("cannot write {}", path.display()))?;
        println!("wrote {}", path.display());
    }
    println!("{}", simulators.describe());
    println!("Press Ctrl-C to stop.");
    wait_for_signal().await;
    Ok(())
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
