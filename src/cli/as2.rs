//! `dropgate as2`: AS2 tools (`keygen`: a key pair and a self-signed
//! certificate for a new partnership).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;

/// The AS2 commands.
#[derive(Debug, clap::Subcommand)]
pub enum As2Command {
    /// Makes an RSA private key and a self-signed certificate for it (for
    /// signing and key encipherment, SHA-256), for `[as2] private_key`
    /// and `certificate`; prints the certificate's SHA-256 fingerprint to
    /// read to the partner. Never overwrites a file (exit 2).
    Keygen(KeygenArgs),
}

/// Arguments of `dropgate as2 keygen`.
#[derive(Debug, clap::Args)]
pub struct KeygenArgs {
    /// The certificate's subject, a distinguished name.
    #[arg(long, value_name = "DN", default_value = "CN=dropgate AS2")]
    subject: String,
    /// The key's size in bits: 2048, 3072 or 4096.
    #[arg(long, default_value_t = 3072)]
    bits: usize,
    /// How many days the certificate is valid.
    #[arg(long, default_value_t = 730)]
    days: u32,
    /// Where the private key is written (PKCS#8 PEM, mode 0600).
    #[arg(long, value_name = "PATH")]
    key: PathBuf,
    /// Where the certificate is written (PEM).
    #[arg(long, value_name = "PATH")]
    cert: PathBuf,
}

/// Runs a `dropgate as2` command.
pub fn run(command: As2Command) -> anyhow::Result<ExitCode> {
    match command {
        As2Command::Keygen(args) => keygen(&args),
    }
}

/// Writes `text` to a new file `path` (never over one), readable by its
/// owner only when `private`.
fn write_new(path: &Path, text: &str, private: bool) -> anyhow::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    if private {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path).with_context(|| {
        format!(
            "{}: not written (an existing file is never overwritten)",
            path.display()
        )
    })?;
    file.write_all(text.as_bytes())
        .and_then(|()| file.sync_all())
        .with_context(|| format!("writing {}", path.display()))
}

fn keygen(args: &KeygenArgs) -> anyhow::Result<ExitCode> {
    for path in [&args.key, &args.cert] {
        if path.exists() {
            anyhow::bail!(
                "{} exists: an existing key or certificate is never overwritten",
                path.display()
            );
        }
    }
    let pair = crate::as2::keygen::generate(
        &args.subject,
        args.bits,
        args.days,
        std::time::SystemTime::now(),
        &mut crate::as2::system_rng(),
    )?;
    write_new(&args.key, &pair.private_key_pem, true)?;
    write_new(&args.cert, &pair.certificate_pem, false)?;
    say!("private key: {} (keep it secret)", args.key.display());
    say!(
        "certificate: {} (give it to the partner), valid {} days",
        args.cert.display(),
        args.days
    );
    say!("SHA-256 fingerprint: {}", pair.fingerprint);
    Ok(ExitCode::SUCCESS)
}
