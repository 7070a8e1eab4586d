//! A floor for translation throughput: how long serde_json takes to write
//! canonical documents that are already built (no decoding, no mapping).
//!
//!   cargo run --release --example json_floor -- DOCS.ndjson INPUT_BYTES [ROUNDS]
//!
//! DOCS.ndjson is `dropgate translate --ndjson` output; INPUT_BYTES the size
//! of the input it came from, so that the time can be given per input MB.
//! Two floors are printed: the canonical model's types (dates and decimals
//! formatted on the way), and `serde_json::Value`s whose numbers are kept
//! as their text (nothing to format: keys, quotes and escaping only).
use std::io::BufRead;
use std::time::Instant;

use dropgate::model::Document;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let path = args
        .get(1)
        .ok_or("usage: json_floor DOCS.ndjson INPUT_BYTES [ROUNDS]")?;
    let input_bytes: f64 = args.get(2).ok_or("INPUT_BYTES")?.parse()?;
    let rounds: usize = args.get(3).map_or(Ok(5), |s| s.parse())?;
    let file = std::io::BufReader::new(std::fs::File::open(path)?);
    let mut docs = Vec::new();
    let mut values = Vec::new();
    for line in file.lines() {
        let line = line?;
        docs.push(serde_json::from_str::<Document>(&line)?);
        values.push(serde_json::from_str::<serde_json::Value>(&line)?);
    }
    println!("the model's types:");
    floor(&docs, input_bytes, rounds)?;
    println!("serde_json::Value (numbers as text):");
    floor(&values, input_bytes, rounds)?;
    Ok(())
}

fn floor<T: serde::Serialize>(
    docs: &[T],
    input_bytes: f64,
    rounds: usize,
) -> Result<(), Box<dyn std::error::Error>> {
    let mut out = Vec::with_capacity(1 << 26);
    let mut best = f64::MAX;
    for _ in 0..rounds {
        let t = Instant::now();
        let mut written = 0usize;
        for d in docs {
            out.clear();
            serde_json::to_writer(&mut out, d)?;
            out.push(b'\n');
            written += out.len();
        }
        let s = t.elapsed().as_secs_f64();
        best = best.min(s);
        std::hint::black_box(written);
        println!(
            "{} documents, {:.1} MB of JSON in {:.3} s: {:.0} MB/s of JSON, {:.0} MB/s of input",
            docs.len(),
            written as f64 / 1e6,
            s,
            written as f64 / 1e6 / s,
            input_bytes / 1e6 / s
        );
    }
    println!("best: {best:.3} s");
    Ok(())
}
