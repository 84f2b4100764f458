//! Starting and stopping the service: open and migrate the database, start the job workers, the
//! scheduler and the outbox, serve the API on the given listener until `shutdown` is cancelled.
//! Connections are served by hyper directly (not `axum::serve`) so that a client that never
//! finishes its request head is cut off after `HeaderReadTimeoutSeconds`.

use crate::accounts::{self, Accounts};
use crate::api::hosts::AllowedHosts;
use crate::api::{self, AppState};
use crate::clock::{Clock, SystemClock};
use crate::config::Settings;
use crate::outbox::{Outbox, OutboxWake};
use crate::runner::{Runner, process_name};
use crate::scheduler::Scheduler;
use crate::schedules::Schedules;
use crate::shop::ShopHandle;
use crate::shop::worker::ShopWorker;
use crate::synchronizer::Synchronizer;
use anyhow::Context;
use axum::Router;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use std::sync::Arc;
use std::time::Duration;
use stocksync_pos::CallLog;
use stocksync_store::Store;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

/// How long stopping waits for background work and database connections.
const STOP_GRACE: std::time::Duration = std::time::Duration::from_secs(15);

/// Gives every configured account its connector, once the database is open (connectors keep
/// tokens and call budgets in it) and with the process's call log.
pub type Connect = Box<dyn FnOnce(&Store, &CallLog) -> Result<Accounts, String> + Send>;

/// The vendors' real clients, for every account of `settings`.
pub fn vendor_clients(settings: &Settings) -> Connect {
    let configs = settings.accounts.clone();
    Box::new(move |store, calls| {
        Accounts::from_configs(&configs, |config| accounts::connect(config, calls, store))
    })
}

/// Runs stocksync until `shutdown` is cancelled. Tests call it with a listener on port 0 and
/// their own connectors.
pub async fn run(
    settings: Settings,
    listener: TcpListener,
    connect: Connect,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    run_with_clock(settings, listener, connect, Arc::new(SystemClock), shutdown).await
}

/// `run`, with the schedules and the jobs reading the time from `clock` (a test's hand-moved
/// one).
pub async fn run_with_clock(
    settings: Settings,
    listener: TcpListener,
    connect: Connect,
    clock: Arc<dyn Clock>,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    for warning in &settings.warnings {
        tracing::warn!("{warning}");
    }
    let mut store = Store::connect(&settings.database).await?;
    store.migrate().await?;
    if let Some(shop_table) = &settings.shop_table {
        store = store.with_shop_table(shop_table);
        store.check_shop_table().await?;
    }
    if settings.shop.is_some() {
        store = store.with_shop_platform();
        let queued = store.queue_every_linked_item().await?;
        if queued > 0 {
            tracing::info!(
                items = queued,
                "linked items queued to be read on the shop and adopted"
            );
        }
    }
    let calls = CallLog::default();
    let accounts = connect(&store, &calls)
        .map_err(|e| anyhow::anyhow!("a POS account cannot be set up: {e}"))?;
    let synchronizer = Synchronizer::load(
        store.clone(),
        Schedules::new(store.clone(), &settings, &accounts),
        clock,
        shutdown.clone(),
    )
    .await?;
    let process = process_name();
    tracing::info!(%process, workers = settings.jobs.workers, "this process takes jobs as");
    let background = TaskTracker::new();
    let shop = match &settings.shop {
        Some(config) => {
            let connector = crate::shop::connect::connect(config, &calls)
                .map_err(|e| anyhow::anyhow!("the shop cannot be set up: {e}"))?;
            Some(ShopHandle::new(config.clone(), connector))
        }
        None => None,
    };
    let runner = Runner {
        store: store.clone(),
        accounts: accounts.clone(),
        synchronizer: synchronizer.clone(),
        history: settings.history,
        jobs: settings.jobs,
        process: process.clone(),
        shop: shop.clone(),
    };
    background.spawn(runner.drive());
    let scheduler = Scheduler {
        synchronizer: synchronizer.clone(),
        accounts: accounts.clone(),
    };
    background.spawn(scheduler.drive());
    let outbox = Outbox {
        store: store.clone(),
        accounts: accounts.clone(),
        backoff: settings.sale_retries,
        wake: Arc::new(OutboxWake::new(&accounts)),
        stopping: shutdown.clone(),
        process,
        lease: settings.jobs.lease,
    };
    background.spawn(outbox.clone().drive());
    if let Some(shop) = &shop {
        if store
            .start_shop_reading(shop.state_name(), chrono::Utc::now())
            .await?
        {
            tracing::info!(
                "the shop's orders are read from now on: earlier orders are already in its stock"
            );
        }
        let worker = ShopWorker {
            store: store.clone(),
            shop: shop.clone(),
            outbox: outbox.wake.clone(),
            stopping: shutdown.clone(),
            process: outbox.process.clone(),
            lease: settings.jobs.lease,
            time_zone: settings.time_zone,
        };
        background.spawn(worker.drive());
    }

    let address = listener
        .local_addr()
        .context("the listener has no address")?;
    let state = AppState {
        store: store.clone(),
        accounts,
        synchronizer,
        outbox_wake: outbox.wake.clone(),
        calls,
        api_key: settings.api_key.clone().map(Arc::new),
        webhooks: Arc::new(settings.webhooks.clone()),
        // The listener's address, which is the settings' but for a test's port 0.
        hosts: Arc::new(AllowedHosts::new(address, &settings.allowed_hosts)),
        session_lifetime: settings.session_lifetime,
        shop,
    };
    tracing::info!(%address, database = %settings.database, "stocksync is listening");
    let app = api::router(state, settings.limits);
    serve(
        listener,
        app,
        settings.limits.header_read_timeout,
        shutdown.clone(),
    )
    .await;
    shutdown.cancel();
    background.close();
    // Work in progress finishes its database step; it is not waited for forever.
    if tokio::time::timeout(STOP_GRACE, background.wait())
        .await
        .is_err()
    {
        tracing::warn!("background work did not stop in time; it resumes at the next start");
    }
    if tokio::time::timeout(STOP_GRACE, store.close())
        .await
        .is_err()
    {
        tracing::warn!("database connections did not close in time");
    }
    Ok(())
}

/// Serves `app` on `listener` until `shutdown`, then lets each connection finish the request it
/// is in. A connection that has not sent a whole request head within `header_read_timeout` is
/// closed.
async fn serve(
    listener: TcpListener,
    app: Router,
    header_read_timeout: Duration,
    shutdown: CancellationToken,
) {
    let connections = TaskTracker::new();
    loop {
        let stream = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(err) => {
                    // Out of file descriptors, say: wait instead of spinning.
                    tracing::warn!(error = %err, "could not accept a connection");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                    continue;
                }
            },
            () = shutdown.cancelled() => break,
        };
        let service = TowerToHyperService::new(app.clone());
        let stopping = shutdown.clone();
        connections.spawn(async move {
            let mut builder = hyper::server::conn::http1::Builder::new();
            builder
                .timer(TokioTimer::new())
                .header_read_timeout(header_read_timeout);
            let connection = builder.serve_connection(TokioIo::new(stream), service);
            tokio::pin!(connection);
            let result = tokio::select! {
                result = connection.as_mut() => result,
                () = stopping.cancelled() => {
                    connection.as_mut().graceful_shutdown();
                    connection.await
                }
            };
            if let Err(err) = result {
                tracing::debug!(error = %err, "a connection ended with an error");
            }
        });
    }
    connections.close();
    connections.wait().await;
}
