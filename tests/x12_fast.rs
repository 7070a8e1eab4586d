//! X12 sets mapped the fast way (paths by their fast forms, plain values
//! written straight from what they find, the envelope kept in the tree from
//! set to set) give exactly what the general way gives (`tree_only`: every
//! path walked, every value through all of its rule's transforms): the same
//! bytes, documents, problems and warnings. Every X12 input of the
//! repository is tried, and random interchanges of 850s and 846s whose
//! values are blank, padded, repeated, cut in components, qualified in
//! every way the built-in mappings read, or wrong.

use std::path::{Path, PathBuf};

use dropgate::mapping::Library;
use dropgate::mapping::translate::{Request, translate};
use dropgate::x12::defs::Definitions;
use proptest::prelude::*;

/// What a translation gave, to compare.
type Result = std::result::Result<(String, u64, Vec<String>, Vec<String>), String>;

fn run(data: &[u8], partner: Option<&str>, gated: bool, reference: bool) -> Result {
    let library = Library::embedded();
    let request = Request {
        file_name: "in.edi".into(),
        partner: partner.map(String::from),
        lines: true,
        tree_only: reference,
        hold_envelopes: gated,
        ..Request::default()
    };
    match translate(
        data,
        &request,
        &library,
        Definitions::embedded(),
        Vec::new(),
    ) {
        Ok((o, out)) => Ok((
            String::from_utf8_lossy(&out).into_owned(),
            o.documents,
            o.problems.iter().map(ToString::to_string).collect(),
            o.warnings,
        )),
        Err(e) => Err(e.to_string()),
    }
}

/// Translates `data` both ways, with and without the gate and a partner's
/// mappings, panics when they differ; returns the documents written.
fn same_both_ways(data: &[u8], what: &str) -> u64 {
    let mut documents = 0;
    for partner in [None, Some("acme")] {
        for gated in [false, true] {
            let fast = run(data, partner, gated, false);
            let reference = run(data, partner, gated, true);
            assert!(
                fast == reference,
                "{what} (partner {partner:?}, gated {gated}): the fast way differs\nfast:      {fast:?}\nreference: {reference:?}"
            );
            if let Ok((_, n, _, _)) = fast {
                documents = documents.max(n);
            }
        }
    }
    documents
}

fn inputs(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            inputs(&path, out);
        } else if std::fs::read(&path).is_ok_and(|b| {
            let start = b.iter().position(|c| !c.is_ascii_whitespace()).unwrap_or(0);
            b[start..].starts_with(b"ISA")
        }) {
            out.push(path);
        }
    }
}

#[test]
fn every_x12_input_of_the_repository_maps_alike_both_ways() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    for dir in [
        "samples",
        "mappings",
        "tests/fixtures",
        "fuzz/regressions/translate",
    ] {
        inputs(&root.join(dir), &mut files);
    }
    files.sort();
    assert!(files.len() >= 40, "too few X12 inputs: {}", files.len());
    let mut documents = 0;
    for f in &files {
        let data = std::fs::read(f).expect("readable");
        documents += same_both_ways(&data, &f.display().to_string());
    }
    assert!(documents >= 40, "too few documents: {documents}");
}

/// A small deterministic generator (xorshift), so that a failing case is
/// its seed.
struct Gen(u64);

impl Gen {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
    fn pick<'a>(&mut self, from: &[&'a str]) -> &'a str {
        from[self.below(from.len())]
    }
}

/// Values as they should be, and (rarely) as they should not: padded,
/// blank, repeated (`^`), cut in components (`>`), not numbers, not dates,
/// not codes. Wrong values get the set rejected, and their mapping errors
/// are compared too.
const TEXT: (&[&str], &[&str]) = (
    &[
        "Widget",
        "Padded ",
        " Lead",
        "Item \"7\"",
        "back\\slash",
        "SKU-1",
        "12345678901",
        "012345678905",
        "0012345",
        "N/A",
        "a b",
    ],
    &["", "   ", "A^B", "^B", "x>y", ">y", "Zo\u{eb}"],
);
const NUMBERS: (&[&str], &[&str]) = (
    &["1", "12", "0", "007", "1.50", ".5", "2", "10", "0.0"],
    &["+3", "-2", "1,5", "x", "", " 4 ", "2.", "-.5", "10^20"],
);
const DATES: (&[&str], &[&str]) = (
    &["20240115", "20240229", "20231231"],
    &["20230229", "240115", "", "20241301"],
);
/// Every product ID qualifier the built-in mappings read.
const PRODUCT_IDS: (&[&str], &[&str]) = (
    &[
        "VN", "VP", "VC", "BP", "IN", "SK", "PI", "CB", "UP", "UI", "UK", "EN", "EO", "UA", "UN",
        "VA", "IT", "MG", "MN", "ND", "N4", "IB", "ZZ",
    ],
    &["", "??"],
);

