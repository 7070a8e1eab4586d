//! The tokio reader gives the daemon the same answers as the blocking one.

use dropgate::x12::ack::{AckOptions, AckWriter};
use dropgate::x12::control::Counter;
use dropgate::x12::defs::Definitions;
use dropgate::x12::envelope::{CheckOptions, Checker, check_async_reader, check_reader};
use dropgate::x12::{AsyncSegmentReader, ReaderOptions, SegmentReader};

fn timestamp() -> chrono::NaiveDateTime {
    chrono::NaiveDate::from_ymd_opt(2024, 1, 17)
        .and_then(|d| d.and_hms_opt(16, 35, 0))
        .expect("valid timestamp")
}

#[tokio::test]
async fn async_and_blocking_acknowledge_alike() {
    let defs = Definitions::embedded();
    let folder = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("samples/x12");
    let mut checked = 0;
    for dir in ["good", "bad"] {
        for entry in std::fs::read_dir(folder.join(dir))
            .expect("samples")
            .flatten()
        {
            let path = entry.path();
            if path.extension().is_none_or(|e| e != "edi") {
                continue;
            }
            let input = std::fs::read(&path).expect("sample");

            let mut checker = Checker::new(defs, &CheckOptions::default()).expect("checker");
            let mut numbers = Counter::starting_at(5);
            let mut blocking =
                AckWriter::new(Vec::new(), AckOptions::new(timestamp()), &mut numbers);
            let a = check_reader(
                &mut SegmentReader::new(&input[..]),
                &mut checker,
                &mut blocking,
            )
            .expect("reads");
            let blocking = blocking.into_inner().expect("in memory");

            // A duplex pipe with a tiny buffer makes the reader wait often.
            let (mut tx, rx) = tokio::io::duplex(64);
            let data = input.clone();
            let writer = tokio::spawn(async move {
                use tokio::io::AsyncWriteExt;
                tx.write_all(&data).await.expect("writes");
            });
            let mut checker = Checker::new(defs, &CheckOptions::default()).expect("checker");
            let mut numbers = Counter::starting_at(5);
            let mut streamed =
                AckWriter::new(Vec::new(), AckOptions::new(timestamp()), &mut numbers);
            let options = ReaderOptions {
                buffer_len: 64,
                ..ReaderOptions::default()
            };
            let b = check_async_reader(
                &mut AsyncSegmentReader::with_options(rx, options),
                &mut checker,
                &mut streamed,
            )
            .await
            .expect("reads");
            writer.await.expect("writer");
            assert_eq!(a, b, "{}", path.display());
            assert_eq!(
                blocking,
                streamed.into_inner().expect("in memory"),
                "{}",
                path.display()
            );
            checked += 1;
        }
    }
    assert!(checked > 25);
}
