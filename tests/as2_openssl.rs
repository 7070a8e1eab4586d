//! AES-GCM content encryption (RFC 5083 AuthEnvelopedData, RFC 5084)
//! against an independent implementation: OpenSSL's `cms` command
//! decrypts what dropgate encrypts and dropgate decrypts what OpenSSL
//! encrypts, for AES-128-GCM and AES-256-GCM; an altered byte or a wrong
//! key fails the tag. (pyas2lib, the AS2 peer of the other tests, has no
//! GCM.) An AS2 message encrypted with GCM is built and opened.

mod support;

use std::path::Path;
use std::process::Command;
use std::time::SystemTime;

use dropgate::as2::message::{self, Policy, Receiving};
use dropgate::as2::mime::{Header, Limits};
use dropgate::as2::smime::{self, Cipher, SmimeError};
use dropgate::as2::{Certificate, DigestAlgorithm, Identity, OutboundOptions};
use support::as2::As2Keys;

fn read(p: &Path) -> Vec<u8> {
    std::fs::read(p).expect("a key file")
}

fn identity(keys: &As2Keys) -> Identity {
    Identity::from_pem_or_der(&read(&keys.gateway().cert), &read(&keys.gateway().key))
        .expect("the gateway's identity")
}

fn openssl(args: &[&str]) -> std::process::Output {
    let out = Command::new("openssl")
        .args(args)
        .output()
        .expect("openssl runs");
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// An X12-like payload of `n` bytes.
fn payload(n: usize) -> Vec<u8> {
    b"ISA*00*          *00*          *ZZ*VENDORID       *ZZ*RETAILERID     *~"
        .iter()
        .copied()
        .cycle()
        .take(n)
        .collect()
}

#[test]
fn openssl_decrypts_what_dropgate_encrypts_with_gcm() {
    let Some(keys) = As2Keys::generate().expect("keys") else {
        return;
    };
    let dir = tempfile::tempdir().expect("temporary folder");
    let ours = Certificate::from_pem_or_der(&read(&keys.gateway().cert)).expect("certificate");
    for (cipher, n) in [(Cipher::Aes128Gcm, 1), (Cipher::Aes256Gcm, 70_001)] {
        let content = payload(n);
        let der = smime::encrypt(&content, cipher, &ours, &mut dropgate::as2::system_rng())
            .expect("encrypted");
        let file = dir.path().join("gcm.der");
        std::fs::write(&file, &der).expect("written");
        let out = openssl(&[
            "cms",
            "-decrypt",
            "-binary",
            "-inform",
            "DER",
            "-in",
            &file.to_string_lossy(),
            "-recip",
            &keys.gateway().cert.to_string_lossy(),
            "-inkey",
            &keys.gateway().key.to_string_lossy(),
        ]);
        assert_eq!(out.stdout, content, "{cipher:?}");
        // OpenSSL names it an AuthEnvelopedData with the GCM OID.
        let shown = openssl(&[
            "cms",
            "-cmsout",
            "-print",
            "-inform",
            "DER",
            "-in",
            &file.to_string_lossy(),
        ]);
        let shown = String::from_utf8_lossy(&shown.stdout);
        assert!(shown.contains("id-smime-ct-authEnvelopedData"), "{shown}");
        let gcm = match cipher {
            Cipher::Aes128Gcm => "aes-128-gcm",
            _ => "aes-256-gcm",
        };
        assert!(shown.contains(gcm), "{shown}");
    }
}

#[test]
fn dropgate_decrypts_what_openssl_encrypts_with_gcm_and_refuses_it_altered() {
    let Some(keys) = As2Keys::generate().expect("keys") else {
        return;
    };
    let dir = tempfile::tempdir().expect("temporary folder");
    let us = identity(&keys);
    let content = payload(5_000);
    let plain = dir.path().join("content.edi");
    std::fs::write(&plain, &content).expect("written");
    for (flag, cipher) in [
        ("-aes-128-gcm", Cipher::Aes128Gcm),
        ("-aes-256-gcm", Cipher::Aes256Gcm),
    ] {
        let out = openssl(&[
            "cms",
            "-encrypt",
            "-binary",
            flag,
            "-outform",
            "DER",
            "-in",
            &plain.to_string_lossy(),
            &keys.gateway().cert.to_string_lossy(),
        ]);
        let der = out.stdout;
        let (found, got) =
            smime::decrypt(&der, &us, &mut dropgate::as2::system_rng()).expect("decrypted");
        assert_eq!(found, cipher);
        assert_eq!(got, content);
        // One byte of the ciphertext changed: the tag says so.
        let at = der
            .windows(64)
            .position(|w| w == &der[der.len() - 200..der.len() - 136])
            .expect("a place in the content");
        let mut altered = der.clone();
        altered[at + 10] ^= 1;
        match smime::decrypt(&altered, &us, &mut dropgate::as2::system_rng()) {
            Err(SmimeError::ContentDecryption(why)) => {
                assert!(why.contains("GCM tag"), "{why}")
            }
            other => panic!("an altered message: {other:?}"),
        }
        // Not for the wrong key.
        let wrong = Identity::from_pem_or_der(&read(&keys.wrong().cert), &read(&keys.wrong().key))
            .expect("the wrong identity");
        assert!(smime::decrypt(&der, &wrong, &mut dropgate::as2::system_rng()).is_err());
    }
}

#[test]
fn an_as2_message_encrypted_with_gcm_is_built_and_opened() {
    let Some(keys) = As2Keys::generate().expect("keys") else {
        return;
    };
    let partner = Identity::from_pem_or_der(&read(&keys.peer().cert), &read(&keys.peer().key))
        .expect("the partner's identity");
    let us = identity(&keys);
    let ours = Certificate::from_pem_or_der(&read(&keys.gateway().cert)).expect("certificate");
    let partner_cert = Certificate::from_pem_or_der(&read(&keys.peer().cert)).expect("certificate");
    let content = payload(20_000);
    let options = OutboundOptions {
        from: "PEER".into(),
        to: "DROPGATE".into(),
        message_id: "gcm-1@peer".into(),
        subject: "gcm".into(),
        filename: Some("gcm.edi".into()),
        content_type: "application/edi-x12".into(),
        sign: Some(DigestAlgorithm::Sha256),
        encrypt: Some(Cipher::Aes256Gcm),
        compress: None,
        mdn: None,
    };
    let now = SystemTime::now();
    let out = message::build(
        &content,
        &options,
        &partner,
        &ours,
        now,
        &mut dropgate::as2::system_rng(),
    )
    .expect("built");
    let headers: Vec<Header> = out
        .headers
        .iter()
        .map(|(n, v)| Header {
            name: n.clone(),
            value: v.clone(),
        })
        .collect();
    assert!(
        out.headers
            .iter()
            .any(|(n, v)| n == "Content-Type" && v.contains("smime-type=authEnveloped-data")),
        "{:?}",
        out.headers
    );
    let limits = Limits::default();
    let opened = message::open(
        &headers,
        &out.body,
        &Receiving {
            us: &us,
            partner: &partner_cert,
            policy: Policy {
                require_signed: true,
                require_encrypted: true,
            },
            limits: &limits,
        },
        now,
        &mut dropgate::as2::system_rng(),
    )
    .expect("opened");
    assert_eq!(opened.payload, content);
    assert_eq!(opened.encrypted, Some(Cipher::Aes256Gcm));
    assert_eq!(opened.mic, out.mic);
}
