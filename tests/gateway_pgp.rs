//! PGP on channels, end to end against GnuPG: the partner's gpg encrypts
//! and signs X12 files (binary and armoured) into the gateway's folder
//! channel; the gateway decrypts them with its key, checks the partner's
//! signature, keeps the file as received and its content in the archive,
//! processes the content and sends its 997s back encrypted and signed,
//! which the partner's gpg decrypts and verifies. Files that cannot be
//! opened (for another key, not signed where required, signed by a key
//! not the partner's, altered, not OpenPGP) are quarantined with the
//! reason and processed once the configuration is fixed; the same content
//! encrypted again is a duplicate; `check-config` finds keys that do not
//! load and warns of keys about to expire. The same both ways on SFTP (a
//! private sshd), with armoured 997s.

mod support;

use std::path::{Path, PathBuf};

use dropgate::config;
use dropgate::daemon::Gateway;
use dropgate::store::FileState;
use support::cli::{dropgate, root, text};
use support::gpg::Gpg;

const OURS: &str = "edi@retailer.example";
const ACME: &str = "edi@acme.example";
const PASSPHRASE: &str = "correct horse";

/// A gateway folder whose `drop` and `acme-out` channels are PGP'd with
/// Acme, and Acme's GnuPG.
struct Setup {
    dir: tempfile::TempDir,
    acme: Gpg,
    /// Our GnuPG, where our key was made (and exported from).
    us: Gpg,
}

impl Setup {
    fn new() -> Option<Setup> {
        let acme = Gpg::new()?;
        let us = Gpg::new()?;
        acme.make_key(&format!("Acme Supply <{ACME}>"), "future-default", None);
        us.make_key(
            &format!("Retailer EDI <{OURS}>"),
            "rsa3072",
            Some(PASSPHRASE),
        );
        // The key exchange: each imports the other's public key.
        acme.import(&us.export_public(OURS, true));
        us.import(&acme.export_public(ACME, true));
        let dir = tempfile::tempdir().expect("temporary folder");
        let p = dir.path();
        Gpg::write(
            &p.join("keys/ours.asc"),
            &us.export_secret(OURS, Some(PASSPHRASE)),
        );
        Gpg::write(
            &p.join("keys/passphrase"),
            format!("{PASSPHRASE}\n").as_bytes(),
        );
        // Binary, as `gpg --export` without --armor writes it.
        Gpg::write(&p.join("keys/acme.gpg"), &acme.export_public(ACME, false));
        std::fs::create_dir_all(p.join("drop")).expect("drop");
        Gpg::write(
            &p.join("partners/acme.toml"),
            br#"
[partner]
name = "Acme Supply"

[x12]
interchange_id = "ZZ:VENDORID"
acknowledgment = "997"
acknowledge = "always"

[[inbound]]
channel = "drop"
patterns = ["*.pgp", "*.asc", "*.gpg", "*.edi"]

[outbound]
channel = "acme-out"
"#,
        );
        let s = Setup { dir, acme, us };
        s.configure(&["keys/acme.gpg"], "required");
        Some(s)
    }