/// A value: a wrong one one time in a hundred.
fn v(g: &mut Gen, (ok, wild): (&[&str], &[&str])) -> String {
    if g.chance(1) {
        g.pick(wild).to_string()
    } else {
        g.pick(ok).to_string()
    }
}

/// A code: one of `ok`, or rarely one that is not.
fn code(g: &mut Gen, ok: &[&str]) -> String {
    v(g, (ok, &["", "ZZZ"]))
}

fn party(g: &mut Gen, out: &mut Vec<String>, codes: &[&str], with_contact: bool) {
    let role = code(g, codes);
    let name = v(g, TEXT);
    let id = v(g, TEXT);
    out.push(format!("N1*{role}*{name}*92*{id}"));
    if g.chance(20) {
        out.push(format!("N2*{}", v(g, TEXT)));
    }
    for _ in 0..g.below(3) {
        let second = if g.chance(50) {
            format!("*{}", v(g, TEXT))
        } else {
            String::new()
        };
        out.push(format!("N3*{}{second}", v(g, TEXT)));
    }
    if g.chance(60) {
        out.push(format!(
            "N4*{}*IL*{}*US",
            v(g, TEXT),
            v(g, (&["62701", "10001"], &["x"]))
        ));
    }
    if with_contact && g.chance(40) {
        let q = code(g, &["TE", "EM", "FX"]);
        out.push(format!("PER*IC*{}*{q}*{}", v(g, TEXT), v(g, TEXT)));
    }
}

/// `n` product ID pairs (`*QQ*value`).
fn pairs(g: &mut Gen, n: usize) -> String {
    let mut s = String::new();
    for _ in 0..n {
        s.push_str(&format!("*{}*{}", v(g, PRODUCT_IDS), v(g, TEXT)));
    }
    s
}

fn purchase_order(g: &mut Gen, n: usize) -> Vec<String> {
    let mut s = vec![format!(
        "BEG*{}*{}*PO{n}**{}",
        code(g, &["00", "01", "04", "05", "07"]),
        code(g, &["DS", "SA", "RL", "BK", "RO", "NE"]),
        v(g, DATES)
    )];
    if g.chance(20) {
        s.push(format!("CUR*{}*USD", code(g, &["BY", "SE"])));
    }
    for _ in 0..g.below(3) {
        s.push(format!(
            "REF*{}*{}",
            code(g, &["CO", "IA", "DP", "VN"]),
            v(g, TEXT)
        ));
    }
    for _ in 0..g.below(3) {
        s.push(format!(
            "DTM*{}*{}",
            code(g, &["010", "002", "038", "037"]),
            v(g, DATES)
        ));
    }
    if g.chance(50) {
        s.push(format!(
            "TD5**{}*{}*U*{}",
            code(g, &["2", "92"]),
            v(g, TEXT),
            v(g, TEXT)
        ));
    }
    if g.chance(20) {
        s.push(format!("AMT*{}*{}", code(g, &["TT", "1"]), v(g, NUMBERS)));
    }
    if g.chance(20) {
        s.push(format!("N9*L1*{}", v(g, TEXT)));
        s.push(format!("MSG*{}", v(g, TEXT)));
    }
    for _ in 0..g.below(4) {
        party(g, &mut s, &["ST", "BT", "BS", "BY", "VN", "SU"], true);
    }
    let lines = 1 + g.below(4);
    for i in 1..=lines {
        let ids = g.below(5);
        s.push(format!(
            "PO1*{i}*{}*{}*{}*{}",
            v(g, NUMBERS),
            code(g, &["EA", "CA"]),
            v(g, NUMBERS),
            pairs(g, ids)
        ));
        for _ in 0..g.below(3) {
            s.push(format!(
                "PID*{}****{}",
                code(g, &["F", "F", "X"]),
                v(g, TEXT)
            ));
        }
    }
    if g.chance(70) {
        s.push(format!("CTT*{lines}"));
    }
    s
}

