//! The `stocksync` binary.

fn main() -> std::process::ExitCode {
    stocksync::cli::main()
}
