//! The gateway's commands: `run` (the daemon, or one pass with `--once`),
//! `check-config`, `files` (what happened to each recent file), `show` (one
//! file: its audit trail and documents) and `reprocess`.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;

use crate::config;
use crate::daemon::{FileOutcome, Gateway, PassReport};
use crate::store::FileState;
use crate::store::owner::Owner;

/// Where the configuration is.
#[derive(Debug, clap::Args)]
pub struct ConfigArg {
    /// The gateway's configuration file.
    #[arg(long, short, value_name = "FILE", default_value = "gateway.toml")]
    config: PathBuf,
}

impl ConfigArg {
    /// The configuration; its problems, when it has any, each on a line
    /// of its own on stderr (as `check-config` gives them).
    pub(super) fn load(&self) -> anyhow::Result<config::Gateway> {
        config::load(&self.config).map_err(|e| {
            for problem in &e.0 {
                eprintln!("{problem}");
            }
            anyhow::anyhow!(
                "{}: the configuration has {} problem(s), above",
                self.config.display(),
                e.0.len()
            )
        })
    }

    pub(super) fn open(&self) -> anyhow::Result<Gateway> {
        Gateway::open(self.load()?).with_context(|| format!("{}", self.config.display()))
    }

    /// The gateway, to run it: on the embedded store, its data directory
    /// this process's alone for as long as the owner lives (a second
    /// daemon on it is refused). A PostgreSQL store takes no such lock.
    fn open_to_run(&self) -> anyhow::Result<(Gateway, Option<Owner>)> {
        let config = self.load()?;
        let dir = config.gateway.data_dir.clone();
        std::fs::create_dir_all(&dir).with_context(|| format!("{}", dir.display()))?;
        let owner = match config.store.url {
            None => Some(Owner::take(&dir)?),
            Some(_) => None,
        };
        let mut gateway =
            Gateway::open(config).with_context(|| format!("{}", self.config.display()))?;
        if owner.is_some() {
            gateway.set_alone();
        }
        Ok((gateway, owner))
    }

    /// The gateway, for a command that processes or delivers (`reprocess`,
    /// `send-po`): on the embedded store, with the data directory's lock
    /// when no daemon holds it, so that it is known to be alone; without
    /// it, a running gateway makes the deliveries and takes up the file.
    pub(super) fn open_to_act(&self) -> anyhow::Result<(Gateway, Option<Owner>)> {
        let config = self.load()?;
        let dir = config.gateway.data_dir.clone();
        let owner = match config.store.url {
            None => {
                std::fs::create_dir_all(&dir).with_context(|| format!("{}", dir.display()))?;
                Owner::take(&dir).ok()
            }
            Some(_) => None,
        };
        let mut gateway =
            Gateway::open(config).with_context(|| format!("{}", self.config.display()))?;
        if owner.is_some() {
            gateway.set_alone();
        }
        Ok((gateway, owner))
    }
}

/// Arguments of `dropgate run`.
#[derive(Debug, clap::Args)]
pub struct RunArgs {
    #[command(flatten)]
    config: ConfigArg,
    /// Process what is waiting, make the deliveries due, and exit.
    #[arg(long)]
    once: bool,
    /// The daemon's log lines on stderr: `text` or `json` (one object per
    /// line). RUST_LOG sets the level (default info).
    #[arg(long, default_value = "text", value_name = "FORMAT")]
    log_format: String,
}

/// Arguments of `dropgate send-po`.
#[derive(Debug, clap::Args)]
pub struct SendPoArgs {
    #[command(flatten)]
    config: ConfigArg,
    /// The canonical purchase order (a JSON object, or an array of them).
    file: PathBuf,
    /// The partner to send it to.
    #[arg(long, value_name = "P")]
    partner: String,
}

/// Arguments of `dropgate send`.
#[derive(Debug, clap::Args)]
pub struct SendArgs {
    #[command(flatten)]
    config: ConfigArg,
    /// The canonical documents: purchase orders and remittances (a JSON
    /// object, or an array of them; each says its "type").
    file: PathBuf,
    /// The partner to send them to.
    #[arg(long, value_name = "P")]
    partner: String,
}

/// Arguments of `dropgate files`.
#[derive(Debug, clap::Args)]
pub struct FilesArgs {
    #[command(flatten)]
    config: ConfigArg,
    /// How many of the most recent files.
    #[arg(long, default_value_t = 50)]
    limit: usize,
}

