//! `dropgate netsuite-sim`: runs the NetSuite simulator until SIGTERM or
//! SIGINT; prints `listening on http://ADDR` on stdout once it accepts
//! connections (a test given port 0 reads the port from it).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::Args;

use crate::netsuite::sim::config::SimConfig;
use crate::netsuite::sim::{SimOptions, serve};

/// The options of `dropgate netsuite-sim`.
#[derive(Debug, Args)]
pub struct NetsuiteSimArgs {
    /// Where to listen (port 0: any free port). Only a loopback address
    /// unless --public is given.
    #[arg(long, default_value = "127.0.0.1:8099")]
    listen: SocketAddr,
    /// Allow a non-loopback address; the /_sim/ test control API is then
    /// not served at all.
    #[arg(long)]
    public: bool,
    /// Keep the records in this SQLite file (default: in memory).
    #[arg(long)]
    db: Option<PathBuf>,
    /// The account ID, which is also the TBA realm (default: the
    /// configuration's, else 1234567_SB1).
    #[arg(long)]
    account: Option<String>,
    /// TOML with the TBA integrations and tokens, the OAuth 2.0 clients
    /// and their certificates (default: the demo credentials in README).
    #[arg(long)]
    config: Option<PathBuf>,
    /// The account's concurrency limit (default: the configuration's,
    /// else 5).
    #[arg(long)]
    concurrency: Option<usize>,
    /// Load the demo data set (2 vendors, a customer, 4 drop-ship items).
    #[arg(long)]
    seed: bool,
}

/// Runs the simulator.
pub fn run(args: NetsuiteSimArgs) -> anyhow::Result<ExitCode> {
    let config = match &args.config {
        Some(path) => SimConfig::load(path)?,
        None => SimConfig::demo(),
    };
    let account = args
        .account
        .clone()
        .or_else(|| config.account.clone())
        .unwrap_or_else(|| "1234567_SB1".to_string());
    let concurrency = args.concurrency.or(config.concurrency).unwrap_or(5);
    if concurrency == 0 {
        anyhow::bail!("--concurrency must be at least 1");
    }
    let opts = SimOptions {
        listen: args.listen,
        public: args.public,
        db: args.db,
        account,
        config,
        concurrency,
        seed: args.seed,
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(4)
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    runtime.block_on(async move {
        use tokio::signal::unix::{SignalKind, signal};
        let mut term = signal(SignalKind::terminate()).context("catching SIGTERM")?;
        let mut interrupt = signal(SignalKind::interrupt()).context("catching SIGINT")?;
        let shutdown = async move {
            tokio::select! {
                _ = term.recv() => {}
                _ = interrupt.recv() => {}
            }
        };
        serve(
            opts,
            |addr| {
                use std::io::Write as _;
                let mut out = std::io::stdout().lock();
                let _ = writeln!(out, "listening on http://{addr}");
                let _ = out.flush();
            },
            shutdown,
        )
        .await
        .context("netsuite-sim")
    })?;
    Ok(ExitCode::SUCCESS)
}
