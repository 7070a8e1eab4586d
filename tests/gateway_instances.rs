//! Several gateways as one: three instances of `dropgate run` on one
//! PostgreSQL database and one S3 bucket (real servers on 127.0.0.1),
//! sharing a drop folder, a partner's outbound folder and the relay's
//! folder. The instance that polls the drop is killed with SIGKILL in the
//! middle; another takes its lease over and what it left. Every file is
//! processed once, every file's documents relayed once, every
//! acknowledgment's ISA13 used once, and `dropgate status` lists the
//! instances alive with the leases each holds. And two instances share an
//! SFTP drop (a private sshd) and a mailbox (a private Dovecot) while
//! PostgreSQL is stopped and started again under them.

mod support;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use support::cli::{names, root, text};
use support::daemon::Daemon;
use support::postgres::{PASSWORD, Postgres};
use support::s3::S3;

/// Files dropped, three orders each.
const FILES: u32 = 24;

/// `count` 850s from Acme in one interchange numbered `control`.
fn orders(control: u32, count: u32) -> Vec<u8> {
    let mut s = format!(
        "ISA*00*          *00*          *ZZ*VENDORID       *ZZ*RETAILERID     *240115*1030*U*00401*{control:09}*0*P*>~\nGS*PO*VENDORID*RETAILERID*20240115*1030*{control}*X*004010~\n",
    );
    for n in 1..=count {
        s.push_str(&format!(
            "ST*850*000{n}~\nBEG*00*DS*PO-{control}-{n}**20240115~\nN1*ST*Jane Doe~\nN3*1 Main St~\nN4*Springfield*IL*62701*US~\nPO1*1*2*EA*4.5**VN*SKU-{n}~\nCTT*1~\nSE*8*000{n}~\n"
        ));
    }
    s.push_str(&format!("GE*{count}*{control}~\nIEA*1*{control:09}~\n"));
    s.into_bytes()
}

/// The configuration of instance `n`: its own data directory, the shared
/// folders, the database and the bucket.
fn instance_config(shared: &Path, n: usize, url: &str, s3: &S3) -> PathBuf {
    let dir = shared.join(format!("instance-{n}"));
    std::fs::create_dir_all(&dir).expect("instance folder");
    std::fs::write(dir.join("s3.secret"), support::s3::SECRET_KEY).expect("secret");
    let config = dir.join("gateway.toml");
    let s = shared.display();
    std::fs::write(
        &config,
        format!(
            r#"
[gateway]
data_dir = "var"
partners = "{s}/partners"
poll_interval_secs = 1
retry_secs = 1
lease_secs = 3
shutdown_grace_secs = 5

[store]
url = "{url}"
password_env = "DROPGATE_TEST_DB_PASSWORD"

[archive]
url = "s3://{bucket}/gw"
endpoint = "{endpoint}"
allow_http = true
access_key_id = "{key}"
secret_access_key_file = "s3.secret"

[x12]
interchange_id = "ZZ:RETAILERID"

[channel.drop]
type = "dir"
path = "{s}/drop"
min_age_secs = 0

[channel.acme-out]
type = "dir"
path = "{s}/out/acme"

[relay]
type = "file"
path = "{s}/relay"
"#,
            bucket = support::s3::BUCKET,
            endpoint = s3.endpoint(),
            key = support::s3::ACCESS_KEY,
        ),
    )
    .expect("gateway.toml");
    config
}

fn start(config: &Path) -> Daemon {
    let mut command = Command::new(Daemon::binary());
    command
        .args(["run", "--log-format", "json", "-c"])
        .arg(config)
        .env("DROPGATE_TEST_DB_PASSWORD", PASSWORD);
    Daemon::spawn(command)
}

/// `dropgate status` on `config`.
fn status(config: &Path) -> String {
    let out = Command::new(Daemon::binary())
        .args(["status", "-c"])
        .arg(config)
        .env("DROPGATE_TEST_DB_PASSWORD", PASSWORD)
        .output()
        .expect("status runs");
    assert!(out.status.success(), "{}", text(&out.stderr));
    text(&out.stdout)
}

/// Drops file `k` into the shared drop (written under a temporary name,
/// then renamed: the channel never sees half of it).
fn drop_file(shared: &Path, k: u32) {
    drop_orders(shared, k, 3);
}

