//! The README's example configuration is real: its `gateway.toml` and
//! `partners/acme.toml` blocks are read by the configuration loader, and the
//! only problems found are those of its placeholders (folders and a host
//! key that exist only on the reader's machine). An unknown key or a wrong
//! value in the README fails here.

use std::path::PathBuf;

fn blocks() -> Vec<String> {
    let readme =
        std::fs::read_to_string(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("README.md"))
            .expect("README.md");
    readme
        .split("```toml\n")
        .skip(1)
        .filter_map(|b| b.split("```").next().map(str::to_string))
        .collect()
}

#[test]
fn the_readme_configuration_reads() {
    let all = blocks();
    let gateway = all
        .iter()
        .find(|b| b.starts_with("# gateway.toml"))
        .expect("the README shows a gateway.toml");
    let acme = all
        .iter()
        .find(|b| b.starts_with("# partners/acme.toml"))
        .expect("the README shows a partner file");
    let dir = tempfile::tempdir().expect("temporary folder");
    std::fs::create_dir_all(dir.path().join("partners")).expect("partners");
    std::fs::create_dir_all(dir.path().join("mappings")).expect("mappings");
    std::fs::write(dir.path().join("gateway.toml"), gateway).expect("gateway.toml");
    std::fs::write(dir.path().join("partners/acme.toml"), acme).expect("acme.toml");
    let errors = match dropgate::config::load(&dir.path().join("gateway.toml")) {
        Ok(_) => Vec::new(),
        Err(e) => e.0.iter().map(ToString::to_string).collect(),
    };
    let placeholders = [
        "the folder /srv/edi/drop does not exist",
        "the key of the known_hosts line does not read",
        // The API token is read as the daemon would; it is set where the
        // gateway runs.
        "the environment variable DROPGATE_API_TOKEN (token_env) is not set",
        // So are the mailboxes' passwords.
        "the environment variable EDI_MAIL_PASSWORD (password_env) is not set",
        "the environment variable SMTP_PASSWORD (password_env) is not set",
        // And the vendor feed's token.
        "the environment variable TIDEWATER_API_TOKEN (token_env) is not set",
        // And the database's.
        "[store] the environment variable DROPGATE_DB_PASSWORD (password_env) is not set",
        // And the archive bucket's secret key.
        "the environment variable EDI_S3_SECRET (secret_access_key_env) is not set",
    ];
    let others: Vec<&String> = errors
        .iter()
        .filter(|e| !placeholders.iter().any(|p| e.contains(p)))
        .collect();
    assert!(
        others.is_empty(),
        "the README's configuration has problems: {others:#?}"
    );
    assert_eq!(errors.len(), placeholders.len(), "{errors:#?}");
}

/// The README's command that makes the gateway's SFTP key works as written
/// in a fresh folder (it once failed for want of `mkdir keys`).
#[test]
fn the_readme_key_command_runs_in_a_fresh_folder() {
    let readme =
        std::fs::read_to_string(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("README.md"))
            .expect("README.md");
    let command = readme
        .split('`')
        .find(|c| c.contains("ssh-keygen -t ed25519"))
        .expect("the README says how to make a key");
    if std::process::Command::new("ssh-keygen")
        .arg("-?")
        .output()
        .is_err()
    {
        assert!(
            std::env::var_os("CI").is_none(),
            "ssh-keygen is missing (scripts/setup.sh installs openssh)"
        );
        eprintln!("SKIPPED: ssh-keygen is not installed");
        return;
    }
    let dir = tempfile::tempdir().expect("temporary folder");
    let out = std::process::Command::new("sh")
        .args(["-c", command])
        .current_dir(dir.path())
        .output()
        .expect("sh runs");
    assert!(
        out.status.success(),
        "{command}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(dir.path().join("keys/bolt_ed25519").is_file());
    assert!(dir.path().join("keys/bolt_ed25519.pub").is_file());
}

/// The README's "five minutes with a CSV feed" runs as written: its mapping
/// reads a feed with a bad stock value, and the message is the one the
/// README shows; `mapping explain` runs with the command it gives.
#[test]
fn the_readme_mapping_walkthrough_runs_as_written() {
    let readme =
        std::fs::read_to_string(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("README.md"))
            .expect("README.md");
    let step = readme
        .split("2. Write `mappings/partners/acme/inventory.toml`:")
        .nth(1)
        .expect("the walkthrough");
    let toml: String = step
        .split("```toml\n")
        .nth(1)
        .and_then(|b| b.split("```").next())
        .expect("its mapping")
        .lines()
        .map(|l| l.strip_prefix("   ").unwrap_or(l))
        .collect::<Vec<_>>()
        .join("\n");
    let said = |prefix: &str| -> String {
        step.split('`')
            .find(|c| c.starts_with(prefix))
            .unwrap_or_else(|| panic!("no `{prefix}...` in the walkthrough"))
            .to_string()
    };
    let dir = tempfile::tempdir().expect("folder");
    let folder = dir.path().join("mappings/partners/acme/inventory");
    std::fs::create_dir_all(&folder).expect("folder");
    std::fs::write(
        dir.path().join("mappings/partners/acme/inventory.toml"),
        toml,
    )
    .expect("mapping");
    std::fs::write(
        folder.join("feed-20240314.csv"),
        "item_no;stock;eta;unit\nA-1;12;01.04.2024;Stk\nA-2;12x;;Stk\n",
    )
    .expect("feed");
    let run = |command: &str| {
        let args: Vec<&str> = command.split_whitespace().skip(1).collect();
        std::process::Command::new(env!("CARGO_BIN_EXE_dropgate"))
            .args(&args)
            .current_dir(dir.path())
            .output()
            .expect("dropgate runs")
    };
    let translate = run(&said("dropgate translate --partner acme"));
    let err = String::from_utf8_lossy(&translate.stderr);
    assert_eq!(translate.status.code(), Some(1), "{err}");
    let message = said("mappings/partners/acme/inventory/feed-20240314.csv: record 2");
    assert!(
        err.contains(&message),
        "the README says {message:?}, dropgate says {err:?}"
    );
    let explain = run(&said("dropgate mapping explain"));
    let out = String::from_utf8_lossy(&explain.stdout);
    assert!(out.contains("from $file.stem"), "{out}");
}
