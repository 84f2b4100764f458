//! The command line: `serve`, `check-config`, `migrate`.

use crate::config::{ConfigErrors, Settings};
use crate::logging::{self, LogFormat};
use crate::remote::{ProductRef, Remote};
use anyhow::Context;
use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;
use stocksync_domain::ShopKind;
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
    /// Run Square, Hiboutik, Lightspeed, WooCommerce, Shopify and PrestaShop simulators with a
    /// generated catalog, until Ctrl-C.
    Simulate(SimulateArgs),
    /// Show the whole product working: simulators, database, service, and a short story.
    Demo(DemoArgs),
    /// Links on a running stocksync: add, list, remove, import from CSV.
    #[command(subcommand)]
    Items(ItemsCommand),
    /// Sync every account (or one) now, on a running stocksync, and say what changed.
    Sync {
        #[command(flatten)]
        remote: RemoteArgs,
        /// Only this POS account.
        #[arg(long)]
        account: Option<String>,
    },
    /// Compare every link with its POS, and the shop platform's items with what stocksync
    /// wants (and fix the drift unless --dry-run).
    Reconcile {
        #[command(flatten)]
        remote: RemoteArgs,
        /// Only report.
        #[arg(long)]
        dry_run: bool,
    },
    /// Web sales on a running stocksync: show one, retry a dead one.
    #[command(subcommand)]
    Sales(SalesCommand),
    /// The synchronizer and each account's last sync, on a running stocksync.
    Status(RemoteArgs),
}

/// Where the running stocksync is: `--url` (else `http://` + the configured `Listen`) and its
/// key (`--api-key`, else `STOCKSYNC_API_KEY`, else the configured `ApiKey`).
#[derive(clap::Args)]
struct RemoteArgs {
    #[arg(long)]
    url: Option<String>,
    #[arg(long, env = "STOCKSYNC_API_KEY", hide_env_values = true)]
    api_key: Option<String>,
    #[command(flatten)]
    config: ConfigArg,
}

impl RemoteArgs {
    fn remote(&self) -> anyhow::Result<Remote> {
        let settings = self.config.load()?;
        let url = self
            .url
            .clone()
            .unwrap_or_else(|| format!("http://{}", settings.listen));
        let key = self.api_key.clone().or_else(|| {
            settings
                .api_key
                .as_ref()
                .map(|k| secrecy::ExposeSecret::expose_secret(k).to_owned())
        });
        Ok(Remote::new(&url, key))
    }
}

#[derive(Subcommand)]
enum ItemsCommand {
    /// Link a shop item to a POS product, named by --pos-id, --sku or --name.
    Add {
        #[command(flatten)]
        remote: RemoteArgs,
        /// The web shop's item id.
        #[arg(long)]
        shop_item: String,
        /// The POS account.
        #[arg(long)]
        account: String,
        #[arg(long, group = "product")]
        pos_id: Option<String>,
        #[arg(long, group = "product")]
        sku: Option<String>,
        #[arg(long, group = "product")]
        name: Option<String>,
        /// Sales stop at this quantity.
        #[arg(long, default_value_t = 0)]
        limit: i64,
    },
    /// List the links (of one account with --account).
    List {
        #[command(flatten)]
        remote: RemoteArgs,
        #[arg(long)]
        account: Option<String>,
    },
    /// Remove a link by its id.
    Remove {
        #[command(flatten)]
        remote: RemoteArgs,
        id: i64,
    },
    /// Link every line of a CSV file: item_ecommerce_id,account_id,item_pos_id (or item_sku).
    Import {
        #[command(flatten)]
        remote: RemoteArgs,
        file: PathBuf,
    },
    /// Link every shop item whose SKU equals one POS product's SKU (or, with --by barcode, its
    /// barcode) on an account (needs a shop platform, `Shop`).
    Match {
        #[command(flatten)]
        remote: RemoteArgs,
        #[arg(long)]
        account: String,
        /// What the shop's SKUs are compared with on the POS: sku or barcode.
        #[arg(long, default_value = "sku", value_parser = ["sku", "barcode"])]
        by: String,
        /// Show what would be linked, and link nothing.
        #[arg(long)]
        dry_run: bool,
    },
}

