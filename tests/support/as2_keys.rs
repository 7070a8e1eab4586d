//! Test-only AS2 keys and certificates, made at test time with the
//! `openssl` CLI in a temporary folder: a self-signed RSA certificate
//! valid for 30 days, one that expired in 2020, and an EC one (which
//! dropgate refuses). Nothing here is a real key.

use std::error::Error;
use std::path::{Path, PathBuf};
use std::process::Command;

type Result<T> = std::result::Result<T, Box<dyn Error>>;

/// A party of a test partnership: its AS2 name and PEM files.
pub struct Party {
    pub name: &'static str,
    pub key: PathBuf,
    pub cert: PathBuf,
}

fn openssl(dir: &Path, args: &[&str]) -> Result<()> {
    let out = Command::new("openssl")
        .current_dir(dir)
        .args(args)
        .output()?;
    if !out.status.success() {
        return Err(format!("openssl {args:?}: {}", String::from_utf8_lossy(&out.stderr)).into());
    }
    Ok(())
}

fn files(dir: &Path, name: &'static str) -> Party {
    Party {
        name,
        key: dir.join(format!("{name}.key")),
        cert: dir.join(format!("{name}.pem")),
    }
}

/// A 2048-bit RSA key and its self-signed certificate, valid 30 days.
pub fn rsa(dir: &Path, name: &'static str) -> Result<Party> {
    let p = files(dir, name);
    let subject = format!("/CN={name} test AS2");
    openssl(
        dir,
        &[
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "30",
            "-subj",
            &subject,
            "-keyout",
            &p.key.to_string_lossy(),
            "-out",
            &p.cert.to_string_lossy(),
        ],
    )?;
    Ok(p)
}

/// An RSA key and a self-signed certificate valid only in January 2020.
pub fn expired(dir: &Path, name: &'static str) -> Result<Party> {
    let p = files(dir, name);
    let ca = dir.join(format!("{name}-ca"));
    std::fs::create_dir_all(&ca)?;
    std::fs::write(ca.join("index.txt"), "")?;
    std::fs::write(ca.join("serial"), "01\n")?;
    std::fs::write(
        ca.join("ca.cnf"),
        "[ca]\ndefault_ca = test\n[test]\ndatabase = index.txt\nnew_certs_dir = .\n\
         serial = serial\ndefault_md = sha256\npolicy = any\n[any]\ncommonName = supplied\n",
    )?;
    let subject = format!("/CN={name} test AS2");
    openssl(
        &ca,
        &[
            "req",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-subj",
            &subject,
            "-keyout",
            &p.key.to_string_lossy(),
            "-out",
            "request.csr",
        ],
    )?;
    openssl(
        &ca,
        &[
            "ca",
            "-batch",
            "-selfsign",
            "-config",
            "ca.cnf",
            "-keyfile",
            &p.key.to_string_lossy(),
            "-in",
            "request.csr",
            "-out",
            &p.cert.to_string_lossy(),
            "-notext",
            "-startdate",
            "20200101000000Z",
            "-enddate",
            "20200201000000Z",
        ],
    )?;
    Ok(p)
}

/// A P-256 key and its self-signed certificate.
pub fn ec(dir: &Path, name: &'static str) -> Result<Party> {
    let p = files(dir, name);
    let subject = format!("/CN={name} test AS2");
    openssl(
        dir,
        &[
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
            "-days",
            "30",
            "-subj",
            &subject,
            "-keyout",
            &p.key.to_string_lossy(),
            "-out",
            &p.cert.to_string_lossy(),
        ],
    )?;
    Ok(p)
}
