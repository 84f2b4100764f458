//! Log output: human-readable lines by default, JSON with `--log-format json`; the level comes
//! from `RUST_LOG` (default `info`). Each request's lines carry its request id (see `api`).
//! The demo's go to a file, so that they do not interrupt the story it tells.

use clap::ValueEnum;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::writer::BoxMakeWriter;

#[derive(Clone, Copy, Debug, Default, ValueEnum)]
pub enum LogFormat {
    #[default]
    Text,
    Json,
}

/// Logs on standard error at `RUST_LOG`'s level, else at `default_level`.
pub fn init(format: LogFormat, default_level: &str) {
    install(
        format,
        default_level,
        BoxMakeWriter::new(std::io::stderr),
        true,
    );
}

/// The demo's logs: into `stocksync.log` in `dir` (returned), at `info`, unless `RUST_LOG` is
/// set (or the file cannot be made): then on standard error, as `init` does.
pub fn init_demo(format: LogFormat, dir: &Path) -> Option<PathBuf> {
    let path = dir.join("stocksync.log");
    let file = std::env::var_os("RUST_LOG")
        .is_none()
        .then(|| std::fs::create_dir_all(dir).and_then(|()| std::fs::File::create(&path)));
    match file {
        Some(Ok(file)) => {
            install(format, "info", BoxMakeWriter::new(Mutex::new(file)), false);
            Some(path)
        }
        Some(Err(err)) => {
            init(format, "warn");
            tracing::warn!(path = %path.display(), %err, "cannot write the demo's log file");
            None
        }
        None => {
            init(format, "warn");
            None
        }
    }
}

fn install(format: LogFormat, default_level: &str, writer: BoxMakeWriter, ansi: bool) {
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default_level));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(ansi)
        .with_writer(writer);
    match format {
        LogFormat::Text => builder.init(),
        LogFormat::Json => builder
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .init(),
    }
}
