//! `dropgate console`: the web console's tools (`hash-password`).

use std::io::{BufRead, IsTerminal, Write};
use std::process::ExitCode;

use anyhow::Context;

/// The console's commands.
#[derive(Debug, clap::Subcommand)]
pub enum ConsoleCommand {
    /// Reads a password of at least 8 characters (typed without echo at a
    /// terminal, twice; or one line of standard input) and prints its
    /// argon2id hash, a PHC string for `password_hash` of a
    /// `[[console.users]]` in gateway.toml (exit 2 when it is refused).
    HashPassword,
}

/// Runs a `dropgate console` command.
pub fn run(command: ConsoleCommand) -> anyhow::Result<ExitCode> {
    match command {
        ConsoleCommand::HashPassword => hash_password(),
    }
}

/// The shortest password hashed.
const MIN_PASSWORD: usize = 8;

fn hash_password() -> anyhow::Result<ExitCode> {
    let password = if std::io::stdin().is_terminal() {
        let first = read_hidden("Password: ")?;
        let again = read_hidden("Again: ")?;
        if first != again {
            anyhow::bail!("the two passwords differ: nothing printed");
        }
        first
    } else {
        let mut line = String::new();
        std::io::stdin()
            .lock()
            .read_line(&mut line)
            .context("reading the password from standard input")?;
        line.trim_end_matches(['\r', '\n']).to_string()
    };
    if password.chars().count() < MIN_PASSWORD {
        anyhow::bail!("a password of at least {MIN_PASSWORD} characters: nothing printed");
    }
    let hash = crate::daemon::console::auth::hash_password(&password)?;
    say!("{hash}");
    Ok(ExitCode::SUCCESS)
}

/// Reads a line from the terminal with its echo off (put back after).
fn read_hidden(prompt: &str) -> anyhow::Result<String> {
    use rustix::termios::{LocalModes, OptionalActions, tcgetattr, tcsetattr};
    let stdin = std::io::stdin();
    let before = tcgetattr(&stdin).context("reading the terminal's settings")?;
    let mut quiet = before.clone();
    quiet.local_modes.remove(LocalModes::ECHO);
    eprint!("{prompt}");
    std::io::stderr().flush()?;
    tcsetattr(&stdin, OptionalActions::Now, &quiet).context("turning the echo off")?;
    let mut line = String::new();
    let read = stdin.lock().read_line(&mut line);
    let restored = tcsetattr(&stdin, OptionalActions::Now, &before);
    eprintln!();
    read.context("reading the password")?;
    restored.context("turning the echo back on")?;
    Ok(line.trim_end_matches(['\r', '\n']).to_string())
}