#[derive(Subcommand)]
enum SalesCommand {
    /// Where a sale is on its way to the POS.
    Show {
        #[command(flatten)]
        remote: RemoteArgs,
        id: String,
    },
    /// Put a dead sale back in the outbox.
    Retry {
        #[command(flatten)]
        remote: RemoteArgs,
        id: String,
    },
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
    /// The shop platform the story is told on: woocommerce, shopify or prestashop.
    #[arg(long, default_value = "woocommerce", value_parser = shop_kind)]
    shop: ShopKind,
}

/// A `--shop` value: a platform's name, as `Shop.Type` takes it.
fn shop_kind(name: &str) -> Result<ShopKind, String> {
    ShopKind::parse(&name.to_ascii_lowercase())
        .ok_or_else(|| format!("'{name}' is not woocommerce, shopify or prestashop"))
}

#[derive(clap::Args)]
struct SimulateArgs {
    /// Products in each simulator's catalog.
    #[arg(long, default_value_t = 100)]
    products: usize,
    /// The first of seven consecutive ports (Square, Hiboutik, Lightspeed, Lightspeed OAuth,
    /// WooCommerce, Shopify, PrestaShop); 0 picks free ones.
    #[arg(long, default_value_t = 7001)]
    port: u16,
    /// The shop of the printed (and written) appsettings.json: woocommerce, shopify or
    /// prestashop (the others are shown as alternatives).
    #[arg(long, default_value = "woocommerce", value_parser = shop_kind)]
    shop: ShopKind,
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
    // The demo tells its story on standard output and sends its logs to a file itself.
    if !matches!(cli.command, Command::Demo(_)) {
        logging::init(cli.log_format, "info");
    }
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
            shop: args.shop,
            log_format: cli.log_format,
        })),
        Command::Items(command) => runtime().block_on(items(command)),
        Command::Sync { remote, account } => {
            runtime().block_on(async { remote.remote()?.sync(account.as_deref()).await })
        }
        Command::Reconcile { remote, dry_run } => {
            runtime().block_on(async { remote.remote()?.reconcile(dry_run).await })
        }
        Command::Sales(SalesCommand::Show { remote, id }) => {
            runtime().block_on(async { remote.remote()?.show_sale(&id).await })
        }
        Command::Sales(SalesCommand::Retry { remote, id }) => {
            runtime().block_on(async { remote.remote()?.retry_sale(&id).await })
        }
        Command::Status(remote) => runtime().block_on(async { remote.remote()?.status().await }),
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

async fn items(command: ItemsCommand) -> anyhow::Result<()> {
    match command {
        ItemsCommand::Add {
            remote,
            shop_item,
            account,
            pos_id,
            sku,
            name,
            limit,
        } => {
            let product = match (pos_id, sku, name) {
                (Some(id), _, _) => ProductRef::PosId(id),
                (None, Some(sku), _) => ProductRef::Sku(sku),
                (None, None, Some(name)) => ProductRef::Name(name),
                _ => anyhow::bail!("name the POS product with --pos-id, --sku or --name"),
            };
            remote
                .remote()?
                .add_item(&shop_item, &account, &product, limit)
                .await
        }
        ItemsCommand::List { remote, account } => {
            remote.remote()?.list_items(account.as_deref()).await
        }
        ItemsCommand::Remove { remote, id } => remote.remote()?.remove_item(id).await,
        ItemsCommand::Import { remote, file } => remote.remote()?.import_items(&file).await,
        ItemsCommand::Match {
            remote,
            account,
            by,
            dry_run,
        } => remote.remote()?.match_items(&account, &by, dry_run).await,
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
        let text = serde_json::to_string_pretty(&simulators.appsettings(args.shop))?;
        std::fs::write(path, text).with_context(|| format!("cannot write {}", path.display()))?;
        println!("wrote {}", path.display());
    }
    println!("{}", simulators.describe(args.shop));
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