fn inventory(g: &mut Gen) -> Vec<String> {
    let mut s = vec![format!("BIA*00*SI*{}*{}", v(g, TEXT), v(g, DATES))];
    if g.chance(30) {
        s.push(format!("DTM*{}*{}", code(g, &["405", "018"]), v(g, DATES)));
    }
    if g.chance(30) {
        s.push(format!("REF*{}*{}", code(g, &["IA", "DP"]), v(g, TEXT)));
    }
    for _ in 0..g.below(3) {
        party(g, &mut s, &["SU", "VN", "WH", "SF", "ST"], false);
    }
    for i in 1..=1 + g.below(4) {
        let ids = 1 + g.below(4);
        s.push(format!("LIN*{i}{}", pairs(g, ids)));
        if g.chance(70) {
            s.push(format!(
                "PID*{}****{}",
                code(g, &["F", "F", "X"]),
                v(g, TEXT)
            ));
        }
        if g.chance(20) {
            s.push(format!("DTM*018*{}", v(g, DATES)));
        }
        for _ in 0..g.below(3) {
            s.push(format!(
                "CTP**{}*{}",
                code(g, &["UCP", "RES", "MSR", "RTL", "WHL"]),
                v(g, NUMBERS)
            ));
        }
        if g.chance(30) {
            let mut sdq = format!("SDQ*{}*92", code(g, &["EA", "CA"]));
            for _ in 0..1 + g.below(3) {
                sdq.push_str(&format!("*{}*{}", v(g, TEXT), v(g, NUMBERS)));
            }
            s.push(sdq);
        }
        for _ in 0..g.below(3) {
            s.push(format!(
                "QTY*{}*{}*{}",
                code(g, &["33", "34", "17", "63", "QH", "87"]),
                v(g, NUMBERS),
                v(g, (&["EA", "CA", "EA>1"], &[">2", "", "EA>x"]))
            ));
            if g.chance(20) {
                s.push(format!("SCH*{}*EA***018*{}", v(g, NUMBERS), v(g, DATES)));
            }
        }
        if g.chance(15) {
            party(g, &mut s, &["WH", "SF"], false);
        }
    }
    if g.chance(50) {
        s.push(format!("CTT*{}", g.below(5)));
    }
    s
}

/// An interchange of one or two groups of random 850s or 846s, in 004010
/// or (with a repetition separator) 005010.
fn interchange(seed: u64) -> Vec<u8> {
    let mut g = Gen(seed.max(1));
    let v5010 = g.chance(30);
    let (repetition, version) = if v5010 {
        ("^", "00501")
    } else {
        ("U", "00401")
    };
    let mut out = format!(
        "ISA*00*          *00*          *ZZ*SENDER         *ZZ*RECEIVER       *240115*1030*{repetition}*{version}*000000007*0*P*>~\n"
    );
    let groups = 1 + g.below(2);
    for group in 1..=groups {
        let po = g.chance(50);
        let (functional, set_id) = if po { ("PO", "850") } else { ("IB", "846") };
        out.push_str(&format!(
            "GS*{functional}*SENDER*RECEIVER*20240115*1030*{group}*X*{version}0~\n"
        ));
        let sets = 1 + g.below(3);
        for n in 1..=sets {
            let body = if po {
                purchase_order(&mut g, n)
            } else {
                inventory(&mut g)
            };
            out.push_str(&format!("ST*{set_id}*{n:04}~\n"));
            for seg in &body {
                out.push_str(seg);
                out.push_str("~\n");
            }
            out.push_str(&format!("SE*{}*{n:04}~\n", body.len() + 2));
        }
        out.push_str(&format!("GE*{sets}*{group}~\n"));
    }
    out.push_str("IEA*");
    out.push_str(&groups.to_string());
    out.push_str("*000000007~\n");
    out.into_bytes()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]
    #[test]
    fn random_interchanges_map_alike_both_ways(seed in any::<u64>()) {
        same_both_ways(&interchange(seed), &format!("the interchange of seed {seed}"));
    }
}

/// The random interchanges are not all rejected: most of their sets make
/// documents, so that the comparison above compares documents.
#[test]
fn random_interchanges_make_documents() {
    let mut with_documents = 0;
    for seed in 1..=100 {
        if same_both_ways(&interchange(seed), &format!("seed {seed}")) > 0 {
            with_documents += 1;
        }
    }
    assert!(
        with_documents >= 50,
        "{with_documents} of 100 made documents"
    );
}
