//! `dropgate netsuite`: the configured NetSuite account from the command
//! line, to check a connection before the flows are turned on and to look
//! at what NetSuite holds: `check` (the credentials and the governance
//! limits), `query` (SuiteQL, every page) and `get` (one record).

use std::process::ExitCode;

use anyhow::Context;

use super::gateway::ConfigArg;
use crate::netsuite::client::{Client, ExternalId, RecordRef};

/// The NetSuite commands.
#[derive(Debug, clap::Subcommand)]
pub enum NetsuiteCommand {
    /// Signs in to the account of `[netsuite]` and prints its governance
    /// limits: exit 0 when NetSuite accepts the credentials.
    Check(ConfigArg),
    /// Runs a SuiteQL query and prints its rows, one JSON object per line
    /// (every page, up to --max-rows).
    Query(QueryArgs),
    /// Prints one record as JSON, its sublists and subrecords expanded.
    Get(GetArgs),
    /// Looks for NetSuite's new and changed drop-ship purchase orders once
    /// (as the running gateway does every poll_secs): each is sent to its
    /// vendor's partner in its format and marked sent in NetSuite. Exit 1
    /// when an order could not be sent.
    PullOrders(ConfigArg),
    /// Lists the documents set aside for a person: NetSuite refused their
    /// data, or they do not fit what it holds (a PO it does not have).
    Attention(ConfigArg),
    /// Sends set-aside documents to NetSuite again, after the cause is
    /// fixed (the PO created, the mapping or the partner file corrected):
    /// those numbered, or with --all every one waiting.
    Retry(RetryArgs),
}

/// `dropgate netsuite retry`.
#[derive(Debug, clap::Args)]
pub struct RetryArgs {
    #[command(flatten)]
    config: ConfigArg,
    /// The numbers `dropgate netsuite attention` lists.
    ids: Vec<i64>,
    /// Every document waiting.
    #[arg(long, conflicts_with = "ids")]
    all: bool,
    /// Who retries them, for the audit trail (default: $USER).
    #[arg(long)]
    by: Option<String>,
}

/// `dropgate netsuite query`.
#[derive(Debug, clap::Args)]
pub struct QueryArgs {
    #[command(flatten)]
    config: ConfigArg,
    /// The query (`SELECT id, tranid FROM transaction WHERE …`).
    query: String,
    /// Stop with an error past this many rows.
    #[arg(long, default_value_t = 10_000)]
    max_rows: usize,
}

/// `dropgate netsuite get`.
#[derive(Debug, clap::Args)]
pub struct GetArgs {
    #[command(flatten)]
    config: ConfigArg,
    /// The record type (`purchaseOrder`, `vendorBill`, …).
    record_type: String,
    /// Its internal ID, or `eid:` and its external ID.
    id: String,
}

fn client(config: &ConfigArg) -> anyhow::Result<(Client, tokio::runtime::Runtime)> {
    let gateway = config.load()?;
    let netsuite = gateway
        .netsuite
        .context("the configuration has no [netsuite] table")?;
    let mut settings = netsuite.client_config()?;
    // At the command line, say at once when NetSuite cannot be reached
    // (the daemon retries for longer).
    settings.retry.attempts = settings.retry.attempts.min(3);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the runtime")?;
    let client = Client::new(settings)?;
    Ok((client, runtime))
}

/// Runs a NetSuite command.
pub fn run(command: NetsuiteCommand) -> anyhow::Result<ExitCode> {
    match command {
        NetsuiteCommand::Check(config) => {
            let (client, runtime) = client(&config)?;
            let limits = runtime.block_on(client.governance_limits())?;
            say!("NetSuite accepted the credentials; governance limits: {limits}");
        }
        NetsuiteCommand::Query(args) => {
            let (client, runtime) = client(&args.config)?;
            let rows = runtime.block_on(client.query_all(&args.query, args.max_rows))?;
            for row in rows {
                say!("{}", serde_json::Value::Object(row));
            }
        }
        NetsuiteCommand::Get(args) => {
            let (client, runtime) = client(&args.config)?;
            let record = match args.id.strip_prefix("eid:") {
                Some(eid) => RecordRef::External(ExternalId::new(eid)?),
                None => RecordRef::Id(args.id.clone()),
            };
            match runtime.block_on(client.get(&args.record_type, &record, true))? {
                Some(json) => say!("{}", serde_json::to_string_pretty(&json)?),
                None => {
                    eprintln!("NetSuite has no {} {}", args.record_type, args.id);
                    return Ok(ExitCode::from(1));
                }
            }
        }
        NetsuiteCommand::PullOrders(config) => {
            let (mut gateway, _owner) = config.open_to_act()?;
            let (pulled, report) = gateway.pull_netsuite_orders()?;
            for q in &pulled.queued {
                say!("queued {q}");
            }
            say!(
                "{} queued, {} unchanged, {} marked sent in NetSuite",
                pulled.queued.len(),
                pulled.unchanged,
                pulled.marked
            );
            for e in &pulled.errors {
                say!("not sent: {e}");
            }
            let code = super::gateway::said_deliveries(&report)?;
            if !pulled.errors.is_empty() {
                return Ok(ExitCode::from(1));
            }
            return Ok(code);
        }
        NetsuiteCommand::Attention(config) => {
            let mut gateway = config.open()?;
            let aside = gateway.set_aside()?;
            if aside.is_empty() {
                say!("nothing is set aside");
            }
            for a in &aside {
                say!("{}", crate::daemon::netsuite::describe(a));
            }
        }
        NetsuiteCommand::Retry(args) => {
            if args.ids.is_empty() && !args.all {
                anyhow::bail!(
                    "say which (the numbers dropgate netsuite attention lists), or --all"
                );
            }
            let by = args
                .by
                .clone()
                .or_else(|| std::env::var("USER").ok())
                .unwrap_or_else(|| "someone".into());
            let (mut gateway, _owner) = args.config.open_to_act()?;
            let (queued, report) = gateway.retry_set_aside(&args.ids, &by)?;
            for id in &args.ids {
                if !queued.iter().any(|q| q.id == *id) {
                    say!(
                        "{id}: nothing waits under this number (retried before, or never set aside)"
                    );
                }
            }
            for q in &queued {
                say!("{}: queued again", q.id);
            }
            return super::gateway::said_deliveries(&report);
        }
    }
    Ok(ExitCode::SUCCESS)
}
