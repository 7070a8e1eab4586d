//! GnuPG playing a partner's OpenPGP software, in a `GNUPGHOME` of its own
//! in a temporary folder: keys made with `gpg --batch --quick-gen-key`,
//! exported and imported, files encrypted and signed for the gateway, and
//! the gateway's files decrypted with their signatures checked (GnuPG's
//! `--status-fd` lines). The agent it starts is stopped when it is dropped.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// A GnuPG home.
pub struct Gpg {
    home: tempfile::TempDir,
}

/// What `gpg --decrypt` said: the content and its status lines.
pub struct Decrypted {
    /// The content.
    pub content: Vec<u8>,
    /// `[GNUPG:]` status lines.
    pub status: String,
}

impl Decrypted {
    /// The fingerprint of a good signature (`VALIDSIG`), if there is one.
    pub fn valid_signature(&self) -> Option<String> {
        self.status.lines().find_map(|l| {
            l.strip_prefix("[GNUPG:] VALIDSIG ")
                .and_then(|r| r.split_whitespace().next())
                .map(str::to_string)
        })
    }
}

impl Gpg {
    /// A new, empty home; `None` (the test skipped, or failed under CI)
    /// when `gpg` is not installed.
    pub fn new() -> Option<Gpg> {
        if super::which("gpg").is_none() {
            return super::skip::unavailable("GnuPG", "gpg is not on PATH (Debian: gnupg)");
        }
        // Short: the agent's socket path must fit in a sockaddr_un.
        let home = tempfile::Builder::new()
            .prefix("g")
            .tempdir_in("/tmp")
            .expect("GNUPGHOME");
        std::fs::set_permissions(
            home.path(),
            std::os::unix::fs::PermissionsExt::from_mode(0o700),
        )
        .expect("GNUPGHOME private");
        Some(Gpg { home })
    }

    /// Its folder.
    pub fn home(&self) -> &Path {
        self.home.path()
    }

    fn command(&self) -> Command {
        let mut c = Command::new("gpg");
        c.env("GNUPGHOME", self.home.path())
            .args(["--batch", "--yes", "--no-tty", "--trust-model", "always"])
            .args(["--pinentry-mode", "loopback"]);
        c
    }

    /// Runs gpg with `args` and `input` on its standard input; its output,
    /// or a panic with its error output.
    pub fn run(&self, args: &[&str], input: &[u8]) -> Vec<u8> {
        match self.try_run(args, input) {
            Ok((out, _)) => out,
            Err(e) => panic!("gpg {args:?} failed: {e}"),
        }
    }

    /// Runs gpg; its output and status lines (`--status-fd 2` is in the
    /// error output), or its error output when it fails.
    pub fn try_run(&self, args: &[&str], input: &[u8]) -> Result<(Vec<u8>, String), String> {
        let mut child = self
            .command()
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("gpg runs");
        let mut stdin = child.stdin.take().expect("stdin");
        let input = input.to_vec();
        let writer = std::thread::spawn(move || {
            let _ = stdin.write_all(&input);
        });
        let out = child.wait_with_output().expect("gpg ends");
        let _ = writer.join();
        let err = String::from_utf8_lossy(&out.stderr).into_owned();
        match out.status.success() {
            true => Ok((out.stdout, err)),
            false => Err(err),
        }
    }

    /// Makes a key for `uid` (`algo`: `rsa3072`, `future-default` for
    /// ed25519 and cv25519, ...), protected by `passphrase` or not; its
    /// fingerprint.
    pub fn make_key(&self, uid: &str, algo: &str, passphrase: Option<&str>) -> String {
        self.run(
            &[
                "--passphrase",
                passphrase.unwrap_or(""),
                "--quick-gen-key",
                uid,
                algo,
                "default",
                "never",
            ],
            b"",
        );
        let fingerprint = self.fingerprint(uid);
        // An RSA key made this way only signs: it gets a subkey to
        // encrypt, as `gpg --full-gen-key` would make.
        if algo.starts_with("rsa") {
            self.run(
                &[
                    "--passphrase",
                    passphrase.unwrap_or(""),
                    "--quick-add-key",
                    &fingerprint,
                    algo,
                    "encr",
                    "never",
                ],
                b"",
            );
        }
        fingerprint
    }

    /// The fingerprint of `uid`'s key.
    pub fn fingerprint(&self, uid: &str) -> String {
        let out = self.run(&["--with-colons", "--list-keys", uid], b"");
        String::from_utf8_lossy(&out)
            .lines()
            .find_map(|l| l.strip_prefix("fpr:::::::::"))
            .map(|f| f.trim_end_matches(':').to_string())
            .expect("a fingerprint")
    }

    /// `uid`'s public key, armoured or binary.
    pub fn export_public(&self, uid: &str, armor: bool) -> Vec<u8> {
        let mut args = vec!["--export"];
        if armor {
            args.push("--armor");
        }
        args.push(uid);
        self.run(&args, b"")
    }

    /// `uid`'s secret key (protected as it is), armoured.
    pub fn export_secret(&self, uid: &str, passphrase: Option<&str>) -> Vec<u8> {
        self.run(
            &[
                "--passphrase",
                passphrase.unwrap_or(""),
                "--armor",
                "--export-secret-keys",
                uid,
            ],
            b"",
        )
    }

    /// Imports a key.
    pub fn import(&self, key: &[u8]) {
        self.run(&["--import"], key);
    }

    /// `data` encrypted for `to` and, with `signer`, signed by it (its
    /// passphrase `passphrase`); armoured or binary.
    pub fn encrypt(
        &self,
        data: &[u8],
        to: &str,
        signer: Option<(&str, Option<&str>)>,
        armor: bool,
    ) -> Vec<u8> {
        let mut args = vec!["--recipient", to];
        if armor {
            args.push("--armor");
        }
        if let Some((uid, pass)) = signer {
            args.extend([
                "--local-user",
                uid,
                "--passphrase",
                pass.unwrap_or(""),
                "--sign",
            ]);
        }
        args.push("--encrypt");
        self.run(&args, data)
    }

    /// `data` signed by `signer`, not encrypted (nor compressed: the
    /// content is in the clear).
    pub fn sign(&self, data: &[u8], signer: &str, passphrase: Option<&str>) -> Vec<u8> {
        self.run(
            &[
                "--local-user",
                signer,
                "--passphrase",
                passphrase.unwrap_or(""),
                "--compress-algo",
                "none",
                "--sign",
            ],
            data,
        )
    }

    /// Decrypts `data` (the secret key's passphrase `passphrase`).
    pub fn decrypt(&self, data: &[u8], passphrase: Option<&str>) -> Result<Decrypted, String> {
        self.try_run(
            &[
                "--status-fd",
                "2",
                "--passphrase",
                passphrase.unwrap_or(""),
                "--decrypt",
            ],
            data,
        )
        .map(|(content, status)| Decrypted { content, status })
    }

    /// Writes `bytes` to `path`, making its folder.
    pub fn write(path: &Path, bytes: &[u8]) -> PathBuf {
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).expect("folder");
        }
        std::fs::write(path, bytes).expect("written");
        path.to_path_buf()
    }
}

impl Drop for Gpg {
    fn drop(&mut self) {
        let _ = Command::new("gpgconf")
            .env("GNUPGHOME", self.home.path())
            .args(["--kill", "all"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
    }
}