/// Drops file `k`, of `count` orders.
fn drop_orders(shared: &Path, k: u32, count: u32) {
    let part = shared.join(format!("drop/orders-{k:03}.edi.part"));
    std::fs::write(&part, orders(1000 + k, count)).expect("written");
    std::fs::rename(&part, shared.join(format!("drop/orders-{k:03}.edi"))).expect("renamed");
}

/// Checks with `dropgate files` that each of `count` files was processed
/// once.
fn each_processed_once(config: &Path, count: u32) {
    let (processed, listed) = processed_per_file(config);
    assert_eq!(processed.len(), count as usize, "{listed}");
    assert!(
        processed.values().all(|n| *n == 1),
        "processed twice: {listed}"
    );
}

/// Checks that each 997 in Acme's outbound folder has an ISA13 of its
/// own; gives how many there are.
fn acks_each_numbered_once(shared: &Path) -> usize {
    let acks = names(&shared.join("out/acme"));
    let mut isa13 = BTreeSet::new();
    for name in &acks {
        let ack = std::fs::read_to_string(shared.join("out/acme").join(name)).expect("997");
        let control = ack.split('*').nth(13).expect("ISA13").to_string();
        assert!(isa13.insert(control.clone()), "ISA13 {control} used twice");
    }
    acks.len()
}

/// Stops every daemon but `killed` with SIGTERM: each exits 0.
fn stop_all(daemons: &mut [Daemon], killed: Option<usize>) {
    for (i, d) in daemons.iter_mut().enumerate() {
        if Some(i) == killed {
            continue;
        }
        d.signal("-TERM");
        let status = d.wait(Duration::from_secs(30));
        assert_eq!(status.and_then(|s| s.code()), Some(0), "{:?}", d.lines());
        let lines = d.lines().join("\n");
        assert!(!lines.contains("panicked"), "{lines}");
    }
}

/// How many times `dropgate files` says each file was processed.
fn processed_per_file(config: &Path) -> (BTreeMap<String, u32>, String) {
    let out = Command::new(Daemon::binary())
        .args(["files", "-c"])
        .arg(config)
        .env("DROPGATE_TEST_DB_PASSWORD", PASSWORD)
        .output()
        .expect("files runs");
    let listed = text(&out.stdout);
    let mut processed: BTreeMap<String, u32> = BTreeMap::new();
    for line in listed.lines() {
        let fields: Vec<&str> = line.split_whitespace().collect();
        match fields.as_slice() {
            [_, "processed", _, _, name, ..] => {
                *processed.entry(name.to_string()).or_default() += 1
            }
            [_, "processed", ..] => panic!("a line of `files` not understood: {line}"),
            _ => {}
        }
    }
    (processed, listed)
}

/// Waits until `status` lists `count` instances each holding something.
fn until_all_at_work(config: &Path, count: usize, daemons: &[Daemon]) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let said = status(config);
        let instances: Vec<&str> = said
            .lines()
            .filter(|l| l.starts_with("instance "))
            .collect();
        if instances.len() == count
            && instances.iter().all(|l| !l.ends_with("holds nothing"))
            && said.contains("channel:drop")
            && said.contains("deliver:relay")
        {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "not every instance is at work: {said}\n{:?}",
            daemons.iter().map(Daemon::lines).collect::<Vec<_>>()
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// The pid of the instance `status` says holds `lease`.
fn holder_of(config: &Path, lease: &str) -> Option<u32> {
    status(config)
        .lines()
        .filter(|l| l.starts_with("instance ") && l.contains(lease))
        .find_map(|l| l.split(':').nth(1)?.parse().ok())
}

/// The folders the instances share (the drop, Acme's outbound folder, the
/// relay's) and the partners folder with Acme.
fn shared_folders() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temporary folder");
    for folder in ["drop", "out/acme", "relay", "partners"] {
        std::fs::create_dir_all(dir.path().join(folder)).expect("folder");
    }
    std::fs::copy(
        root().join("samples/partners/acme.toml"),
        dir.path().join("partners/acme.toml"),
    )
    .expect("partner");
    dir
}