/// Arguments of `dropgate show` and `dropgate reprocess`.
#[derive(Debug, clap::Args)]
pub struct FileArgs {
    #[command(flatten)]
    config: ConfigArg,
    /// The file's number (from `dropgate files`).
    id: i64,
}

fn print_outcome(f: &FileOutcome) -> std::io::Result<()> {
    let partner = f.partner.as_deref().unwrap_or("-");
    let docs = match f.state {
        FileState::Processed => format!("{} document(s)", f.documents),
        _ => String::new(),
    };
    say!(
        "{:>6}  {:<11}  {:<10}  {:<10}  {}  {}",
        f.id,
        f.state,
        f.channel,
        partner,
        f.name,
        docs
    );
    if let Some(d) = &f.detail {
        for line in d.lines() {
            say!("        {line}");
        }
    }
    Ok(())
}

fn print_report(r: &PassReport) -> std::io::Result<()> {
    for f in &r.files {
        print_outcome(f)?;
    }
    for e in &r.channel_errors {
        say!("        {e}");
    }
    for (channel, name, reason) in &r.skipped {
        say!("        channel {channel}: {name} not taken: {reason}");
    }
    for e in &r.delivery_errors {
        say!("        {e}");
    }
    if !r.files.is_empty() || r.delivered > 0 || r.pending > 0 {
        say!(
            "{} file(s), {} delivery(ies) made, {} waiting",
            r.files.len(),
            r.delivered,
            r.pending
        );
    }
    Ok(())
}

