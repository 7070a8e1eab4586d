//! A generator of large, realistic mixed X12 files for benchmarks: 850, 856,
//! 810 and 846 sets in many interchanges and groups, deterministic for a
//! given seed. Shared by `benches/x12.rs` and `examples/x12_generate.rs`.

use std::io::{self, Write};

/// A small deterministic generator (no dependency, same output everywhere).
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407))
    }
    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n.max(1)
    }
}

const NAMES: &[&str] = &[
    "Jane Doe",
    "John Smith",
    "Maria Garcia",
    "Wei Chen",
    "Aisha Khan",
    "Lars Berg",
];
const STREETS: &[&str] = &[
    "123 Main St",
    "42 Oak Avenue",
    "7 Harbor Rd",
    "1600 Elm Street",
    "88 River Lane",
];
const CITIES: &[(&str, &str, &str)] = &[
    ("Springfield", "IL", "62701"),
    ("Columbus", "OH", "43215"),
    ("Austin", "TX", "73301"),
    ("Portland", "OR", "97201"),
];

fn set_850(r: &mut Rng, n: u64) -> Vec<String> {
    let (city, state, zip) = CITIES[r.below(CITIES.len() as u64) as usize];
    let name = NAMES[r.below(NAMES.len() as u64) as usize];
    let mut s = vec![
        format!("BEG*00*DS*PO{n:08}**20240115"),
        format!("REF*CO*ORD-{}", 100_000 + r.below(900_000)),
        "DTM*010*20240118".to_string(),
        "TD5**2*UPSN*U*UPS Ground".to_string(),
        format!("N1*ST*{name}"),
        format!(
            "N3*{}*Apt {}",
            STREETS[r.below(STREETS.len() as u64) as usize],
            1 + r.below(40)
        ),
        format!("N4*{city}*{state}*{zip}*US"),
        format!("PER*IC*{name}*TE*555555{:04}", r.below(10_000)),
    ];
    let lines = 1 + r.below(6);
    let mut units = 0;
    for i in 1..=lines {
        let q = 1 + r.below(5);
        units += q;
        s.push(format!(
            "PO1*{i}*{q}*EA*{}.{:02}**VN*SKU-{:05}*UP*0{:011}",
            1 + r.below(200),
            r.below(100),
            r.below(100_000),
            r.below(100_000_000_000)
        ));
        s.push(format!("PID*F****Widget model {}", r.below(1000)));
    }
    s.push(format!("CTT*{lines}*{units}"));
    s
}

fn set_856(r: &mut Rng, n: u64) -> Vec<String> {
    let mut s = vec![
        format!("BSN*00*SHP-{n:08}*20240117*1630*0001"),
        "HL*1**S".to_string(),
        format!("TD1*CTN25*1****G*{}.{}*LB", 1 + r.below(30), r.below(10)),
        "TD5**2*UPSN*U*UPS Ground".to_string(),
        format!("REF*BM*SHP-{n:08}"),
        "DTM*011*20240117".to_string(),
        format!("N1*ST*{}", NAMES[r.below(NAMES.len() as u64) as usize]),
        "HL*2*1*O".to_string(),
        format!("PRF*PO{:08}***20240115", r.below(100_000_000)),
    ];
    let mut hl = 2;
    let packs = 1 + r.below(3);
    for _ in 0..packs {
        hl += 1;
        let pack = hl;
        s.push(format!("HL*{pack}*2*P"));
        s.push(format!("MAN*CP*1Z999AA1{:010}", r.below(10_000_000_000)));
        for line in 1..=1 + r.below(3) {
            hl += 1;
            s.push(format!("HL*{hl}*{pack}*I"));
            s.push(format!(
                "LIN*{line}*VN*SKU-{:05}*UP*0{:011}",
                r.below(100_000),
                r.below(100_000_000_000)
            ));
            s.push(format!("SN1*{line}*{}*EA", 1 + r.below(5)));
        }
    }
    s.push(format!("CTT*{hl}"));
    s
}

fn set_810(r: &mut Rng, n: u64) -> Vec<String> {
    let mut s = vec![
        format!(
            "BIG*20240117*INV-{n:08}*20240115*PO{:08}",
            r.below(100_000_000)
        ),
        "REF*IA*V12345".to_string(),
        "N1*RI*Example Vendor Inc".to_string(),
        "ITD*01*3*****30".to_string(),
        "DTM*011*20240117".to_string(),
    ];
    let lines = 1 + r.below(5);
    let mut cents = 0;
    for i in 1..=lines {
        let (q, p) = (1 + r.below(5), 100 + r.below(20_000));
        cents += q * p;
        s.push(format!(
            "IT1*{i}*{q}*EA*{}.{:02}**VN*SKU-{:05}",
            p / 100,
            p % 100,
            r.below(100_000)
        ));
    }
    s.push(format!("TDS*{}", cents + 600));
    s.push("SAC*C*D240***600".to_string());
    s.push(format!("CTT*{lines}"));
    s
}

fn set_846(r: &mut Rng, n: u64) -> Vec<String> {
    let mut s = vec![
        format!("BIA*00*MM*INV-{n:08}*20240115"),
        "REF*IA*V12345".to_string(),
    ];
    let items = 5 + r.below(40);
    for i in 1..=items {
        s.push(format!(
            "LIN*{i}*VN*SKU-{:05}*UP*0{:011}",
            r.below(100_000),
            r.below(100_000_000_000)
        ));
        s.push(format!("QTY*33*{}*EA", r.below(500)));
    }
    s.push(format!("CTT*{items}"));
    s
}

/// Writes interchanges until at least `target` bytes are written; returns
/// the bytes written.
pub fn write_mixed<W: Write>(out: &mut W, target: u64, seed: u64) -> io::Result<u64> {
    let mut r = Rng::new(seed);
    let mut written = 0u64;
    let mut control = 0u64;
    let mut doc = 0u64;
    let mut buf = String::with_capacity(1 << 16);
    while written < target {
        control += 1;
        buf.clear();
        buf.push_str(&format!(
            "ISA*00*          *00*          *ZZ*VENDORID       *ZZ*RETAILERID     *240117*1630*U*00401*{control:09}*0*P*>~\n"
        ));
        let groups = 1 + r.below(4);
        for g in 0..groups {
            let (fid, kind) = match r.below(4) {
                0 => ("PO", 850),
                1 => ("SH", 856),
                2 => ("IN", 810),
                _ => ("IB", 846),
            };
            let gcn = control * 10 + g;
            buf.push_str(&format!(
                "GS*{fid}*VENDORID*RETAILERID*20240117*1630*{gcn}*X*004010~\n"
            ));
            let sets = 1 + r.below(40);
            for st in 1..=sets {
                doc += 1;
                let body = match kind {
                    850 => set_850(&mut r, doc),
                    856 => set_856(&mut r, doc),
                    810 => set_810(&mut r, doc),
                    _ => set_846(&mut r, doc),
                };
                buf.push_str(&format!("ST*{kind}*{st:04}~\n"));
                for seg in &body {
                    buf.push_str(seg);
                    buf.push_str("~\n");
                }
                buf.push_str(&format!("SE*{}*{st:04}~\n", body.len() + 2));
            }
            buf.push_str(&format!("GE*{sets}*{gcn}~\n"));
        }
        buf.push_str(&format!("IEA*{groups}*{control:09}~\n"));
        out.write_all(buf.as_bytes())?;
        written += buf.len() as u64;
    }
    Ok(written)
}
