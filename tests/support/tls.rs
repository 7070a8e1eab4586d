//! TLS material for the test servers, made with openssl: a test CA, a
//! leaf for localhost and 127.0.0.1 signed by it, and a second CA that
//! signed nothing the servers show.

use std::error::Error;
use std::path::Path;
use std::process::Command;

use super::proc::run;

type Result<T> = std::result::Result<T, Box<dyn Error>>;

/// A test CA, a leaf for localhost and 127.0.0.1 signed by it (CA:FALSE:
/// rustls refuses a CA certificate as the server's), and a second CA that
/// signed nothing the server shows.
pub fn make(dir: &Path) -> Result<()> {
    std::fs::create_dir(dir)?;
    let openssl = |args: &[&str]| run(Command::new("openssl").args(args).current_dir(dir));
    let ec = [
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-nodes",
    ];
    for (name, cn) in [
        ("ca", "dropgate test CA"),
        ("other-ca", "someone else's CA"),
    ] {
        let subject = format!("/CN={cn}");
        let (key, pem) = (format!("{name}.key"), format!("{name}.pem"));
        let mut args = vec!["req", "-x509"];
        args.extend(ec);
        args.extend([
            "-days", "3650", "-subj", &subject, "-keyout", &key, "-out", &pem,
        ]);
        openssl(&args)?;
    }
    let mut args = vec!["req"];
    args.extend(ec);
    args.extend([
        "-subj",
        "/CN=localhost",
        "-keyout",
        "server.key",
        "-out",
        "server.csr",
    ]);
    openssl(&args)?;
    std::fs::write(
        dir.join("ext.cnf"),
        "subjectAltName=DNS:localhost,IP:127.0.0.1\n\
         basicConstraints=critical,CA:FALSE\n\
         keyUsage=critical,digitalSignature\n\
         extendedKeyUsage=serverAuth\n",
    )?;
    openssl(&[
        "x509",
        "-req",
        "-in",
        "server.csr",
        "-CA",
        "ca.pem",
        "-CAkey",
        "ca.key",
        "-set_serial",
        "1",
        "-days",
        "3650",
        "-extfile",
        "ext.cnf",
        "-out",
        "server.pem",
    ])?;
    Ok(())
}