/// Runs `dropgate run`.
pub fn run(args: RunArgs) -> anyhow::Result<ExitCode> {
    if args.once {
        let (mut gateway, _owner) = args.config.open_to_run()?;
        // On a shared store, a pass beside running instances would take
        // their channels' files and make their deliveries a second time.
        let running = gateway.running_instances()?;
        if let Some(first) = running.first() {
            anyhow::bail!(
                "{} instance(s) of `dropgate run` work on this store ({}, ...): run --once would do their work a second time; stop them first, or use status, show and reprocess",
                running.len(),
                first.about
            );
        }
        for w in &gateway.config().warnings {
            eprintln!("dropgate: warning: {w}");
        }
        gateway.remove_temporary_files()?;
        let report = gateway.pass().context(
            "the pass stopped (nothing is lost: the next run takes up where it stopped)",
        )?;
        if report.files.is_empty() {
            say!("nothing waiting");
        }
        print_report(&report)?;
        let failed = report
            .files
            .iter()
            .any(|f| f.state == FileState::Quarantined)
            || !report.channel_errors.is_empty()
            || !report.delivery_errors.is_empty();
        return Ok(if failed {
            ExitCode::from(1)
        } else {
            ExitCode::SUCCESS
        });
    }
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    // Colours only for a person at a terminal, never in a log file.
    let logs = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_writer(std::io::stderr);
    match args.log_format.as_str() {
        "json" => logs.json().init(),
        "text" => logs.init(),
        other => anyhow::bail!("--log-format {other:?}: text or json"),
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("starting the runtime")?;
    // The signals are caught from here on, before anything else is done:
    // a SIGTERM during the first pass stops the daemon cleanly too.
    let signals = {
        let _entered = runtime.enter();
        Signals::catch().context("catching SIGTERM, SIGINT and SIGHUP")?
    };
    let (gateway, _owner) = args.config.open_to_run()?;
    tracing::info!(
        config = %args.config.config.display(),
        every_secs = gateway.config().gateway.poll_interval_secs,
        "running; stop with Ctrl-C or SIGTERM, reload with SIGHUP"
    );
    for w in &gateway.config().warnings {
        tracing::warn!("{w}");
    }
    let path = args.config.config.clone();
    let ending = runtime.block_on(async move {
        let (send, reloads) = tokio::sync::mpsc::channel(1);
        let Signals { stop, hangup } = signals;
        tokio::spawn(reload_on_hangup(hangup, path, send));
        crate::daemon::run(gateway, stop, reloads).await
    })?;
    tracing::info!("stopped");
    if ending == crate::daemon::Ending::Abandoned {
        // A pass is still at work on a thread of its own: the process ends
        // now, leaving it where it is, as a crash would (each of its steps
        // is atomic, and the next start takes up what it left). Dropping
        // the runtime would wait for it.
        std::process::exit(0);
    }
    Ok(ExitCode::SUCCESS)
}

/// The signals the daemon answers, caught from the moment they are made.
struct Signals {
    /// Resolves on SIGTERM or SIGINT (Ctrl-C).
    stop: std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send>>,
    /// Each SIGHUP.
    hangup: tokio::signal::unix::Signal,
}

impl Signals {
    /// Catches the signals (within a runtime).
    fn catch() -> std::io::Result<Signals> {
        use tokio::signal::unix::{SignalKind, signal};
        let mut term = signal(SignalKind::terminate())?;
        let mut interrupt = signal(SignalKind::interrupt())?;
        let hangup = signal(SignalKind::hangup())?;
        Ok(Signals {
            stop: Box::pin(async move {
                tokio::select! {
                    _ = term.recv() => {}
                    _ = interrupt.recv() => {}
                }
            }),
            hangup,
        })
    }
}

/// On each SIGHUP, reads the configuration, the partner files and the
/// mappings again and sends the gateway they make; when they have
/// problems, logs each one and keeps the running gateway.
async fn reload_on_hangup(
    mut hangups: tokio::signal::unix::Signal,
    path: PathBuf,
    send: tokio::sync::mpsc::Sender<Gateway>,
) {
    while hangups.recv().await.is_some() {
        // Opening the store blocks (connecting to PostgreSQL, or waiting
        // for SQLite's lock): not on an async worker.
        let path_now = path.clone();
        let opened = tokio::task::spawn_blocking(move || match config::load(&path_now) {
            Ok(c) => Gateway::open(c).map_err(|e| vec![e.to_string()]),
            Err(errors) => Err(errors.0.iter().map(ToString::to_string).collect()),
        })
        .await
        .unwrap_or_else(|e| {
            Err(vec![format!(
                "reading the configuration stopped on a bug: {e}"
            )])
        });
        match opened {
            Ok(g) => {
                if send.send(g).await.is_err() {
                    return;
                }
            }
            Err(problems) => {
                for p in problems {
                    tracing::error!(problem = %p, "configuration not reloaded");
                }
            }
        }
    }
}

/// Runs `dropgate check-config`.
pub fn check_config(args: ConfigArg) -> anyhow::Result<ExitCode> {
    let checked = config::check(&args.config);
    for e in &checked.errors {
        eprintln!("{e}");
    }
    for w in &checked.warnings {
        eprintln!("warning: {w}");
    }
    match checked.gateway {
        Some(g) if checked.errors.is_empty() => {
            say!(
                "{}: ok ({} channel(s), {} partner(s))",
                args.config.display(),
                g.channels.len(),
                g.partners.len()
            );
            Ok(ExitCode::SUCCESS)
        }
        _ => Ok(ExitCode::from(1)),
    }
}

/// Runs `dropgate files`.
pub fn files(args: FilesArgs) -> anyhow::Result<ExitCode> {
    let mut gateway = args.config.open()?;
    let store = gateway.store();
    for f in store.recent_files(args.limit)? {
        print_outcome(&FileOutcome::from(f))?;
    }
    say!("{} delivery(ies) waiting", store.pending_deliveries()?);
    Ok(ExitCode::SUCCESS)
}

/// Runs `dropgate show`.
pub fn show(args: ShowArgs) -> anyhow::Result<ExitCode> {
    let ShowArgs {
        file: args,
        documents,
    } = args;
    let mut gateway = args.config.open()?;
    let Some(f) = gateway.store().file(args.id)? else {
        anyhow::bail!("there is no file {}", args.id);
    };
    if documents {
        let mut out = std::io::stdout().lock();
        let docs = gateway.store().documents(f.id)?;
        gateway
            .archive()
            .documents_json(&docs, |json| writeln!(out, "{json}"))?;
        return Ok(ExitCode::SUCCESS);
    }
    say!(
        "file {}: {} ({} bytes) on {}",
        f.id,
        f.name,
        f.size,
        f.channel
    );
    say!("  received  {}", f.received_at);
    say!("  partner   {}", f.partner.as_deref().unwrap_or("-"));
    say!("  format    {}", f.format.as_deref().unwrap_or("-"));
    say!("  state     {}", f.state);
    say!("  sha256    {}", f.sha256);
    say!(
        "  archived  {}",
        gateway.archive().location_of(&f.archive_path)
    );
    if let Some(d) = &f.detail {
        say!("  detail");
        for line in d.lines() {
            say!("    {line}");
        }
    }
    say!("  trail");
    for e in gateway.store().audit_trail(f.id)? {
        let mut lines = e.detail.lines();
        say!(
            "    {}  {:<11}  {}",
            e.at,
            e.event,
            lines.next().unwrap_or("")
        );
        for line in lines {
            say!("    {:24}  {:<11}  {line}", "", "");
        }
    }
    let docs = gateway.store().documents(f.id)?;
    if !docs.is_empty() {
        say!("  documents");
        for d in docs {
            say!(
                "    {} {}",
                d.doc_type,
                d.reference.as_deref().unwrap_or("")
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// What `dropgate show` takes.
#[derive(Debug, clap::Args)]
pub struct ShowArgs {
    #[command(flatten)]
    file: FileArgs,
    /// Prints each document's canonical JSON (one per line) instead of
    /// where the file came from, its audit trail and its list of
    /// documents.
    #[arg(long)]
    documents: bool,
}

/// Arguments of `reprocess`.
#[derive(Debug, clap::Args)]
pub struct ReprocessArgs {
    #[command(flatten)]
    file: FileArgs,
    /// Process a duplicate all the same (the same file was received
    /// before; its documents are relayed again).
    #[arg(long)]
    force: bool,
}

/// Runs `dropgate reprocess`.
pub fn reprocess(args: ReprocessArgs) -> anyhow::Result<ExitCode> {
    let ReprocessArgs { file: args, force } = args;
    let (mut gateway, _owner) = args.config.open_to_act()?;
    let outcome = gateway.reprocess(args.id, force)?;
    if outcome.state == FileState::Received {
        say!(
            "file {}: put back to be processed; the running gateway takes it up at its next pass (dropgate show {} says what became of it)",
            outcome.id,
            outcome.id
        );
        return Ok(ExitCode::SUCCESS);
    }
    print_outcome(&outcome)?;
    Ok(if outcome.state == FileState::Quarantined {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// Runs `dropgate send-po`.
pub fn send_po(args: SendPoArgs) -> anyhow::Result<ExitCode> {
    let (name, docs) = super::read_documents(&args.file)?;
    let (mut gateway, _owner) = args.config.open_to_act()?;
    let (queued, report) = gateway.send_orders(&args.partner, &docs, &name)?;
    said_queued(&queued)?;
    said_deliveries(&report)
}

/// Runs `dropgate send`.
pub fn send(args: SendArgs) -> anyhow::Result<ExitCode> {
    let (name, docs) = super::read_documents(&args.file)?;
    let (mut gateway, _owner) = args.config.open_to_act()?;
    let (queued, report) = gateway.send_documents(&args.partner, &docs, &name)?;
    said_queued(&queued)?;
    said_deliveries(&report)
}

/// Says what became of each document `send` was given.
fn said_queued(queued: &[crate::daemon::send::Queued]) -> anyhow::Result<()> {
    for q in queued {
        if q.repeat {
            say!(
                "{}: sent before, as {} for channel {}: not sent again",
                q.number,
                q.name,
                q.channel
            );
        } else {
            say!(
                "{}: queued as {} for channel {}",
                q.number,
                q.name,
                q.channel
            );
        }
    }
    Ok(())
}

/// Arguments of `release`.
#[derive(Debug, clap::Args)]
pub struct ReleaseArgs {
    #[command(flatten)]
    config: ConfigArg,
    /// The held invoice: its file's number, and `:DOC` its document's
    /// number in the file (`12:0`; without it, every held invoice of the
    /// file), as `dropgate status` lists them.
    #[arg(value_name = "FILE[:DOC]")]
    invoice: String,
    /// Who releases it, for the audit trail (default: $USER).
    #[arg(long, value_name = "NAME")]
    by: Option<String>,
}

/// Runs `dropgate release`.
pub fn release(args: ReleaseArgs) -> anyhow::Result<ExitCode> {
    let Some((file, seq)) = crate::daemon::invoices::parse_id(&args.invoice) else {
        anyhow::bail!(
            "{:?}: say the invoice as FILE or FILE:DOC (numbers, as dropgate status lists them)",
            args.invoice
        );
    };
    let by = args
        .by
        .clone()
        .or_else(|| std::env::var("USER").ok())
        .unwrap_or_else(|| "someone".into());
    let (mut gateway, _owner) = args.config.open_to_act()?;
    let (released, report) = gateway.release_invoices(file, seq, &by)?;
    for r in &released {
        let i = &r.invoice;
        let what = match (r.queued, i.hold, &i.released) {
            (true, _, _) => "released, queued for the relay".to_string(),
            (false, crate::store::InvoiceHold::Released, Some((at, who))) => {
                format!("released before, by {who} at {at}: not queued again")
            }
            _ => format!("not held ({}): relayed with its file", i.status),
        };
        say!(
            "invoice {} (file {}, document {}): {what}",
            i.invoice_number,
            i.file_id,
            i.seq
        );
    }
    said_deliveries(&report)
}

/// Runs `dropgate status`.
pub fn status(args: ConfigArg) -> anyhow::Result<ExitCode> {
    let mut gateway = args.open()?;
    let config = gateway.config();
    say!(
        "{}: {} channel(s), {} partner(s), data in {}",
        args.config.display(),
        config.channels.len(),
        config.partners.len(),
        config.gateway.data_dir.display()
    );
    if config.archive.url.is_some() {
        say!("archive: {}", gateway.archive().describe());
    }
    let store = gateway.store();
    say!("store: {}", store.describe());
    // Who is at work on it, and what each holds.
    let instances = store.instances()?;
    if instances.is_empty() {
        say!("instances: none running");
    }
    for i in &instances {
        let holds = match (i.leases.is_empty(), i.claimed) {
            (true, 0) => "holds nothing".to_string(),
            (false, 0) => i.leases.join(", "),
            (true, n) => format!("translating {n} file(s)"),
            (false, n) => format!("{}; translating {n} file(s)", i.leases.join(", ")),
        };
        say!(
            "instance {} ({}), since {}: {holds}",
            i.id,
            i.about,
            i.started_at,
        );
    }
    let counts = store.count_by_state()?;
    let total: u64 = counts.iter().map(|(_, n)| n).sum();
    let counts: Vec<String> = counts.iter().map(|(s, n)| format!("{n} {s}")).collect();
    say!(
        "files: {total}{}{}",
        if counts.is_empty() { "" } else { " (" },
        if counts.is_empty() {
            String::new()
        } else {
            format!("{})", counts.join(", "))
        }
    );
    say!("deliveries waiting: {}", store.pending_deliveries()?);
    for poll in store.channel_polls()? {
        if let (Some(since), Some((error, _))) = (&poll.failing_since, &poll.last_error) {
            say!("channel {} failing since {since}: {error}", poll.channel);
        }
    }
    for (target, name, attempts, error) in store.failing_deliveries()? {
        say!("  {name} to {target}: {attempts} attempt(s), last: {error}");
    }
    let held = store.invoices(crate::store::Invoices::Held)?;
    if !held.is_empty() {
        say!(
            "invoices held: {} (dropgate show FILE; dropgate release FILE:DOC)",
            held.len()
        );
        const MOST: usize = 20;
        for i in held.iter().take(MOST) {
            say!("  {}", crate::daemon::invoices::describe(i));
        }
        if held.len() > MOST {
            say!(
                "  ... {} more (GET /v1/invoices/held lists them all)",
                held.len() - MOST
            );
        }
    }
    let aside = store.set_aside()?;
    if !aside.is_empty() {
        say!(
            "set aside for a person: {} (dropgate netsuite attention; dropgate netsuite retry ID)",
            aside.len()
        );
        for a in aside.iter().take(20) {
            say!("  {}", crate::daemon::netsuite::describe(a));
        }
    }
    let quarantined: Vec<_> = store
        .recent_files(1000)?
        .into_iter()
        .filter(|f| f.state == FileState::Quarantined)
        .collect();
    if !quarantined.is_empty() {
        say!("quarantined (dropgate show N; dropgate reprocess N):");
        for f in quarantined.iter().take(20) {
            say!("  {:>6}  {}", f.id, f.name);
            // The whole reason, each of its lines, up to a point.
            const MOST: usize = 8;
            let detail = f.detail.as_deref().unwrap_or("");
            for line in detail.lines().take(MOST) {
                say!("          {line}");
            }
            let more = detail.lines().count().saturating_sub(MOST);
            if more > 0 {
                say!("          ... {more} more line(s): dropgate show {}", f.id);
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Says what became of the deliveries a command queued (made, waiting,
/// failed, or left to a running gateway): exit 1 when one failed.
pub(super) fn said_deliveries(report: &crate::daemon::PassReport) -> anyhow::Result<ExitCode> {
    for e in &report.delivery_errors {
        say!("        {e}");
    }
    if report.left_to_running {
        say!(
            "{} delivery(ies) waiting: the running gateway makes them",
            report.pending
        );
    } else {
        say!(
            "{} delivery(ies) made, {} waiting (the daemon retries them)",
            report.delivered,
            report.pending
        );
    }
    Ok(if report.delivery_errors.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