#[test]
fn three_instances_share_the_work_and_one_killed_loses_nothing() {
    let Some(mut pg) = Postgres::start().expect("PostgreSQL starts") else {
        return;
    };
    let Some(s3) = S3::start().expect("s3s-fs starts") else {
        return;
    };
    let url = pg.database().expect("a database");
    let shared_dir = shared_folders();
    let shared = shared_dir.path();
    let configs: Vec<PathBuf> = (0..3)
        .map(|n| instance_config(shared, n, &url, &s3))
        .collect();
    let mut daemons: Vec<Daemon> = configs.iter().map(|c| start(c)).collect();

    // All three are seen, and the leases (the drop, the relay, Acme's
    // channel, the other targets) are shared out: the first to start took
    // them all, and gives them up one by one to the others.
    until_all_at_work(&configs[0], 3, &daemons);
    let deadline = Instant::now() + Duration::from_secs(60);

    // Files arrive; the instance polling the drop is killed at a moment
    // chosen at random (the seed is printed; DROPGATE_INSTANCES_SEED
    // runs the same again).
    let seed: u64 = std::env::var("DROPGATE_INSTANCES_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(7, |d| d.subsec_nanos().into())
        });
    eprintln!("DROPGATE_INSTANCES_SEED={seed}");
    let kill_after = 2 + (seed % u64::from(FILES - 4)) as u32;
    let pause_ms = 20 + seed % 80;
    for k in 0..kill_after {
        drop_file(shared, k);
        std::thread::sleep(Duration::from_millis(pause_ms));
    }
    let polling = loop {
        if let Some(pid) = holder_of(&configs[0], "channel:drop") {
            break pid;
        }
        assert!(Instant::now() < deadline, "nobody polls the drop");
        std::thread::sleep(Duration::from_millis(50));
    };
    let killed = daemons
        .iter()
        .position(|d| d.pid() == polling)
        .expect("the holder is one of ours");
    daemons[killed].signal("-KILL");
    let _ = daemons[killed].wait(Duration::from_secs(10));
    for k in kill_after..FILES {
        drop_file(shared, k);
        std::thread::sleep(Duration::from_millis(pause_ms));
    }

    // Another instance takes the drop over, and everything is done.
    let deadline = Instant::now() + Duration::from_secs(120);
    let done = |shared: &Path| {
        names(&shared.join("drop")).is_empty()
            && names(&shared.join("relay")).len() >= FILES as usize
            && names(&shared.join("out/acme")).len() >= FILES as usize
    };
    while !done(shared) {
        assert!(
            Instant::now() < deadline,
            "not everything was done: drop {:?}, relay {}, 997s {}\n{}",
            names(&shared.join("drop")),
            names(&shared.join("relay")).len(),
            names(&shared.join("out/acme")).len(),
            status(&configs[(killed + 1) % 3])
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    let alive = (killed + 1) % 3;
    // The killed instance is no longer listed once its heartbeat expired.
    let said = loop {
        let said = status(&configs[alive]);
        if said.lines().filter(|l| l.starts_with("instance ")).count() == 2 {
            break said;
        }
        assert!(Instant::now() < deadline, "{said}");
        std::thread::sleep(Duration::from_millis(200));
    };
    assert!(
        !said.contains(&format!(":{polling}:")),
        "the killed one is gone: {said}"
    );
    // The drop has a holder again (a lease may be between two holders for
    // a moment while the leases are shared out).
    let holder = loop {
        if let Some(pid) = holder_of(&configs[alive], "channel:drop") {
            break pid;
        }
        assert!(Instant::now() < deadline, "the drop has no holder: {said}");
        std::thread::sleep(Duration::from_millis(200));
    };
    assert_ne!(holder, polling, "{said}");

    // Every file processed once, and relayed once.
    let relayed: Vec<String> = names(&shared.join("relay"));
    let mut per_input: BTreeMap<String, u32> = BTreeMap::new();
    for name in &relayed {
        let input = name.split_once('-').map_or(name.as_str(), |(_, rest)| rest);
        *per_input.entry(input.to_string()).or_default() += 1;
    }
    assert_eq!(per_input.len(), FILES as usize, "{relayed:?}");
    assert!(
        per_input.values().all(|n| *n == 1),
        "relayed twice: {per_input:?}"
    );
    let mut orders_seen = BTreeSet::new();
    for name in &relayed {
        let body = std::fs::read_to_string(shared.join("relay").join(name)).expect("relayed");
        for line in body.lines() {
            let doc: serde_json::Value = serde_json::from_str(line).expect("a document");
            let po = doc["po_number"].as_str().expect("a PO number").to_string();
            assert!(orders_seen.insert(po.clone()), "{po} relayed twice");
        }
    }
    assert_eq!(orders_seen.len(), 3 * FILES as usize);

    // One 997 per file, each with an ISA13 of its own.
    assert_eq!(acks_each_numbered_once(shared), FILES as usize);

    // The store agrees: each file processed once. (An instance killed
    // between recording a batch and taking it off the drop leaves those
    // files there: the next holder records them again and finds them
    // duplicates, not processed.)
    each_processed_once(&configs[alive], FILES);

    // A pass of its own beside running instances would do their work a
    // second time: refused.
    let once = Command::new(Daemon::binary())
        .args(["run", "--once", "-c"])
        .arg(&configs[alive])
        .env("DROPGATE_TEST_DB_PASSWORD", PASSWORD)
        .output()
        .expect("run --once runs");
    assert_eq!(once.status.code(), Some(2), "{}", text(&once.stdout));
    assert!(
        text(&once.stderr).contains("instance(s) of `dropgate run` work on this store"),
        "{}",
        text(&once.stderr)
    );
    stop_all(&mut daemons, Some(killed));
    let said = status(&configs[alive]);
    assert!(said.contains("instances: none running"), "{said}");
    drop(pg.stop());
}

/// Two instances on one PostgreSQL and one bucket taking an SFTP drop and
/// a mailbox; PostgreSQL is stopped and started again in the middle: the
/// instances wait, take their leases again, and every file and attachment
/// is processed and relayed once, each 997 with an ISA13 of its own.
#[test]
fn two_instances_share_an_sftp_drop_and_a_mailbox_across_a_database_restart() {
    use support::dovecot::{self, Dovecot, Part};
    use support::sshd::Sshd;
    let Some(mut pg) = Postgres::start().expect("PostgreSQL starts") else {
        return;
    };
    let Some(s3) = S3::start().expect("s3s-fs starts") else {
        return;
    };
    let Some(sshd) = Sshd::start().expect("sshd starts") else {
        return;
    };
    let Some(mail) = Dovecot::start().expect("Dovecot starts") else {
        return;
    };
    let url = pg.database().expect("a database");
    let shared_dir = tempfile::tempdir().expect("temporary folder");
    let shared = shared_dir.path();
    for folder in ["out/acme", "relay", "partners"] {
        std::fs::create_dir_all(shared.join(folder)).expect("folder");
    }
    std::fs::create_dir_all(sshd.root().join("from-acme")).expect("remote folder");
    std::fs::write(
        shared.join("partners/acme.toml"),
        "[x12]\ninterchange_id = \"ZZ:VENDORID\"\nacknowledgment = \"997\"\nacknowledge = \"always\"\n\n[[inbound]]\nchannel = \"acme-sftp\"\npatterns = [\"*.edi\"]\n\n[outbound]\nchannel = \"acme-out\"\n",
    )
    .expect("acme");
    std::fs::write(
        shared.join("partners/nordlys.toml"),
        "[partner]\nemails = [\"*@nordlys.example\"]\n\n[[inbound]]\nchannel = \"mail\"\npatterns = [\"stock-*.csv\"]\nmapping = \"partners/nordlys/inventory\"\n",
    )
    .expect("nordlys");
    let known_hosts = sshd.known_hosts_line().expect("host key");
    let configs: Vec<PathBuf> = (0..2)
        .map(|n| {
            let config = instance_config(shared, n, &url, &s3);
            let text = std::fs::read_to_string(&config).expect("config");
            // The drop folder becomes the partner's SFTP server, and a
            // mailbox is added.
            let channels = format!(
                r#"[channel.acme-sftp]
type = "sftp"
host = "127.0.0.1"
port = {port}
user = "root"
private_key = "{key}"
known_hosts = "{known_hosts}"
timeout_secs = 10
path = "from-acme"
min_age_secs = 0

{mail_channel}"#,
                port = sshd.port(),
                key = sshd.client_key().display(),
                mail_channel = mail.imap_channel("mail", r#"["*.csv"]"#),
            );
            let start = text.find("[channel.drop]").expect("drop channel");
            let end = text.find("[channel.acme-out]").expect("outbound channel");
            let text = format!("{}{channels}\n{}", &text[..start], &text[end..]);
            std::fs::write(&config, text).expect("config");
            config
        })
        .collect();
    let mut daemons: Vec<Daemon> = configs.iter().map(|c| start(c)).collect();
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let said = status(&configs[0]);
        if said.contains("channel:acme-sftp") && said.contains("channel:mail") {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "{said}\n{:?}",
            daemons.iter().map(Daemon::lines).collect::<Vec<_>>()
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    let stock =
        std::fs::read(root().join("mappings/partners/nordlys/inventory/stock-20240314.csv"))
            .expect("feed");
    let send = |k: u32| {
        let part = sshd
            .root()
            .join(format!("from-acme/orders-{k:03}.edi.part"));
        std::fs::write(&part, orders(2000 + k, 2)).expect("written");
        std::fs::rename(
            &part,
            sshd.root().join(format!("from-acme/orders-{k:03}.edi")),
        )
        .expect("renamed");
        let mut feed = stock.clone();
        feed.extend(std::iter::repeat_n(b'\n', k as usize + 1));
        let name = format!("stock-{k:03}.csv");
        mail.deliver(&dovecot::message(
            "lager@nordlys.example",
            &format!("Lagerbestand {k}"),
            &[Part {
                name: &name,
                content_type: "text/csv",
                bytes: &feed,
            }],
        ))
        .expect("mailed");
    };
    for k in 0..3 {
        send(k);
    }
    // The database goes away and comes back while more arrives.
    pg.stop().expect("stopped");
    for k in 3..6 {
        send(k);
    }
    std::thread::sleep(Duration::from_secs(4));
    pg.start_again().expect("started again");
    let deadline = Instant::now() + Duration::from_secs(120);
    while names(&shared.join("relay")).len() < 12 || names(&shared.join("out/acme")).len() < 6 {
        assert!(
            Instant::now() < deadline,
            "relay {:?}, 997s {:?}\n{}\n{:#?}",
            names(&shared.join("relay")),
            names(&shared.join("out/acme")),
            pg.log(),
            daemons.iter().map(Daemon::lines).collect::<Vec<_>>()
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    let relayed = names(&shared.join("relay"));
    let inputs: BTreeSet<String> = relayed
        .iter()
        .map(|n| {
            n.split_once('-')
                .map_or(n.clone(), |(_, rest)| rest.to_string())
        })
        .collect();
    assert_eq!((relayed.len(), inputs.len()), (12, 12), "{relayed:?}");
    assert_eq!(acks_each_numbered_once(shared), 6);
    assert!(
        names(&sshd.root().join("from-acme"))
            .iter()
            .all(|n| !n.ends_with(".edi")),
        "every file taken off the server: {:?}",
        names(&sshd.root().join("from-acme"))
    );
    assert_eq!(
        status(&configs[1])
            .lines()
            .filter(|l| l.starts_with("instance "))
            .count(),
        2,
        "both still at work"
    );
    stop_all(&mut daemons, None);
}

/// The same purchase order posted to two instances' APIs at the same
/// moment (a client retrying on another instance after a timeout) is sent
/// once, and both requests are answered with the file it went out as.
#[test]
fn one_order_posted_to_two_instances_at_once_is_sent_once() {
    use support::http::{Receiver, request};
    let Some(mut pg) = Postgres::start().expect("PostgreSQL starts") else {
        return;
    };
    let Some(s3) = S3::start().expect("s3s-fs starts") else {
        return;
    };
    let url = pg.database().expect("a database");
    let shared_dir = shared_folders();
    let shared = shared_dir.path();
    const TOKEN: &str = "a-long-enough-api-token-4711";
    let ports = [Receiver::free_port(), Receiver::free_port()];
    let configs: Vec<PathBuf> = (0..2)
        .map(|n| {
            let config = instance_config(shared, n, &url, &s3);
            let dir = config.parent().expect("its folder");
            std::fs::write(dir.join("token"), TOKEN).expect("token");
            let mut text = std::fs::read_to_string(&config).expect("config");
            text.push_str(&format!(
                "\n[api]\nlisten = \"127.0.0.1:{}\"\ntoken_file = \"token\"\n",
                ports[n]
            ));
            std::fs::write(&config, text).expect("config");
            config
        })
        .collect();
    let mut daemons: Vec<Daemon> = configs.iter().map(|c| start(c)).collect();
    let deadline = Instant::now() + Duration::from_secs(60);
    for port in ports {
        while request(port, "GET", "/healthz", None, "").is_none() {
            assert!(
                Instant::now() < deadline,
                "{:?}",
                daemons.iter().map(Daemon::lines).collect::<Vec<_>>()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }
    let po = std::fs::read_to_string(root().join("mappings/partners/nordlys/po/po-123456.json"))
        .expect("PO");
    for round in 0..5 {
        let mut order: serde_json::Value = serde_json::from_str(&po).expect("JSON");
        order["po_number"] = format!("PO-TWICE-{round}").into();
        let body = serde_json::json!({ "partner": "acme", "document": order }).to_string();
        let answers: Vec<(u16, String)> = std::thread::scope(|scope| {
            let posts: Vec<_> = ports
                .iter()
                .map(|&port| {
                    let body = &body;
                    scope.spawn(move || {
                        request(port, "POST", "/v1/purchase-orders", Some(TOKEN), body)
                            .expect("an answer")
                    })
                })
                .collect();
            posts
                .into_iter()
                .map(|p| p.join().expect("a request"))
                .collect()
        });
        for (status, answer) in &answers {
            assert_eq!(*status, 202, "{answers:?}");
            let answer: serde_json::Value = serde_json::from_str(answer).expect("JSON");
            assert_eq!(
                answer["queued"][0]["po_number"],
                format!("PO-TWICE-{round}")
            );
        }
        // Both name the one file the order went out as.
        let names: BTreeSet<String> = answers
            .iter()
            .map(|(_, a)| {
                let a: serde_json::Value = serde_json::from_str(a).expect("JSON");
                a["queued"][0]["name"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string()
            })
            .collect();
        assert_eq!(names.len(), 1, "{answers:?}");
    }
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let sent = names(&shared.join("out/acme"));
        let per_order: BTreeMap<String, usize> = sent.iter().fold(BTreeMap::new(), |mut m, n| {
            if let Some(po) = n.split("-po-").nth(1).and_then(|r| r.rsplit_once('-')) {
                *m.entry(po.0.to_string()).or_default() += 1;
            }
            m
        });
        if per_order.len() == 5 {
            assert!(per_order.values().all(|n| *n == 1), "sent twice: {sent:?}");
            break;
        }
        assert!(Instant::now() < deadline, "not sent: {sent:?}");
        std::thread::sleep(Duration::from_millis(100));
    }
    stop_all(&mut daemons, None);
    drop(pg.stop());
}

/// One busy drop, two instances: the files the drop's intake records are
/// translated by the translators of both (each claims its share of the
/// backlog), each file once, and each 997 with an ISA13 of its own.
#[test]
fn the_files_of_one_busy_drop_are_translated_by_every_instance() {
    let Some(mut pg) = Postgres::start().expect("PostgreSQL starts") else {
        return;
    };
    let Some(s3) = S3::start().expect("s3s-fs starts") else {
        return;
    };
    let url = pg.database().expect("a database");
    let shared_dir = shared_folders();
    let shared = shared_dir.path();
    let configs: Vec<PathBuf> = (0..2)
        .map(|n| instance_config(shared, n, &url, &s3))
        .collect();
    let mut daemons: Vec<Daemon> = configs.iter().map(|c| start(c)).collect();
    until_all_at_work(&configs[0], 2, &daemons);

    // Files of about a megabyte each: more than one instance's claim.
    const BUSY: u32 = 24;
    for k in 0..BUSY {
        drop_orders(shared, k, 6000);
    }
    let deadline = Instant::now() + Duration::from_secs(300);
    while names(&shared.join("out/acme")).len() < BUSY as usize {
        assert!(
            Instant::now() < deadline,
            "not everything was done: drop {:?}, 997s {}\n{}",
            names(&shared.join("drop")),
            names(&shared.join("out/acme")).len(),
            status(&configs[0])
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    each_processed_once(&configs[0], BUSY);
    assert_eq!(acks_each_numbered_once(shared), BUSY as usize);

    // Each file's audit trail says which instance took it up: both did.
    let mut store = dropgate::store::open(&dropgate::store::Location::Postgres {
        url: url.clone(),
        password: Some(PASSWORD.into()),
    })
    .expect("the store");
    let mut takers: BTreeMap<String, u32> = BTreeMap::new();
    for file in store.recent_files(1000).expect("files") {
        let trail = store.audit_trail(file.id).expect("audit trail");
        let taken: Vec<&str> = trail
            .iter()
            .filter(|e| e.event == "claimed")
            .map(|e| e.detail.as_str())
            .collect();
        assert_eq!(taken.len(), 1, "{}: {trail:?}", file.name);
        *takers.entry(taken[0].to_string()).or_default() += 1;
    }
    assert_eq!(
        takers.len(),
        2,
        "one instance translated everything: {takers:?}"
    );
    stop_all(&mut daemons, None);
    drop(pg.stop());
}
