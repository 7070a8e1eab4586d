//! Writes a large realistic mixed X12 file (850/856/810/846) for benchmarks.
//!
//! `cargo run --release --example x12_generate -- BYTES OUT [SEED]`

#[path = "../benches/support/x12_data.rs"]
mod x12_data;

use std::io::BufWriter;

fn main() -> std::io::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let (Some(bytes), Some(out)) = (args.get(1).and_then(|b| parse_size(b)), args.get(2)) else {
        eprintln!("usage: x12_generate BYTES OUT [SEED]   (BYTES may end in K, M or G)");
        std::process::exit(2);
    };
    let seed = args.get(3).and_then(|s| s.parse().ok()).unwrap_or(1);
    let mut w = BufWriter::with_capacity(1 << 20, std::fs::File::create(out)?);
    let written = x12_data::write_mixed(&mut w, bytes, seed)?;
    eprintln!("wrote {written} bytes to {out}");
    Ok(())
}

fn parse_size(s: &str) -> Option<u64> {
    let (digits, unit) = match s.as_bytes().last()? {
        b'K' | b'k' => (&s[..s.len() - 1], 1_000),
        b'M' | b'm' => (&s[..s.len() - 1], 1_000_000),
        b'G' | b'g' => (&s[..s.len() - 1], 1_000_000_000),
        _ => (s, 1),
    };
    digits.parse::<u64>().ok().map(|n| n * unit)
}
