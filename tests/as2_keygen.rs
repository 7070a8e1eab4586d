//! `dropgate as2 keygen` makes a key and a self-signed certificate that
//! OpenSSL reads as an AS2 certificate (not a CA; digital signature and
//! key encipherment; SHA-256 with RSA), whose signatures OpenSSL verifies
//! and to which OpenSSL encrypts what dropgate then decrypts; it never
//! overwrites a file and keeps the key private.

mod support;

use std::process::Command;

use support::cli::{dropgate, text};

fn openssl(args: &[&str]) -> Option<std::process::Output> {
    match Command::new("openssl").args(args).output() {
        Ok(out) => {
            assert!(
                out.status.success(),
                "openssl {args:?}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            Some(out)
        }
        Err(e) => {
            assert!(std::env::var_os("CI").is_none(), "openssl: {e}");
            eprintln!("SKIPPED: openssl: {e}");
            None
        }
    }
}

#[test]
fn keygen_makes_a_key_and_certificate_openssl_and_dropgate_both_use() {
    let dir = tempfile::tempdir().expect("temporary folder");
    let key = dir.path().join("our.key");
    let cert = dir.path().join("our.pem");
    let out = dropgate(&[
        "as2",
        "keygen",
        "--subject",
        "CN=RETAILER AS2,O=Retailer Inc.",
        "--bits",
        "2048",
        "--days",
        "365",
        "--key",
        &key.to_string_lossy(),
        "--cert",
        &cert.to_string_lossy(),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let said = text(&out.stdout);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&key)
            .expect("the key")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600, "the key is its owner's only");
    }
    let Some(shown) = openssl(&["x509", "-in", &cert.to_string_lossy(), "-noout", "-text"]) else {
        return;
    };
    let shown = String::from_utf8_lossy(&shown.stdout);
    for expected in [
        "Signature Algorithm: sha256WithRSAEncryption",
        "CN = RETAILER AS2",
        "Public-Key: (2048 bit)",
        "CA:FALSE",
        "Digital Signature, Key Encipherment",
    ] {
        assert!(shown.contains(expected), "{expected}: {shown}");
    }
    // The fingerprint said is OpenSSL's.
    let fingerprint = openssl(&[
        "x509",
        "-in",
        &cert.to_string_lossy(),
        "-noout",
        "-fingerprint",
        "-sha256",
    ])
    .expect("openssl");
    let fingerprint = String::from_utf8_lossy(&fingerprint.stdout);
    let fingerprint = fingerprint
        .trim()
        .split_once('=')
        .map(|(_, f)| f)
        .expect("a fingerprint");
    assert!(
        said.contains(&format!("SHA-256 fingerprint: {fingerprint}")),
        "{said}"
    );

    // dropgate signs with the key; OpenSSL verifies it with the
    // certificate.
    let us = dropgate::as2::Identity::from_pem_or_der(
        &std::fs::read(&cert).expect("certificate"),
        &std::fs::read(&key).expect("key"),
    )
    .expect("dropgate reads the pair");
    let content = b"ISA*00*hello~".to_vec();
    let signature = dropgate::as2::smime::sign(
        &content,
        dropgate::as2::DigestAlgorithm::Sha256,
        &us,
        std::time::SystemTime::now(),
        &mut dropgate::as2::system_rng(),
    )
    .expect("signed");
    let content_file = dir.path().join("content");
    let signature_file = dir.path().join("signature.der");
    std::fs::write(&content_file, &content).expect("written");
    std::fs::write(&signature_file, &signature).expect("written");
    openssl(&[
        "cms",
        "-verify",
        "-binary",
        "-inform",
        "DER",
        "-in",
        &signature_file.to_string_lossy(),
        "-content",
        &content_file.to_string_lossy(),
        "-CAfile",
        &cert.to_string_lossy(),
        "-purpose",
        "any",
        "-out",
        "/dev/null",
    ])
    .expect("openssl");
    // OpenSSL encrypts for the certificate; dropgate decrypts with the key.
    let encrypted = openssl(&[
        "cms",
        "-encrypt",
        "-binary",
        "-aes-256-cbc",
        "-outform",
        "DER",
        "-in",
        &content_file.to_string_lossy(),
        &cert.to_string_lossy(),
    ])
    .expect("openssl");
    let (_, got) =
        dropgate::as2::smime::decrypt(&encrypted.stdout, &us, &mut dropgate::as2::system_rng())
            .expect("decrypted");
    assert_eq!(got, content);

    // Never over an existing file.
    let before = std::fs::read(&key).expect("key");
    let again = dropgate(&[
        "as2",
        "keygen",
        "--key",
        &key.to_string_lossy(),
        "--cert",
        &dir.path().join("other.pem").to_string_lossy(),
    ]);
    assert_eq!(again.status.code(), Some(2));
    assert!(
        text(&again.stderr).contains("exists: an existing key or certificate is never overwritten"),
        "{}",
        text(&again.stderr)
    );
    assert_eq!(std::fs::read(&key).expect("key"), before);
    assert!(!dir.path().join("other.pem").exists());
    // Sizes and subjects that are not: refused.
    let bad = dropgate(&[
        "as2",
        "keygen",
        "--bits",
        "1024",
        "--key",
        &dir.path().join("k2").to_string_lossy(),
        "--cert",
        &dir.path().join("c2").to_string_lossy(),
    ]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(text(&bad.stderr).contains("1024 bits: make a key of 2048, 3072 or 4096 bits"));
}
