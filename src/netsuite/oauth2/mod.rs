//! OAuth 2.0 client credentials with a JWT client assertion, NetSuite's
//! machine-to-machine login: the signing key ([`key`]), the assertion
//! that the client makes and the simulator checks ([`assertion`]), and
//! the access tokens the client keeps and renews ([`token`]).

pub mod assertion;
pub mod key;
pub mod token;

pub use assertion::{
    AssertionError, Certificate, CertificateError, Claims, sign_assertion, verify_assertion,
};
pub use key::{Algorithm, KeyError, SigningKey};
pub use token::{AccessToken, TokenError, TokenSource};

/// Keys and self-signed certificates for the tests, made by `openssl`
/// (as a user makes them; none is kept in the repository).
#[cfg(test)]
pub(crate) mod test_keys {
    use std::process::Command;

    /// `(private key PEM, certificate PEM)` of a new key: `spec` is what
    /// follows `-newkey` (`rsa:2048`, `ec`), `opts` its `-pkeyopt`s.
    pub fn make(spec: &str, opts: &[&str]) -> (String, String) {
        let dir = tempfile::tempdir().expect("a temporary folder");
        let mut cmd = Command::new("openssl");
        cmd.current_dir(dir.path())
            .args(["req", "-new", "-x509", "-nodes", "-days", "2"])
            .args(["-subj", "/CN=dropgate test", "-newkey", spec]);
        for opt in opts {
            cmd.args(["-pkeyopt", opt]);
        }
        cmd.args(["-keyout", "key.pem", "-out", "cert.pem"]);
        let out = cmd.output().expect("openssl runs");
        assert!(
            out.status.success(),
            "openssl: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let read = |f: &str| std::fs::read_to_string(dir.path().join(f)).expect("openssl wrote it");
        (read("key.pem"), read("cert.pem"))
    }

    pub fn rsa() -> (String, String) {
        make("rsa:2048", &[])
    }

    pub fn p256() -> (String, String) {
        make("ec", &["ec_paramgen_curve:P-256"])
    }

    /// Runs `openssl` with `args` and gives its standard output.
    pub fn openssl(args: &[&str], stdin: &str) -> String {
        use std::io::Write;
        let mut child = Command::new("openssl")
            .args(args)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("openssl runs");
        child
            .stdin
            .take()
            .expect("piped")
            .write_all(stdin.as_bytes())
            .expect("openssl reads");
        let out = child.wait_with_output().expect("openssl ends");
        assert!(
            out.status.success(),
            "openssl {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).expect("PEM is text")
    }
}
