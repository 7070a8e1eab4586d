//! Criterion benchmarks of the X12 engine on an in-memory mixed file:
//! lexing, the buffered reader, validation and acknowledgment. Each reports
//! bytes per second and checks its result.

#[path = "support/x12_data.rs"]
mod x12_data;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use dropgate::x12::SegmentReader;
use dropgate::x12::ack::{AckOptions, AckWriter};
use dropgate::x12::control::Counter;
use dropgate::x12::defs::Definitions;
use dropgate::x12::envelope::{CheckOptions, Checker, check_bytes};
use dropgate::x12::lexer::{Lexer, for_each_segment};

fn data() -> Vec<u8> {
    let mut out = Vec::new();
    x12_data::write_mixed(&mut out, 8_000_000, 7).expect("in memory");
    out
}

fn benches(c: &mut Criterion) {
    let input = data();
    let segments = {
        let mut n = 0u64;
        for_each_segment(&input, &mut Lexer::default(), |_, _, _| {
            n += 1;
            Ok(())
        })
        .expect("valid");
        n
    };
    let defs = Definitions::embedded();
    let mut group = c.benchmark_group("x12");
    group.throughput(Throughput::Bytes(input.len() as u64));
    group.sample_size(20);

    group.bench_function("lex", |b| {
        b.iter(|| {
            let mut n = 0u64;
            for_each_segment(&input, &mut Lexer::default(), |_, _, _| {
                n += 1;
                Ok(())
            })
            .expect("valid");
            assert_eq!(n, segments);
        })
    });
    group.bench_function("reader", |b| {
        b.iter(|| {
            let mut reader = SegmentReader::new(&input[..]);
            let mut n = 0u64;
            reader
                .for_each(|_, _, _| {
                    n += 1;
                    Ok(())
                })
                .expect("valid");
            assert_eq!(n, segments);
        })
    });
    group.bench_function("reader_pull", |b| {
        b.iter(|| {
            let mut reader = SegmentReader::new(&input[..]);
            let mut n = 0u64;
            while reader.next_segment().expect("valid").is_some() {
                n += 1;
            }
            assert_eq!(n, segments);
        })
    });
    group.bench_function("validate", |b| {
        b.iter(|| {
            let mut checker = Checker::new(defs, &CheckOptions::default()).expect("checker");
            let summary = check_bytes(&input, &mut checker, &mut ()).expect("valid");
            assert_eq!(summary.segments, segments);
            assert!(summary.clean());
        })
    });
    group.bench_function("validate_and_ack", |b| {
        b.iter(|| {
            let mut checker = Checker::new(defs, &CheckOptions::default()).expect("checker");
            let mut numbers = Counter::starting_at(1);
            let mut acks = AckWriter::new(
                std::io::sink(),
                AckOptions::new(chrono::NaiveDateTime::default()),
                &mut numbers,
            );
            let summary = check_bytes(&input, &mut checker, &mut acks).expect("valid");
            assert_eq!(summary.segments, segments);
            assert!(acks.summary().acknowledgments > 0);
        })
    });
    group.finish();
}

criterion_group!(x12, benches);
criterion_main!(x12);