    /// Writes gateway.toml with these partner keys and signature rule.
    fn configure(&self, partner_keys: &[&str], signature: &str) {
        let keys = partner_keys
            .iter()
            .map(|k| format!("{k:?}"))
            .collect::<Vec<_>>()
            .join(", ");
        Gpg::write(
            &self.path().join("gateway.toml"),
            format!(
                r#"
[gateway]
data_dir = "var"
retry_secs = 1

[channel.drop]
type = "dir"
path = "drop"
min_age_secs = 0

[channel.drop.pgp]
secret_key = "keys/ours.asc"
passphrase_file = "keys/passphrase"
partner_keys = [{keys}]
signature = "{signature}"

[channel.acme-out]
type = "dir"
path = "out/acme"

[channel.acme-out.pgp]
secret_key = "keys/ours.asc"
passphrase_file = "keys/passphrase"
partner_keys = ["keys/acme.gpg"]
suffix = ".pgp"

[relay]
type = "file"
path = "relay"
"#
            )
            .as_bytes(),
        );
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    fn gateway(&self) -> Gateway {
        let config = config::load(&self.path().join("gateway.toml")).expect("configuration loads");
        Gateway::open(config).expect("gateway opens")
    }

    fn drop_file(&self, name: &str, bytes: &[u8]) -> PathBuf {
        Gpg::write(&self.path().join("drop").join(name), bytes)
    }

    fn names(&self, folder: &str) -> Vec<String> {
        support::cli::names(&self.path().join(folder))
    }
}

fn sample(path: &str) -> Vec<u8> {
    std::fs::read(root().join(path)).expect("sample")
}

fn sha256(bytes: &[u8]) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The audit trail of file `id`, one line per entry.
fn audit(g: &mut Gateway, id: dropgate::store::FileId) -> String {
    g.store()
        .audit_trail(id)
        .expect("audit trail")
        .iter()
        .map(|e| format!("{}: {}", e.event, e.detail))
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn gnupg_files_in_and_acknowledgments_out_both_sealed() {
    let Some(s) = Setup::new() else {
        return;
    };
    let asn = sample("samples/x12/good/856-4010-pick-and-pack.edi");
    let invoice = sample("samples/x12/good/810-4010-freight.edi");
    let binary = s.acme.encrypt(&asn, OURS, Some((ACME, None)), false);
    let armoured = s.acme.encrypt(&invoice, OURS, Some((ACME, None)), true);
    assert!(armoured.starts_with(b"-----BEGIN PGP MESSAGE-----"));
    s.drop_file("asn.edi.pgp", &binary);
    s.drop_file("invoice.edi.asc", &armoured);
    // The same ship notice again, encrypted anew: other bytes, the same
    // content, a duplicate.
    let again = s.acme.encrypt(&asn, OURS, Some((ACME, None)), false);
    assert_ne!(again, binary);
    s.drop_file("v-asn-again.edi.pgp", &again);

    let mut g = s.gateway();
    let report = g.pass().expect("a pass");
    let states: Vec<_> = report
        .files
        .iter()
        .map(|f| {
            (
                f.name.as_str(),
                f.state,
                f.partner.as_deref(),
                f.detail.clone(),
            )
        })
        .collect();
    assert_eq!(
        states,
        [
            ("asn.edi.pgp", FileState::Processed, Some("acme"), None),
            ("invoice.edi.asc", FileState::Processed, Some("acme"), None),
            (
                "v-asn-again.edi.pgp",
                FileState::Duplicate,
                Some("acme"),
                Some("the same bytes as file 1: not processed again".into())
            ),
        ]
    );
    let our_fpr = s.us.fingerprint(OURS);
    let acme_fpr = s.acme.fingerprint(ACME);
    for (outcome, received, content, form) in [
        (&report.files[0], &binary, &asn, "binary"),
        (&report.files[1], &armoured, &invoice, "armoured"),
    ] {
        // Recorded as received; the content archived beside it.
        let record = g.store().file(outcome.id).expect("store").expect("file");
        assert_eq!(record.sha256, sha256(received));
        let archive = s.path().join("var/archive");
        assert_eq!(
            std::fs::read(archive.join(&record.archive_path)).expect("archived as received"),
            *received
        );
        let trail = audit(&mut g, outcome.id);
        assert!(
            trail.contains(&format!(
                "decrypted: decrypted with key {our_fpr} (Retailer EDI <{OURS}>)"
            )),
            "{trail}"
        );
        assert!(
            trail.contains(&format!(
                "signed by {acme_fpr} (Acme Supply <{ACME}>) (verified)"
            )),
            "{trail}"
        );
        assert!(
            trail.contains(&format!(
                "{form} OpenPGP; content {} bytes, SHA-256 {}",
                content.len(),
                sha256(content)
            )),
            "{trail}"
        );
        let kept = trail
            .lines()
            .find(|l| l.starts_with("decrypted: "))
            .and_then(|l| l.split("archived at ").nth(1))
            .expect("where the content is");
        assert_eq!(
            std::fs::read(archive.join(kept)).expect("content archived"),
            *content
        );
    }
    // The content is what was processed: the relay has the 856's
    // documents as `translate` makes them from the plain file.
    let relayed =
        std::fs::read_to_string(s.path().join("relay/000001-asn.edi.pgp.jsonl")).expect("relayed");
    assert!(relayed.contains("\"type\":\"ship_notice\""), "{relayed}");

    // The 997s went out sealed, named with the suffix; Acme's gpg
    // decrypts them and finds our good signature.
    let acks = s.names("out/acme");
    assert_eq!(
        acks,
        ["acme-997-000000001.edi.pgp", "acme-997-000000002.edi.pgp"]
    );
    for (ack, answered) in acks.iter().zip(["856", "810"]) {
        let sealed = std::fs::read(s.path().join("out/acme").join(ack)).expect("997");
        assert!(!sealed.windows(3).any(|w| w == b"ISA"), "sent in the clear");
        let opened = s
            .acme
            .decrypt(&sealed, None)
            .expect("Acme decrypts its 997");
        assert_eq!(
            opened.valid_signature(),
            Some(our_fpr.clone()),
            "{}",
            opened.status
        );
        let body = text(&opened.content);
        assert!(
            body.contains("ST*997*") && body.contains(&format!("AK2*{answered}*")),
            "{body}"
        );
        assert!(body.contains("AK9*A*1*1*1"), "{body}");
    }
}

#[test]
fn files_that_cannot_be_opened_are_quarantined_and_reprocessed_after_the_fix() {
    let Some(s) = Setup::new() else {
        return;
    };
    let asn = sample("samples/x12/good/856-4010-pick-and-pack.edi");
    // Encrypted for an old key of ours that the gateway no longer has.
    let old = Gpg::new().expect("gpg");
    old.make_key(
        "Retailer (old) <old@retailer.example>",
        "future-default",
        None,
    );
    s.acme
        .import(&old.export_public("old@retailer.example", true));
    s.drop_file(
        "a-old-key.edi.pgp",
        &s.acme
            .encrypt(&asn, "old@retailer.example", Some((ACME, None)), false),
    );
    // Encrypted, not signed, where the signature is required.
    s.drop_file(
        "b-unsigned.edi.pgp",
        &s.acme.encrypt(&asn, OURS, None, false),
    );
    // Signed with Acme's new key, which we were not sent yet.
    s.acme.make_key(
        "Acme Supply 2026 <edi2026@acme.example>",
        "future-default",
        None,
    );
    let new_fpr = s.acme.fingerprint("edi2026@acme.example");
    // (Another file: the same content as b's would be its duplicate.)
    let invoice = sample("samples/x12/good/810-4010-freight.edi");
    s.drop_file(
        "c-new-signer.edi.asc",
        &s.acme
            .encrypt(&invoice, OURS, Some(("edi2026@acme.example", None)), true),
    );
    // Signed by Acme and altered on the way (signed only, in the clear).
    let mut altered = s.acme.sign(&asn, ACME, None);
    let at = altered
        .windows(9)
        .position(|w| w == b"*VENDORID")
        .expect("content in the clear");
    altered[at + 1] = b'W';
    s.drop_file("d-altered.edi.gpg", &altered);
    // Not OpenPGP at all.
    s.drop_file("e-plain.edi", &asn);

    let mut g = s.gateway();
    let report = g.pass().expect("a pass");
    let said: Vec<(&str, FileState, String)> = report
        .files
        .iter()
        .map(|f| {
            (
                f.name.as_str(),
                f.state,
                f.detail.clone().unwrap_or_default(),
            )
        })
        .collect();
    let expect = [
        (
            "a-old-key.edi.pgp",
            format!("the file is encrypted for {}", s.encryption_key_id(&old)),
        ),
        (
            "b-unsigned.edi.pgp",
            "the file is not signed, and the channel requires the partner's signature".to_string(),
        ),
        (
            "c-new-signer.edi.asc",
            format!("the file is signed by key {new_fpr}, which is not among the partner's keys"),
        ),
        (
            "d-altered.edi.gpg",
            format!(
                "the signature of key {} does not verify",
                s.acme.fingerprint(ACME)
            ),
        ),
        (
            "e-plain.edi",
            "not an OpenPGP message, and channel drop takes only OpenPGP files".to_string(),
        ),
    ];
    assert_eq!(said.len(), expect.len(), "{said:?}");
    for ((name, state, detail), (want_name, want)) in said.iter().zip(&expect) {
        assert_eq!(
            (*name, *state),
            (*want_name, FileState::Quarantined),
            "{detail}"
        );
        assert!(
            detail.contains(want.as_str()),
            "{name}: {detail}\nwanted: {want}"
        );
    }
    assert!(
        said[0]
            .2
            .contains(&format!("not for our key {}", s.us.fingerprint(OURS))),
        "{}",
        said[0].2
    );
    // Kept as received all the same, and off the drop.
    assert!(s.names("drop").is_empty(), "{:?}", s.names("drop"));
    assert!(s.names("relay").is_empty());

    // The fix: Acme's new key added (sent armoured), and unsigned files
    // taken. Reprocessing opens them again with the new configuration.
    Gpg::write(
        &s.path().join("keys/acme-2026.asc"),
        &s.acme.export_public("edi2026@acme.example", true),
    );
    s.configure(&["keys/acme.gpg", "keys/acme-2026.asc"], "optional");
    drop(g);
    let mut g = s.gateway();
    let ids: Vec<_> = report.files.iter().map(|f| f.id).collect();
    let again: Vec<FileState> = ids
        .iter()
        .map(|id| g.reprocess(*id, false).expect("reprocessed").state)
        .collect();
    assert_eq!(
        again,
        [
            FileState::Quarantined,
            FileState::Processed,
            FileState::Processed,
            FileState::Quarantined,
            FileState::Quarantined,
        ]
    );
    let trail = audit(&mut g, ids[2]);
    assert!(
        trail.contains(&format!(
            "signed by {new_fpr} (Acme Supply 2026 <edi2026@acme.example>) (verified)"
        )),
        "{trail}"
    );
    let trail = audit(&mut g, ids[1]);
    assert!(trail.contains("; not signed; binary OpenPGP"), "{trail}");
    // Nothing could be read of the files refused: no 997 went for them;
    // the two processed now are answered, sealed.
    let acks = s.names("out/acme");
    assert_eq!(
        acks,
        ["acme-997-000000001.edi.pgp", "acme-997-000000002.edi.pgp"]
    );
    for ack in &acks {
        let sealed = std::fs::read(s.path().join("out/acme").join(ack)).expect("997");
        let opened = s.acme.decrypt(&sealed, None).expect("Acme decrypts");
        assert!(text(&opened.content).contains("ST*997*"));
    }
}

impl Setup {
    /// How the gateway names the key a file for `other`'s key was
    /// encrypted to: the key ID of its encryption subkey, as GnuPG lists
    /// it.
    fn encryption_key_id(&self, other: &Gpg) -> String {
        let out = other.run(&["--with-colons", "--list-keys"], b"");
        String::from_utf8_lossy(&out)
            .lines()
            .find_map(|l| l.strip_prefix("sub:"))
            .and_then(|r| r.split(':').nth(3))
            .expect("a subkey")
            .to_string()
    }
}

#[test]
fn check_config_finds_keys_that_do_not_load_and_warns_of_expiry() {
    let Some(s) = Setup::new() else {
        return;
    };
    let config = s.path().join("gateway.toml");
    let check = || dropgate(&["check-config", "-c", &config.to_string_lossy()]);
    let ok = check();
    assert!(ok.status.success(), "{}", text(&ok.stderr));
    // A wrong passphrase.
    Gpg::write(&s.path().join("keys/passphrase"), b"wrong\n");
    let out = check();
    assert_eq!(out.status.code(), Some(1));
    let said = text(&out.stdout) + &text(&out.stderr);
    assert!(said.contains("channel drop: pgp: secret_key"), "{said}");
    assert!(
        said.contains("the passphrase does not unlock the secret key"),
        "{said}"
    );
    Gpg::write(&s.path().join("keys/passphrase"), PASSPHRASE.as_bytes());
    // A partner key that is not there, and one that is not a key.
    std::fs::write(
        s.path().join("keys/acme.gpg"),
        b"-----BEGIN PGP PUBLIC KEY BLOCK-----\n\nnonsense\n",
    )
    .expect("written");
    let out = check();
    assert_eq!(out.status.code(), Some(1));
    let said = text(&out.stdout) + &text(&out.stderr);
    assert!(
        said.contains("partner_keys") && said.contains("not an OpenPGP public key"),
        "{said}"
    );
    // A partner key that expires in ten days: a warning, not a failure.
    s.acme.run(
        &[
            "--passphrase",
            "",
            "--quick-gen-key",
            "Soon <soon@acme.example>",
            "future-default",
            "default",
            "10d",
        ],
        b"",
    );
    Gpg::write(
        &s.path().join("keys/acme.gpg"),
        &s.acme.export_public("soon@acme.example", true),
    );
    let out = check();
    let said = text(&out.stdout) + &text(&out.stderr);
    assert!(out.status.success(), "{said}");
    assert!(
        said.contains("pgp: the partner key")
            && said.contains("(Soon <soon@acme.example>) expires on"),
        "{said}"
    );
}

#[test]
fn an_openpgp_file_on_a_channel_without_pgp_says_what_it_needs() {
    let Some(s) = Setup::new() else {
        return;
    };
    let asn = sample("samples/x12/good/856-4010-pick-and-pack.edi");
    s.drop_file("binary.edi.pgp", &s.acme.encrypt(&asn, OURS, None, false));
    s.drop_file("armoured.edi.asc", &s.acme.encrypt(&asn, OURS, None, true));
    // The drop without its [channel.drop.pgp].
    let toml = std::fs::read_to_string(s.path().join("gateway.toml")).expect("gateway.toml");
    let start = toml.find("[channel.drop.pgp]").expect("pgp table");
    let end = start + toml[start..].find("\n\n").expect("its end");
    std::fs::write(
        s.path().join("gateway.toml"),
        format!("{}{}", &toml[..start], &toml[end..]),
    )
    .expect("written");
    let report = s.gateway().pass().expect("a pass");
    assert_eq!(report.files.len(), 2);
    for f in &report.files {
        assert_eq!(f.state, FileState::Quarantined, "{}", f.name);
        let detail = f.detail.clone().unwrap_or_default();
        assert!(
            detail.contains("(an OpenPGP message: channel drop decrypts it once it has a [channel.drop.pgp] with our secret key; then reprocess it)"),
            "{}: {detail}",
            f.name
        );
    }
}

#[test]
fn a_sealed_delivery_made_before_a_crash_is_recognized_when_tried_again() {
    use dropgate::daemon::{seal, unseal::Keyring};
    use dropgate::transport::channel::Channel;
    let Some(s) = Setup::new() else {
        return;
    };
    let config = config::load(&s.path().join("gateway.toml")).expect("configuration loads");
    let out = config.channel("acme-out").expect("acme-out");
    let settings = out.pgp.as_ref().expect("its pgp");
    let mut channel = Channel::new(&out.name, &out.kind);
    let mut keyring = Keyring::default();
    let ack = b"ISA*00*...997 as queued~";
    seal::deliver(settings, &mut keyring, &mut channel, "acme-997-1.edi", ack).expect("made");
    let path = s.path().join("out/acme/acme-997-1.edi.pgp");
    let first = std::fs::read(&path).expect("delivered with the suffix");
    // Tried again (the outbox never heard it was made): sealed anew, the
    // file there is not overwritten, and it is the same content.
    seal::deliver(settings, &mut keyring, &mut channel, "acme-997-1.edi", ack)
        .expect("recognized as made");
    assert_eq!(std::fs::read(&path).expect("still there"), first);
    // Another content under that name is not taken for it.
    let e = seal::deliver(
        settings,
        &mut keyring,
        &mut channel,
        "acme-997-1.edi",
        b"other",
    )
    .expect_err("a different file is there");
    assert!(!e.is_empty());
    assert_eq!(
        s.acme.decrypt(&first, None).expect("Acme decrypts").content,
        ack
    );
}

#[test]
fn on_sftp_the_partners_sealed_files_come_in_and_sealed_997s_go_back() {
    let Some(s) = Setup::new() else {
        return;
    };
    let Some(sshd) = support::sshd::Sshd::start().expect("sshd") else {
        return;
    };
    std::fs::create_dir_all(sshd.root().join("from-acme")).expect("folder");
    std::fs::create_dir_all(sshd.root().join("to-acme")).expect("folder");
    let common = format!(
        "host = \"127.0.0.1\"\nport = {}\nuser = \"root\"\nprivate_key = \"{}\"\nknown_hosts = \"{}\"\ntimeout_secs = 10",
        sshd.port(),
        sshd.client_key().display(),
        sshd.known_hosts_line().expect("host key")
    );
    let pgp = "secret_key = \"keys/ours.asc\"\npassphrase_file = \"keys/passphrase\"\npartner_keys = [\"keys/acme.gpg\"]";
    Gpg::write(
        &s.path().join("gateway.toml"),
        format!(
            r#"
[gateway]
data_dir = "var"

[channel.drop]
type = "sftp"
{common}
path = "from-acme"
min_age_secs = 0

[channel.drop.pgp]
{pgp}
signature = "required"

[channel.acme-out]
type = "sftp"
{common}
path = "to-acme"

[channel.acme-out.pgp]
{pgp}
armor = true
suffix = ".asc"

[relay]
type = "file"
path = "relay"
"#
        )
        .as_bytes(),
    );
    let asn = sample("samples/x12/good/856-4010-pick-and-pack.edi");
    std::fs::write(
        sshd.root().join("from-acme/asn.edi.pgp"),
        s.acme.encrypt(&asn, OURS, Some((ACME, None)), false),
    )
    .expect("put on the server");
    let config = s.path().join("gateway.toml");
    let out = dropgate(&["run", "--once", "-c", &config.to_string_lossy()]);
    let said = text(&out.stdout) + &text(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{said}\n{}", sshd.log());
    assert!(
        said.contains("processed") && said.contains("asn.edi.pgp"),
        "{said}"
    );
    assert_eq!(
        support::cli::names(&sshd.root().join("from-acme/processed")),
        ["asn.edi.pgp"]
    );
    assert_eq!(s.names("relay"), ["000001-asn.edi.pgp.jsonl"]);
    let acks = support::cli::names(&sshd.root().join("to-acme"));
    assert_eq!(acks, ["acme-997-000000001.edi.asc"]);
    let sealed = std::fs::read(sshd.root().join("to-acme").join(&acks[0])).expect("997");
    assert!(sealed.starts_with(b"-----BEGIN PGP MESSAGE-----"));
    let opened = s.acme.decrypt(&sealed, None).expect("Acme decrypts");
    assert_eq!(
        opened.valid_signature(),
        Some(s.us.fingerprint(OURS)),
        "{}",
        opened.status
    );
    assert!(text(&opened.content).contains("AK2*856*"));
}

#[test]
fn a_channel_that_accepts_plain_files_takes_both() {
    let Some(s) = Setup::new() else {
        return;
    };
    let toml = std::fs::read_to_string(s.path().join("gateway.toml")).expect("gateway.toml");
    std::fs::write(
        s.path().join("gateway.toml"),
        toml.replacen(
            "signature = \"required\"",
            "signature = \"required\"\nunencrypted = \"accept\"",
            1,
        ),
    )
    .expect("written");
    let asn = sample("samples/x12/good/856-4010-pick-and-pack.edi");
    let invoice = sample("samples/x12/good/810-4010-freight.edi");
    s.drop_file("plain.edi", &asn);
    s.drop_file(
        "sealed.edi.pgp",
        &s.acme.encrypt(&invoice, OURS, Some((ACME, None)), false),
    );
    let mut g = s.gateway();
    let report = g.pass().expect("a pass");
    let states: Vec<_> = report
        .files
        .iter()
        .map(|f| (f.name.as_str(), f.state))
        .collect();
    assert_eq!(
        states,
        [
            ("plain.edi", FileState::Processed),
            ("sealed.edi.pgp", FileState::Processed)
        ]
    );
    assert!(!audit(&mut g, report.files[0].id).contains("decrypted"));
    assert!(audit(&mut g, report.files[1].id).contains("decrypted: decrypted with key"));
}
