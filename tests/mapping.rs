//! The mapping engine end to end: every mapping's samples, the built-in X12
//! mappings on the X12 samples, round trips through `render` and
//! `translate`, and the errors a mapping author sees.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use dropgate::mapping::Library;
use dropgate::mapping::testing;
use dropgate::model::Document;
use dropgate::x12::defs::Definitions;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn dropgate(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_dropgate"))
        .args(args)
        .current_dir(root())
        .output()
        .expect("the binary runs")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[test]
fn every_mapping_sample_gives_its_expected_output() {
    let dir = root().join("mappings");
    let library = Library::with_dir(&dir).expect("mappings load");
    let results =
        testing::run(&library, &dir, Definitions::embedded(), None, false).expect("samples run");
    assert!(results.len() >= 5, "too few samples: {}", results.len());
    let failures: Vec<String> = results
        .iter()
        .filter_map(|r| {
            r.failure
                .as_ref()
                .map(|f| format!("{} ({}):\n{f}", r.input.display(), r.mapping))
        })
        .collect();
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

/// A partner's TA1 is not dropped: it becomes an `interchange_ack` (one
/// per TA1, the interchange it answers, its verdict and note), and a TA1
/// whose elements are not valid is rejected with its place, not mapped.
#[test]
fn a_received_ta1_becomes_an_interchange_ack() {
    let out = dropgate(&["translate", "samples/x12/good/ta1-4010-rejecting.edi"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let docs: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(docs[0]["type"], "interchange_ack", "{docs}");
    assert_eq!(docs[0]["status"], "rejected", "{docs}");
    assert_eq!(docs[0]["note_code"], "024", "{docs}");
    // A mapping chosen for the file's sets is not for its TA1.
    let out = dropgate(&[
        "translate",
        "--mapping",
        "x12/850",
        "samples/x12/good/ta1-4010-rejecting.edi",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let fixed: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(fixed, docs);

    let dir = tempfile::tempdir().expect("temp dir");
    let bad = dir.path().join("ta1.edi");
    let sample = std::fs::read_to_string(root().join("samples/x12/good/ta1-4010-rejecting.edi"))
        .expect("sample");
    std::fs::write(
        &bad,
        sample.replace(
            "TA1*000000101*240115*1030*R*024~",
            "TA1*1010*20240115*1030*Q~",
        ),
    )
    .expect("write");
    let out = dropgate(&["translate", &bad.display().to_string()]);
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert_eq!(text(&out.stdout).trim(), "[]", "{err}");
    for expected in ["TA101", "TA102", "TA104", "TA105"] {
        assert!(err.contains(expected), "{expected} in {err}");
    }
}

/// Every `samples/x12/good/X.edi` with an `X.edi.expected.json` next to it
/// translates to exactly that, and each document reads back as the model.
#[test]
fn x12_samples_translate_to_their_expected_documents() {
    let dir = root().join("samples/x12/good");
    let mut checked = 0;
    let mut entries: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("samples")
        .flatten()
        .map(|e| e.path())
        .collect();
    entries.sort();
    for input in entries {
        let name = input.file_name().and_then(|n| n.to_str()).unwrap_or("");
        if !name.ends_with(".edi") {
            continue;
        }
        let expected = dir.join(format!("{name}.expected.json"));
        let Ok(expected) = std::fs::read_to_string(&expected) else {
            continue;
        };
        let rel = format!("samples/x12/good/{name}");
        let out = dropgate(&["translate", &rel]);
        assert_eq!(out.status.code(), Some(0), "{rel}: {}", text(&out.stderr));
        let actual: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
        let expected: serde_json::Value = serde_json::from_str(&expected).expect("JSON");
        assert_eq!(actual, expected, "{rel}");
        for doc in actual.as_array().expect("an array") {
            let typed: Result<Document, _> = serde_json::from_value(doc.clone());
            assert!(typed.is_ok(), "{rel}: {typed:?}");
        }
        checked += 1;
    }
    assert!(checked >= 1, "no X12 expectations found");
}

/// Each outbound X12 sample (850, 860, 180) renders to an interchange that
/// validates and translates back to the same document. The inbound
/// mappings keep the codes they read beside their meaning (`change_code`,
/// `reason_code`, `purpose_code`): those are left out of the comparison.
#[test]
fn rendered_x12_translates_back_to_the_same_document() {
    let mut checked = 0;
    for (mapping, kept_codes) in [
        ("x12-850", &[][..]),
        ("x12-860", &["change_code"][..]),
        ("x12-180", &["purpose_code", "reason_code"][..]),
    ] {
        let samples = root().join("mappings/outbound").join(mapping);
        for entry in std::fs::read_dir(&samples).expect("samples").flatten() {
            let path = entry.path();
            let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
            if !name.ends_with(".json") || name.contains(".expected.") {
                continue;
            }
            let rel = format!("mappings/outbound/{mapping}/{name}");
            let out = dropgate(&[
                "render",
                &rel,
                "--mapping",
                &format!("outbound/{mapping}"),
                "--to",
                "x12",
                "--control-number",
                "77",
                "--timestamp",
                "2024-02-03T04:05",
            ]);
            assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
            let edi = text(&out.stdout);
            assert!(edi.contains("*000000077*"), "{edi}");
            let tmp = tempfile::NamedTempFile::new().expect("temp file");
            std::fs::write(tmp.path(), &edi).expect("write");
            let back = dropgate(&["translate", &tmp.path().display().to_string()]);
            assert_eq!(back.status.code(), Some(0), "{}", text(&back.stderr));
            let back: serde_json::Value = serde_json::from_slice(&back.stdout).expect("JSON");
            let mut back = back[0].clone();
            let mut original: serde_json::Value =
                serde_json::from_str(&std::fs::read_to_string(&path).expect("read")).expect("JSON");
            assert_eq!(back["source"]["interchange_control_number"], "000000077");
            back.as_object_mut().map(|o| o.remove("source"));
            original.as_object_mut().map(|o| o.remove("source"));
            drop_keys(&mut back, kept_codes);
            let norm = |v: &serde_json::Value| -> serde_json::Value {
                // Compare numbers by value: 5.0 and 5.00 are the same amount.
                serde_json::from_str(&v.to_string().replace(".0,", ",").replace(".0}", "}"))
                    .unwrap_or(v.clone())
            };
            assert_eq!(norm(&back), norm(&original), "{rel}");
            checked += 1;
        }
    }
    assert!(checked >= 5, "{checked} outbound X12 samples");
}

/// Removes the members named `keys` from every object in `value`.
fn drop_keys(value: &mut serde_json::Value, keys: &[&str]) {
    match value {
        serde_json::Value::Object(map) => {
            for k in keys {
                map.remove(*k);
            }
            for v in map.values_mut() {
                drop_keys(v, keys);
            }
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(|v| drop_keys(v, keys)),
        _ => {}
    }
}

/// Values compare equal when they are the same JSON, or the same number
/// whatever its scale (5.0 and 5.00).
fn same_value(a: &serde_json::Value, b: &serde_json::Value) -> bool {
    use std::str::FromStr;
    match (a, b) {
        (serde_json::Value::Number(x), serde_json::Value::Number(y)) => {
            let d = |n: &serde_json::Number| rust_decimal::Decimal::from_str(&n.to_string()).ok();
            d(x).map(|v| v.normalize()) == d(y).map(|v| v.normalize())
        }
        _ => a == b,
    }
}

/// Outbound CSV and XML purchase orders read back (through test-only
/// inbound mappings of the same vendor formats) to the fields the formats
/// carry, including values that need quoting, escaping or Latin-1.
#[test]
fn rendered_csv_and_xml_translate_back_to_the_same_fields() {
    let sample: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(root().join("mappings/partners/nordlys/po/po-123456.json"))
            .expect("read"),
    )
    .expect("JSON");
    let mut tricky = sample.clone();
    tricky["po_number"] = "PO;\"7\"".into();
    tricky["ship_to"]["name"] = "Jürgen \"JJ\" Müller; Söhne & <Co>".into();
    tricky["ship_to"]["city"] = "Köln".into();
    tricky["lines"][0]["sku"] = "SKU;100".into();
    tricky["lines"][0]["description"] = "Blue <Widget> & \"more\"".into();
    tricky["lines"][1]["quantity"] = serde_json::json!(1.5);
    // (partner, format, top-level fields, ship_to fields, line fields)
    type Case<'a> = (
        &'a str,
        &'a str,
        &'a [&'a str],
        &'a [&'a str],
        &'a [&'a str],
    );
    let cases: [Case<'_>; 2] = [
        (
            "nordlys",
            "csv",
            &["po_number", "po_date"],
            &["name", "city", "postal_code", "country"],
            &["line_number", "sku", "upc", "quantity", "uom", "unit_price"],
        ),
        (
            "parcelco",
            "xml",
            &[
                "po_number",
                "po_date",
                "customer_order_number",
                "notes",
                "ship_method",
            ],
            &[
                "name",
                "address1",
                "address2",
                "city",
                "state",
                "postal_code",
                "country",
                "phone",
            ],
            &[
                "line_number",
                "sku",
                "upc",
                "description",
                "quantity",
                "uom",
                "unit_price",
            ],
        ),
    ];
    let dir = tempfile::tempdir().expect("temp dir");
    for (partner, format, top, ship_to, line) in cases {
        for (k, original) in [&sample, &tricky].into_iter().enumerate() {
            let doc = dir.path().join(format!("{partner}-{k}.json"));
            std::fs::write(&doc, original.to_string()).expect("write");
            let out = dropgate(&[
                "render",
                &doc.display().to_string(),
                "--partner",
                partner,
                "--to",
                format,
            ]);
            assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
            let rendered = dir.path().join(format!("{partner}-{k}.{format}"));
            std::fs::write(&rendered, &out.stdout).expect("write");
            let back = dropgate(&[
                "translate",
                "--mapping",
                &format!("tests/fixtures/roundtrip/{partner}-po-in.toml"),
                &rendered.display().to_string(),
            ]);
            let what = format!("{partner} {format} #{k}:\n{}", text(&out.stdout));
            assert_eq!(
                back.status.code(),
                Some(0),
                "{what}\n{}",
                text(&back.stderr)
            );
            let back: serde_json::Value = serde_json::from_slice(&back.stdout).expect("JSON");
            let back = &back[0];
            for f in top {
                assert!(
                    same_value(&back[f], &original[f]),
                    "{what}\n{f}: {} vs {}",
                    back[f],
                    original[f]
                );
            }
            for f in ship_to {
                let (b, o) = (&back["ship_to"][f], &original["ship_to"][f]);
                assert!(same_value(b, o), "{what}\nship_to.{f}: {b} vs {o}");
            }
            let (bl, ol) = (
                back["lines"].as_array().expect("lines"),
                original["lines"].as_array().expect("lines"),
            );
            assert_eq!(bl.len(), ol.len(), "{what}");
            for (i, (b, o)) in bl.iter().zip(ol).enumerate() {
                for f in line {
                    assert!(
                        same_value(&b[f], &o[f]),
                        "{what}\nlines[{i}].{f}: {} vs {}",
                        b[f],
                        o[f]
                    );
                }
            }
        }
    }
}

/// An interchange of one group of 846 sets, each with `loops` LIN loops
/// (SKU-1, SKU-2, ...); the set numbered `bad` has an element too long in
/// its last item, which the validation rejects.
fn catalogue_846(sets: &[(&str, usize)], bad: Option<&str>) -> String {
    let mut edi = String::from(
        "ISA*00*          *00*          *ZZ*VENDORID       *ZZ*RETAILERID     \
         *240115*1030*U*00401*000000101*0*P*>~\nGS*IB*VENDORID*RETAILERID*20240115*1030*101*X*004010~\n",
    );
    for &(number, loops) in sets {
        let mut body = format!("ST*846*{number}~\nBIA*00*SI*CAT-{number}*20240115~\n");
        for i in 1..=loops {
            body.push_str(&format!(
                "LIN*{i}*VN*SKU-{i}*UP*0{i:011}~\nPID*F****Catalogue item {i}, described at some length~\nQTY*33*{i}*EA~\n"
            ));
        }
        if bad == Some(number) {
            body.push_str(&format!("REF*ZZ*{}~\n", "9".repeat(60)));
        }
        body.push_str(&format!("CTT*{loops}~\n"));
        let segments = body.matches('~').count() + 1;
        body.push_str(&format!("SE*{segments}*{number}~\n"));
        edi.push_str(&body);
    }
    edi.push_str(&format!("GE*{}*101~\nIEA*1*000000101~\n", sets.len()));
    edi
}

/// The SKUs of each document's items, from the array or NDJSON output.
fn skus_of(out: &Output, ndjson: bool) -> Vec<Vec<String>> {
    let docs: Vec<serde_json::Value> = if ndjson {
        text(&out.stdout)
            .lines()
            .map(|l| serde_json::from_str(l).expect("one JSON document a line"))
            .collect()
    } else {
        serde_json::from_slice::<Vec<serde_json::Value>>(&out.stdout).expect("a JSON array")
    };
    docs.iter()
        .map(|d| {
            d["items"]
                .as_array()
                .expect("items")
                .iter()
                .map(|i| i["sku"].as_str().unwrap_or("").to_string())
                .collect()
        })
        .collect()
}

/// A streamed 846 that the validation rejects after its items were mapped
/// is never written, in either output mode, small or held in a temporary
/// file (past 4 MB); the sets beside it that are accepted are, whole and in
/// order.
#[test]
fn a_rejected_846_is_not_written_even_when_streamed() {
    let dir = tempfile::tempdir().expect("temp dir");
    let cases = [
        ("small", vec![("0001", 3), ("0002", 2), ("0003", 1)], "0002"),
        (
            "held on disk",
            vec![("0001", 40_000), ("0002", 40_000)],
            "0002",
        ),
    ];
    for (name, sets, bad) in cases {
        let file = dir.path().join(format!("{}.edi", name.replace(' ', "-")));
        std::fs::write(&file, catalogue_846(&sets, Some(bad))).expect("write");
        let file = file.display().to_string();
        let accepted: Vec<Vec<String>> = sets
            .iter()
            .filter(|(n, _)| *n != bad)
            .map(|&(_, loops)| (1..=loops).map(|i| format!("SKU-{i}")).collect())
            .collect();
        for ndjson in [false, true] {
            let mut args = vec!["translate"];
            if ndjson {
                args.push("--ndjson");
            }
            args.push(&file);
            let out = dropgate(&args);
            let err = text(&out.stderr);
            assert_eq!(out.status.code(), Some(1), "{name}: {err}");
            assert!(
                err.contains(&format!("set 846 {bad}: the set is rejected")),
                "{name}: {err}"
            );
            assert!(
                skus_of(&out, ndjson) == accepted,
                "{name}, ndjson {ndjson}: only the accepted sets are written"
            );
        }
    }
}

/// An 846 past the standard's 10,000 LIN loops (a full catalogue) is
/// accepted with a note on stderr, and acknowledged as accepted; a partner
/// overlay that states the maximum makes it strict, and the set is then
/// rejected and not written; the catalogue overlay lifts the maximum
/// without a note.
#[test]
fn a_catalogue_846_past_the_loop_maximum_is_accepted_with_a_note() {
    let loops = 10_001;
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("catalog.edi");
    std::fs::write(&file, catalogue_846(&[("0001", loops)], None)).expect("write");
    let file = file.display().to_string();
    let note = "note: loop LIN occurs more than its maximum of 10000 times";

    let plain = dropgate(&["translate", &file]);
    let err = text(&plain.stderr);
    assert_eq!(plain.status.code(), Some(0), "{err}");
    assert!(err.contains(note), "{err}");
    assert!(err.contains("line 30005"), "the note says where: {err}");
    assert_eq!(skus_of(&plain, false)[0].len(), loops);

    let ack = dropgate(&["ack", &file]);
    let ack = text(&ack.stdout);
    assert!(ack.contains("AK5*A~") && !ack.contains("AK3"), "{ack}");
    let report = dropgate(&["x12", "validate", &file]);
    assert_eq!(report.status.code(), Some(0));
    assert!(
        text(&report.stdout).contains(note),
        "{}",
        text(&report.stdout)
    );

    let strict = dropgate(&[
        "translate",
        "--overlay",
        "samples/x12/overlays/strict-846.toml",
        &file,
    ]);
    let err = text(&strict.stderr);
    assert_eq!(strict.status.code(), Some(1), "{err}");
    assert!(err.contains("loop occurs over maximum times"), "{err}");
    assert!(!err.contains(note), "{err}");
    assert!(
        skus_of(&strict, false).is_empty(),
        "a rejected set is not written"
    );
    let strict_report = dropgate(&[
        "x12",
        "validate",
        "--overlay",
        "samples/x12/overlays/strict-846.toml",
        &file,
    ]);
    assert_eq!(strict_report.status.code(), Some(1));
    assert!(
        text(&strict_report.stdout).contains("[AK3 4]"),
        "{}",
        text(&strict_report.stdout)
    );

    let lifted = dropgate(&[
        "translate",
        "--overlay",
        "samples/x12/overlays/catalog-846.toml",
        &file,
    ]);
    let err = text(&lifted.stderr);
    assert_eq!(lifted.status.code(), Some(0), "{err}");
    assert!(!err.contains(note), "{err}");
    assert_eq!(skus_of(&lifted, false)[0].len(), loops);
}

#[test]
fn translate_writes_ndjson_one_document_per_line() {
    let out = dropgate(&[
        "translate",
        "--ndjson",
        "samples/x12/good/mixed-two-interchanges.edi",
    ]);
    let stdout = text(&out.stdout);
    let lines: Vec<&str> = stdout.lines().collect();
    assert!(lines.len() >= 2, "{stdout}\n{}", text(&out.stderr));
    for line in lines {
        let v: serde_json::Value = serde_json::from_str(line).expect("one JSON document a line");
        assert!(v["type"].is_string());
    }
}

#[test]
fn a_rejected_set_is_reported_with_its_place_and_exit_1() {
    let out = dropgate(&["translate", "samples/x12/bad/850-4010-elements.edi"]);
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(err.contains("set 850"), "{err}");
    assert!(err.contains("line "), "{err}");
    let docs: serde_json::Value = serde_json::from_slice(&out.stdout).expect("still JSON");
    assert!(docs.as_array().is_some());
}

/// An interchange the envelope checker rejects (a TA1 `R`) is a problem
/// even when its sets map: the sender is told to send it again. A TA1 note
/// that rejects nothing is a warning on stderr.
#[test]
fn a_rejected_interchange_is_a_problem_and_a_note_a_warning() {
    let out = dropgate(&[
        "translate",
        "samples/x12/bad/850-4010-interchange-trailer.edi",
    ]);
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("interchange 000000135"), "{err}");
    assert!(err.contains("TA1 R 021"), "{err}");
    assert!(err.contains("IEA01"), "{err}");

    let dir = tempfile::tempdir().expect("temp dir");
    let sample = std::fs::read_to_string(root().join("samples/x12/good/850-5010-dropship.edi"))
        .expect("read");
    // ISA11 is the repetition separator from 00501 on; `U` there cannot be.
    assert_eq!(&sample[82..83], "^", "the sample's ISA11");
    let noted = format!("{}U{}", &sample[..82], &sample[83..]);
    let file = dir.path().join("isa11.edi");
    std::fs::write(&file, noted).expect("write");
    let out = dropgate(&["translate", &file.display().to_string()]);
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert!(err.contains("note:") && err.contains("ISA11"), "{err}");
}

/// A fixed-record file (the same interchange cut into lines of 80, line
/// breaks inside segments and inside the ISA) translates to the same
/// documents as the ordinary file, with a note on stderr.
#[test]
fn a_wrapped_file_translates_like_the_unwrapped_one() {
    let original = "samples/x12/good/850-4010-dropship.edi";
    let text_of = |path: &str| std::fs::read_to_string(root().join(path)).expect("read");
    let flat: String = text_of(original).replace(['\r', '\n'], "");
    let wrapped: String = flat
        .as_bytes()
        .chunks(80)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect::<Vec<_>>()
        .join("\r\n");
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("wrapped.edi");
    std::fs::write(&file, wrapped).expect("write");
    let docs = |out: &Output| -> serde_json::Value {
        let mut v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
        for d in v.as_array_mut().expect("an array") {
            d["source"]["file_name"] = serde_json::Value::Null;
        }
        v
    };
    let plain = dropgate(&["translate", original]);
    let unwrapped = dropgate(&["translate", &file.display().to_string()]);
    let err = text(&unwrapped.stderr);
    assert_eq!(unwrapped.status.code(), Some(0), "{err}");
    assert!(err.contains("wrapped in lines of 80"), "{err}");
    assert_eq!(docs(&unwrapped), docs(&plain));
    assert!(!docs(&plain).as_array().expect("docs").is_empty());
}

/// A feed row that cannot be mapped fails the whole feed by default; with
/// `on_error = "skip"` on the list it is left out and reported with its
/// place (exit 1), streamed or not, and the other rows are written.
#[test]
fn bad_rows_fail_the_feed_or_are_skipped_and_reported() {
    let sample =
        std::fs::read(root().join("mappings/partners/nordlys/inventory/stock-20240314.csv"))
            .expect("read");
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("stock-20240314.csv");
    // Keep the Latin-1 bytes as they were: only the price text changes.
    let mut bytes = sample;
    let at = bytes
        .windows(6)
        .position(|w| w == b";7,95;")
        .expect("the sample has the price 7,95");
    bytes.splice(at..at + 6, b";7,9x5;".iter().copied());
    std::fs::write(&file, &bytes).expect("write");
    let file = file.display().to_string();

    // A value that cannot be mapped: the document is not mappable, exit 1
    // (2 is for input that cannot be read).
    let strict = dropgate(&["translate", "--partner", "nordlys", &file]);
    assert_eq!(strict.status.code(), Some(1), "{}", text(&strict.stderr));
    assert!(
        text(&strict.stderr).contains("line 4"),
        "{}",
        text(&strict.stderr)
    );

    for mapping in ["nordlys-skip", "nordlys-skip-unstreamed"] {
        let m = format!("tests/fixtures/skip/{mapping}.toml");
        let out = dropgate(&["translate", "--mapping", &m, &file]);
        let err = text(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{mapping}: {err}");
        assert!(err.contains("item left out"), "{mapping}: {err}");
        assert!(err.contains("record 2, line 4"), "{mapping}: {err}");
        assert!(err.contains("7,9x5"), "{mapping}: {err}");
        let docs: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
        let skus: Vec<&str> = docs[0]["items"]
            .as_array()
            .expect("items")
            .iter()
            .filter_map(|i| i["sku"].as_str())
            .collect();
        assert_eq!(skus, ["NL-100", "NL-300"], "{mapping}");
    }
}

/// Mistakes a mapping author makes with CSV columns are pointed out: a
/// column the header does not have is a note naming the rule (the feed
/// still maps), and a header written as is gets its normalized name.
#[test]
fn csv_column_mistakes_are_pointed_out() {
    let feed = "mappings/partners/nordlys/inventory/stock-20240314.csv";
    let out = dropgate(&[
        "translate",
        "--mapping",
        "tests/fixtures/mistakes/misspelt-column.toml",
        feed,
    ]);
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert!(
        err.contains("note: the header has no column \"lagerr\""),
        "{err}"
    );
    assert!(err.contains("misspelt-column.toml:6"), "{err}");
    assert!(
        err.contains("lager,"),
        "the header's columns are listed: {err}"
    );

    let out = dropgate(&[
        "translate",
        "--mapping",
        "tests/fixtures/mistakes/header-as-written.toml",
        feed,
    ]);
    let err = text(&out.stderr);
    assert_ne!(out.status.code(), Some(0), "{err}");
    assert!(
        err.contains("write \"preis_eur\" for \"Preis EUR\""),
        "{err}"
    );
}

/// No sample is taken for a wrapped file: several interchanges with their
/// own terminators, white space after the IEA, newline terminators.
#[test]
fn ordinary_samples_are_not_taken_for_wrapped_files() {
    for dir in ["samples/x12/good", "samples/x12/bad", "samples/drop"] {
        for entry in std::fs::read_dir(root().join(dir))
            .expect("samples")
            .flatten()
        {
            let path = entry.path();
            if path.extension().is_none_or(|e| e != "edi") {
                continue;
            }
            let file = std::fs::File::open(&path).expect("open");
            let unwrap = dropgate::x12::unwrap::Unwrap::new(file).expect("read");
            assert_eq!(unwrap.wrapped_width(), None, "{}", path.display());
        }
    }
}

/// `each` in the document table makes one document per node: streamed
/// when it is a chain of names from the root, at the end otherwise, the
/// same documents either way, in both output modes.
#[test]
fn each_makes_one_document_per_node() {
    let feed = "mappings/partners/kestrel/shipments/KO_ASN_20240315_02.xml";
    let docs = |args: &[&str]| -> Vec<serde_json::Value> {
        let out = dropgate(args);
        assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
        if args.contains(&"--ndjson") {
            text(&out.stdout)
                .lines()
                .map(|l| serde_json::from_str(l).expect("JSON"))
                .collect()
        } else {
            serde_json::from_slice::<Vec<serde_json::Value>>(&out.stdout).expect("JSON")
        }
    };
    let streamed = docs(&["translate", "--partner", "kestrel", feed]);
    let ids: Vec<&str> = streamed
        .iter()
        .filter_map(|d| d["asn_number"].as_str())
        .collect();
    assert_eq!(ids, ["KO-SHP-77001", "KO-SHP-77002"]);
    assert_eq!(streamed[1]["carrier"]["scac"], "FDEG");
    assert_eq!(
        docs(&["translate", "--ndjson", "--partner", "kestrel", feed]),
        streamed
    );
    let mut anywhere = docs(&[
        "translate",
        "--mapping",
        "tests/fixtures/kestrel-anywhere.toml",
        feed,
    ]);
    for d in &mut anywhere {
        d["source"]["partner"] = "kestrel".into();
    }
    assert_eq!(anywhere, streamed);
    for d in &streamed {
        let typed: Result<Document, _> = serde_json::from_value(d.clone());
        assert!(typed.is_ok(), "{typed:?}");
    }
}

/// `null` values are no value, `remove` takes characters out, and dates
/// come out of date-times and of US dates without leading zeros.
#[test]
fn null_remove_and_date_time_options() {
    let out = dropgate(&[
        "translate",
        "--mapping",
        "tests/fixtures/options/options.toml",
        "tests/fixtures/options/feed.csv",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let docs: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    let expected = serde_json::json!([
        {"sku": "A-1", "upc": "0000012345", "quantity_available": 1250, "next_available_date": "2024-03-15"},
        {"sku": "A-2", "upc": "0002", "next_available_date": "2024-03-05"},
        {"sku": "A-3", "next_available_date": "2024-03-16"}
    ]);
    assert_eq!(docs[0]["items"], expected);
}

#[test]
fn broken_input_exits_2_without_a_panic() {
    for f in ["garbage.edi", "truncated.edi", "empty.edi", "binary.edi"] {
        let out = dropgate(&[
            "translate",
            "--format",
            "x12",
            &format!("samples/x12/broken/{f}"),
        ]);
        assert!(
            matches!(out.status.code(), Some(1) | Some(2)),
            "{f}: {:?}",
            out.status
        );
        let err = text(&out.stderr);
        assert!(err.contains(f), "{f}: {err}");
        assert!(!err.contains("panicked"), "{f}: {err}");
    }
}

fn write_mapping(dir: &Path, name: &str, text: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, text).expect("write mapping");
    path.display().to_string()
}

#[test]
fn mapping_errors_name_the_file_and_line() {
    let dir = tempfile::tempdir().expect("temp dir");
    let bad_field = write_mapping(
        dir.path(),
        "bad-field.toml",
        "[mapping]\ndocument = \"purchase_order\"\nformat = \"x12\"\nsets = [\"850\"]\n\n[purchase_order]\npo_number = \"BEG03\"\npo_numbr = \"BEG03\"\n",
    );
    let out = dropgate(&[
        "translate",
        "--mapping",
        &bad_field,
        "samples/x12/good/850-4010-dropship.edi",
    ]);
    let err = text(&out.stderr);
    assert_ne!(out.status.code(), Some(0));
    assert!(err.contains("bad-field.toml:8:"), "{err}");
    assert!(err.contains("po_numbr is not a field"), "{err}");

    let bad_path = write_mapping(
        dir.path(),
        "bad-path.toml",
        "[mapping]\ndocument = \"purchase_order\"\nformat = \"x12\"\nsets = [\"850\"]\n\n[purchase_order]\npo_number = \"BEG03[01=\"\n",
    );
    let out = dropgate(&[
        "translate",
        "--mapping",
        &bad_path,
        "samples/x12/good/850-4010-dropship.edi",
    ]);
    assert!(
        text(&out.stderr).contains("bad-path.toml:7:"),
        "{}",
        text(&out.stderr)
    );

    // A value that does not fit its field: the rule's line, the output
    // field and the place in the input.
    let bad_value = write_mapping(
        dir.path(),
        "bad-value.toml",
        "[mapping]\ndocument = \"purchase_order\"\nformat = \"x12\"\nsets = [\"850\"]\n\n[purchase_order]\npo_number = \"BEG03\"\n\n[purchase_order.lines]\neach = \"PO1\"\nquantity = \"PO1/03\"\n",
    );
    let out = dropgate(&[
        "translate",
        "--mapping",
        &bad_value,
        "samples/x12/good/850-4010-dropship.edi",
    ]);
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(err.contains("bad-value.toml:11"), "{err}");
    assert!(err.contains("lines[0].quantity"), "{err}");
    assert!(err.contains("\"EA\" is not a number"), "{err}");
    assert!(err.contains("segment 10 (PO1)"), "{err}");
    assert!(err.contains("line 12, column 9"), "{err}");
}

#[test]
fn explain_names_the_rule_and_the_place_of_each_value() {
    let out = dropgate(&[
        "mapping",
        "explain",
        "--mapping",
        "x12/850",
        "samples/x12/good/850-4010-dropship.edi",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let s = text(&out.stdout);
    assert!(s.contains("po_number"), "{s}");
    assert!(s.contains("\"PO123456\""), "{s}");
    assert!(s.contains("mappings/x12/850.toml:"), "{s}");
    assert!(
        s.contains("segment 2 (BEG) of the set, line 4, column 11"),
        "{s}"
    );
    assert!(s.contains("lines[1].sku"), "{s}");
}

#[test]
fn mapping_test_fails_with_a_diff_and_bless_fixes_it() {
    let dir = tempfile::tempdir().expect("temp dir");
    let m = dir.path().join("mappings");
    std::fs::create_dir_all(m.join("x12/850")).expect("dirs");
    std::fs::copy(root().join("mappings/x12/850.toml"), m.join("x12/850.toml")).expect("copy");
    std::fs::copy(
        root().join("samples/x12/good/850-4010-dropship.edi"),
        m.join("x12/850/po.edi"),
    )
    .expect("copy");
    let dir_arg = m.display().to_string();
    let out = dropgate(&["mapping", "test", &dir_arg]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stdout).contains("--bless"),
        "{}",
        text(&out.stdout)
    );
    let out = dropgate(&["mapping", "test", &dir_arg, "--bless"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stdout));
    let out = dropgate(&["mapping", "test", &dir_arg]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stdout));
    // Break the expectation: a readable diff names the changed value.
    let expected = m.join("x12/850/po.edi.expected.json");
    let text_now = std::fs::read_to_string(&expected).expect("read");
    std::fs::write(&expected, text_now.replace("SKU-200", "SKU-999")).expect("write");
    let out = dropgate(&["mapping", "test", &dir_arg]);
    assert_eq!(out.status.code(), Some(1));
    let s = text(&out.stdout);
    let changed = |sign: &str, value: &str| {
        s.lines().any(|l| {
            l.trim_start().starts_with(sign) && l.contains(&format!("\"sku\": \"{value}\""))
        })
    };
    assert!(changed("-", "SKU-999") && changed("+", "SKU-200"), "{s}");
}

/// A sample whose problems are expected (an item left out) keeps them in
/// FILE.expected.err: bless writes it, the test then passes, and fails
/// when the problems change or vanish.
#[test]
fn expected_problems_are_kept_and_compared() {
    let dir = tempfile::tempdir().expect("temp dir");
    let m = dir.path().join("mappings");
    let p = m.join("partners/nordlys");
    std::fs::create_dir_all(p.join("inventory")).expect("dirs");
    let mapping = std::fs::read_to_string(root().join("mappings/partners/nordlys/inventory.toml"))
        .expect("read")
        .replace("stream = true", "stream = true\non_error = \"skip\"");
    std::fs::write(p.join("inventory.toml"), mapping).expect("write");
    let mut feed =
        std::fs::read(root().join("mappings/partners/nordlys/inventory/stock-20240314.csv"))
            .expect("read");
    let at = feed
        .windows(6)
        .position(|w| w == b";7,95;")
        .expect("a price");
    feed.splice(at..at + 6, b";7,9x5;".iter().copied());
    let sample = p.join("inventory/stock-20240314.csv");
    std::fs::write(&sample, &feed).expect("write");
    let dir_arg = m.display().to_string();

    let out = dropgate(&[
        "mapping",
        "test",
        &dir_arg,
        "--only",
        "partners/nordlys/inventory",
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stdout).contains("expected.err"),
        "{}",
        text(&out.stdout)
    );
    let out = dropgate(&[
        "mapping",
        "test",
        &dir_arg,
        "--only",
        "partners/nordlys",
        "--bless",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stdout));
    let err_file = p.join("inventory/stock-20240314.csv.expected.err");
    let kept = std::fs::read_to_string(&err_file).expect("expected.err written");
    assert!(
        kept.contains("item left out") && kept.contains("7,9x5"),
        "{kept}"
    );
    let out = dropgate(&["mapping", "test", &dir_arg, "--only", "partners/nordlys"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stdout));

    // The bad row fixed: the expected problem no longer occurs.
    feed.splice(at..at + 7, b";7,95;".iter().copied());
    std::fs::write(&sample, &feed).expect("write");
    let out = dropgate(&["mapping", "test", &dir_arg, "--only", "partners/nordlys"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stdout).contains("problems differ"),
        "{}",
        text(&out.stdout)
    );
}

/// An XML document that declares ISO-8859-1 or Windows-1252 is decoded:
/// it translates like the same document in UTF-8.
#[test]
fn single_byte_xml_is_decoded() {
    let utf8 = std::fs::read_to_string(
        root().join("mappings/partners/parcelco/order-status/status-2024-03-15.xml"),
    )
    .expect("read")
    .replace("Jane Doe & Sons", "Zoë Müller & Söhne");
    assert!(utf8.contains("Zoë"), "the sample's ship-to name changed");
    let dir = tempfile::tempdir().expect("temp dir");
    let translate = |name: &str, bytes: &[u8]| -> serde_json::Value {
        let file = dir.path().join(name);
        std::fs::write(&file, bytes).expect("write");
        let out = dropgate(&[
            "translate",
            "--partner",
            "parcelco",
            &file.display().to_string(),
        ]);
        assert_eq!(out.status.code(), Some(0), "{name}: {}", text(&out.stderr));
        let mut docs: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
        docs[0]["source"]["file_name"] = serde_json::Value::Null;
        docs
    };
    let expected = translate("utf8.xml", utf8.as_bytes());
    for (label, encoding) in [
        ("ISO-8859-1", encoding_rs::WINDOWS_1252),
        ("windows-1252", encoding_rs::WINDOWS_1252),
    ] {
        let text = utf8.replace("encoding=\"UTF-8\"", &format!("encoding=\"{label}\""));
        let (bytes, _, bad) = encoding.encode(&text);
        assert!(!bad, "{label}");
        assert!(
            std::str::from_utf8(&bytes).is_err(),
            "{label}: not UTF-8 any more"
        );
        let want = expected.clone();
        assert_eq!(translate(&format!("{label}.xml"), &bytes), want, "{label}");
    }
}

/// `mapping explain` on a file of several documents says where each
/// begins.
#[test]
fn explain_marks_each_document() {
    let out = dropgate(&[
        "mapping",
        "explain",
        "--mapping",
        "partners/kestrel/shipments",
        "mappings/partners/kestrel/shipments/KO_ASN_20240315_02.xml",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let s = text(&out.stdout);
    let headers: Vec<&str> = s.lines().filter(|l| l.starts_with("== ")).collect();
    assert_eq!(headers, ["== document 1", "== document 2"], "{s}");
    let second = s.find("== document 2").expect("second");
    assert!(s[second..].contains("\"KO-SHP-77002\""), "{s}");
}

/// A CSV line or an XML text of more than 16 MiB is refused with a clear
/// error (exit 2), so that memory stays bounded, and messages stay short.
#[test]
fn endless_lines_and_texts_are_refused() {
    let dir = tempfile::tempdir().expect("temp dir");
    let cases: [(&str, &str, &[u8], &[u8]); 2] = [
        ("nordlys", "huge.csv", b"Artikelnummer;EAN\n", b";1\n"),
        (
            "parcelco",
            "huge.xml",
            b"<?xml version=\"1.0\"?><Feed><Note>",
            b"</Note></Feed>",
        ),
    ];
    for (partner, name, head, tail) in cases {
        let file = dir.path().join(name);
        let mut data = head.to_vec();
        data.extend(std::iter::repeat_n(b'A', 17 << 20));
        data.extend_from_slice(tail);
        std::fs::write(&file, data).expect("write");
        let out = dropgate(&[
            "translate",
            "--partner",
            partner,
            &file.display().to_string(),
        ]);
        let err = text(&out.stderr);
        let shown = &err[..err.len().min(500)];
        assert_eq!(out.status.code(), Some(2), "{name}: {shown}");
        assert!(err.contains("more than 16 MiB"), "{name}: {shown}");
        assert!(
            err.len() < 2000,
            "{name}: stderr stays short: {} bytes",
            err.len()
        );
    }
}

/// `group_by` makes one group of consecutive rows per value of a column;
/// with `each = "group"` each group is one document, streamed; a column
/// the header lacks is an error that names it.
#[test]
fn csv_rows_grouped_into_documents() {
    let feed = "mappings/partners/cobalt/shipments/cobalt-ship-20240318.csv";
    let out = dropgate(&["translate", "--ndjson", "--partner", "cobalt", feed]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let docs: Vec<serde_json::Value> = text(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("JSON"))
        .collect();
    let pos: Vec<&str> = docs
        .iter()
        .filter_map(|d| d["orders"][0]["po_number"].as_str())
        .collect();
    assert_eq!(pos, ["PO-7001", "PO-7002"]);
    let packages =
        |d: &serde_json::Value| d["orders"][0]["packages"].as_array().map_or(0, Vec::len);
    assert_eq!((packages(&docs[0]), packages(&docs[1])), (3, 2));

    let out = dropgate(&[
        "translate",
        "--mapping",
        "tests/fixtures/mistakes/group-by-unknown.toml",
        feed,
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("group_by names the column \"po_nr\""),
        "{}",
        text(&out.stderr)
    );
}

/// Rendering X12: line breaks in values become spaces, free text loses
/// delimiters and is cut to length, and what still does not validate (a
/// part number too long, or with a delimiter) fails with the element named
/// and nothing on stdout.
#[test]
fn rendered_x12_is_always_valid_or_not_written() {
    let sample = root().join("mappings/outbound/x12-850/dropship-po.json");
    let mut po: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(sample).expect("read")).expect("JSON");
    po["ship_to"]["name"] = "Jane *Star* Doe~ & Co:".into();
    po["ship_to"]["address1"] = "A".repeat(70).into();
    po["notes"] = serde_json::json!(["line one\nline two"]);
    let dir = tempfile::tempdir().expect("temp dir");
    let render = |po: &serde_json::Value, name: &str| -> Output {
        let file = dir.path().join(name);
        std::fs::write(&file, po.to_string()).expect("write");
        dropgate(&[
            "render",
            &file.display().to_string(),
            "--mapping",
            "outbound/x12-850",
            "--to",
            "x12",
        ])
    };
    let out = render(&po, "ok.json");
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let edi = dir.path().join("ok.edi");
    std::fs::write(&edi, &out.stdout).expect("write");
    let back = dropgate(&["translate", &edi.display().to_string()]);
    assert_eq!(back.status.code(), Some(0), "{}", text(&back.stderr));
    let back: serde_json::Value = serde_json::from_slice(&back.stdout).expect("JSON");
    assert_eq!(back[0]["ship_to"]["name"], "Jane Star Doe & Co");
    assert_eq!(back[0]["ship_to"]["address1"], "A".repeat(55));
    assert_eq!(back[0]["notes"], serde_json::json!(["line one line two"]));

    po["lines"][0]["sku"] = "S".repeat(60).into();
    let out = render(&po, "bad.json");
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty(), "nothing half-written");
    let err = text(&out.stderr);
    assert!(err.contains("PO107") && err.contains("too long"), "{err}");
    // An identifier is never changed: a delimiter in it fails too.
    po["lines"][0]["sku"] = "SKU*1".into();
    let out = render(&po, "star.json");
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty(), "nothing half-written");
    assert!(
        text(&out.stderr).contains("PO107: the value holds the delimiter '*'"),
        "{}",
        text(&out.stderr)
    );
}

/// Without a header, `group_by` names a column by number.
#[test]
fn group_by_without_a_header_takes_a_column_number() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mapping = dir.path().join("m.toml");
    std::fs::write(
        &mapping,
        "[mapping]\ndirection = \"inbound\"\ndocument = \"ship_notice\"\nformat = \"csv\"\n\
         [mapping.csv]\nheader = false\ngroup_by = \"2\"\n\
         [ship_notice]\neach = \"group\"\nasn_number = \"record[1]/1\"\n\
         tracking_numbers = { from = \"record/3\", all = true }\n",
    )
    .expect("write");
    let feed = dir.path().join("f.csv");
    std::fs::write(&feed, "S1,PO-1,T1\nS1,PO-1,T2\nS2,PO-2,T3\n").expect("write");
    let out = dropgate(&[
        "translate",
        "--mapping",
        &mapping.display().to_string(),
        &feed.display().to_string(),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let docs: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(docs[0]["tracking_numbers"], serde_json::json!(["T1", "T2"]));
    assert_eq!(docs[1]["asn_number"], "S2");
}

/// A document `each` that finds nothing is noted (no document is not
/// silence).
#[test]
fn each_finding_nothing_is_noted() {
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("empty.xml");
    std::fs::write(
        &file,
        "<?xml version=\"1.0\"?><OtherFeed><Shipment id=\"1\"/></OtherFeed>",
    )
    .expect("write");
    let out = dropgate(&[
        "translate",
        "--partner",
        "kestrel",
        &file.display().to_string(),
    ]);
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert!(err.contains("found nothing in the file"), "{err}");
    let docs: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(docs, serde_json::json!([]));
}

/// `stream = true` on a list inside another field is refused at load,
/// with the mapping's file and line.
#[test]
fn a_nested_streamed_list_is_refused() {
    let out = dropgate(&[
        "translate",
        "--mapping",
        "tests/fixtures/mistakes/nested-stream.toml",
        "mappings/partners/parcelco/order-status/status-2024-03-15.xml",
    ]);
    let err = text(&out.stderr);
    assert_ne!(out.status.code(), Some(0), "{err}");
    assert!(
        err.contains("only a list of the document itself can stream"),
        "{err}"
    );
    assert!(err.contains("nested-stream.toml:6"), "{err}");
}

#[test]
fn translate_says_what_a_file_is_and_names_the_input() {
    let dir = tempfile::tempdir().expect("temporary folder");
    let cases: [(&str, &[u8], &str); 5] = [
        (
            "empty.csv",
            b"",
            "empty.csv: an empty file (usually a failed upload)",
        ),
        (
            // A PDF is read as one (this one is cut short).
            "invoice.csv",
            b"%PDF-1.7\n%\xE2\xE3",
            "invoice.csv: cannot read the PDF",
        ),
        (
            "photo.csv",
            b"\xFF\xD8\xFF\xE0\0\x10JFIF",
            "photo.csv: a JPEG image",
        ),
        (
            "book.xlsx",
            b"PK\x03\x04\x14\0\0\0[Content_Types].xml xl/workbook.xml",
            "book.xlsx: an Excel workbook",
        ),
        (
            "blob.bin",
            b"\x01\x02\x03\0binary",
            "blob.bin: binary data, not text",
        ),
    ];
    for (name, bytes, said) in cases {
        let path = dir.path().join(name);
        std::fs::write(&path, bytes).expect("written");
        // With a CSV mapping or without one: what the bytes are comes first.
        for args in [vec![], vec!["--mapping", "partners/nordlys/inventory"]] {
            let path = path.to_string_lossy();
            let mut all = vec!["translate"];
            all.extend(args);
            all.push(&path);
            let out = dropgate(&all);
            let err = text(&out.stderr);
            assert_eq!(out.status.code(), Some(2), "{name}: {err}");
            assert!(err.contains(said), "{name}: {err}");
            assert!(!err.contains("needs --mapping"), "{name}: {err}");
        }
    }
    // A folder: said once, with its name.
    let out = dropgate(&["translate", &dir.path().to_string_lossy()]);
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert_eq!(
        err.trim(),
        format!(
            "dropgate: {}: a folder; translate reads one file",
            dir.path().display()
        )
    );
    // The document's source names the file, as the gateway does, not the
    // path it was given by.
    let out = dropgate(&["translate", "samples/x12/good/846-5010.edi"]);
    let docs: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(docs[0]["source"]["file_name"], "846-5010.edi");
}

#[test]
fn explain_says_a_value_came_from_the_file_name() {
    let out = dropgate(&[
        "mapping",
        "explain",
        "--mapping",
        "partners/nordlys/inventory",
        "mappings/partners/nordlys/inventory/stock-20240314.csv",
    ]);
    let said = text(&out.stdout);
    let block = |field: &str| -> String {
        let mut lines = said.lines().skip_while(|l| !l.starts_with(field));
        format!(
            "{}\n{}",
            lines.next().unwrap_or_default(),
            lines.next().unwrap_or_default()
        )
    };
    let report = block("report_id");
    assert!(report.contains("from $file.stem"), "{report}\n{said}");
    let supplier = block("supplier");
    assert!(supplier.contains("a constant or default"), "{supplier}");
}

/// Nordlys's stock feed with its bytes changed: `from` replaced by `to`
/// (Latin-1 kept as it is), written as `stock-20240314.csv` in `dir`.
fn nordlys_feed(dir: &Path, from: &[u8], to: &[u8]) -> String {
    let mut bytes =
        std::fs::read(root().join("mappings/partners/nordlys/inventory/stock-20240314.csv"))
            .expect("read");
    let at = bytes
        .windows(from.len())
        .position(|w| w == from)
        .expect("the sample has the text to change");
    bytes.splice(at..at + from.len(), to.iter().copied());
    let file = dir.join("stock-20240314.csv");
    std::fs::write(&file, &bytes).expect("write");
    file.display().to_string()
}

/// A vendor renames a column a required rule reads: the feed fails at its
/// header, naming the rule's file and line, the output field and the
/// column, instead of being relayed without stock; an empty required value
/// fails with the record's place; both the same with and without the fast
/// path for flat records.
#[test]
fn a_required_column_or_value_that_is_missing_fails_the_feed() {
    let dir = tempfile::tempdir().expect("temp dir");
    let renamed = nordlys_feed(dir.path(), b";Bestand;", b";Lagerbestand;");
    let out = dropgate(&["translate", "--partner", "nordlys", &renamed]);
    let err = text(&out.stderr);
    assert_ne!(out.status.code(), Some(0), "{err}");
    assert!(
        err.contains(
            "stock-20240314.csv: the header: items[].quantity_available: is required, \
             and the header has no column \"bestand\""
        ),
        "{err}"
    );
    assert!(
        err.contains("lagerbestand"),
        "the header's columns are listed: {err}"
    );
    assert!(
        err.contains("(rule at mappings/partners/nordlys/inventory.toml:"),
        "{err}"
    );
    assert!(out.stdout.iter().all(u8::is_ascii_whitespace) || text(&out.stdout).trim() == "[]");

    let sub = tempfile::tempdir().expect("temp dir");
    // The second record, which the fast path maps from its fields.
    let blank = nordlys_feed(sub.path(), b";0;Stk;", b";;Stk;");
    for tree_only in [false, true] {
        let library = dropgate::mapping::Library::with_dir(&root().join("mappings")).expect("load");
        let request = dropgate::mapping::translate::Request {
            file_name: blank.clone(),
            partner: Some("nordlys".into()),
            tree_only,
            ..Default::default()
        };
        let input = std::fs::File::open(&blank).expect("open");
        let e = dropgate::mapping::translate::translate(
            input,
            &request,
            &library,
            Definitions::embedded(),
            Vec::new(),
        )
        .expect_err("an empty stock fails the feed")
        .to_string();
        assert!(
            e.contains(
                "record 2, line 4: items[1].quantity_available: is required, \
                 and the mapping found no value"
            ),
            "tree only {tree_only}: {e}"
        );
    }
}

/// `required` goes on a field's rule: inside `or` it is refused when the
/// mapping loads; on a list of values it asks for one value at least; on an
/// outbound rule it fails the rendering of a document without the value.
#[test]
fn required_is_checked_where_it_is_written() {
    let dir = tempfile::tempdir().expect("temp dir");
    let in_or = write_mapping(
        dir.path(),
        "in-or.toml",
        r#"[mapping]
extends = "partners/nordlys/inventory"

[inventory_advice.items]
upc = { from = "ean", or = { from = "artikelnummer", required = true } }
"#,
    );
    let out = dropgate(&[
        "translate",
        "--mapping",
        &in_or,
        "mappings/partners/nordlys/inventory/stock-20240314.csv",
    ]);
    let err = text(&out.stderr);
    assert_ne!(out.status.code(), Some(0), "{err}");
    assert!(
        err.contains("in-or.toml:5: required goes on the field's rule"),
        "{err}"
    );

    let notes = write_mapping(
        dir.path(),
        "notes.toml",
        r#"[mapping]
extends = "x12/850"

# Laid over the built-in rule: its line is the rule's.
[purchase_order]
notes = { required = true }
"#,
    );
    let with_notes = dropgate(&[
        "translate",
        "--mapping",
        &notes,
        "samples/x12/good/850-5010-notes-ids-parties.edi",
    ]);
    assert_eq!(
        with_notes.status.code(),
        Some(0),
        "{}",
        text(&with_notes.stderr)
    );
    let without = dropgate(&[
        "translate",
        "--mapping",
        &notes,
        "samples/x12/good/850-4010-product-ids.edi",
    ]);
    let err = text(&without.stderr);
    assert_eq!(without.status.code(), Some(1), "{err}");
    assert!(
        err.contains(
            "notes: is required, and the mapping found no value (rule at mappings/x12/850.toml:"
        ),
        "{err}"
    );

    let outbound = write_mapping(
        dir.path(),
        "po-out.toml",
        r#"[mapping]
extends = "outbound/x12-850"

[x12.lines.PO1]
07 = { from = "sku", required = true }
"#,
    );
    let out = dropgate(&[
        "render",
        "mappings/outbound/x12-850/product-ids-po.json",
        "--mapping",
        &outbound,
        "--to",
        "x12",
    ]);
    let err = text(&out.stderr);
    assert_ne!(out.status.code(), Some(0), "{err}");
    assert!(
        err.contains("is required, and the mapping found no value"),
        "{err}"
    );
    assert!(err.contains("po-out.toml:5"), "{err}");
}

/// `check_digit` and `zero_pad`, the transforms of the X12 product IDs:
/// a U.P.C. of 11 digits gets its check digit, an EAN-13 becomes a GTIN of
/// 14 digits, and a value that is not digits is an error with its place.
#[test]
fn check_digit_and_zero_pad_make_upcs_and_gtins_whole() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mapping = write_mapping(
        dir.path(),
        "ids.toml",
        r#"[mapping]
direction = "inbound"
document = "inventory_advice"
format = "csv"

[inventory_advice.items]
each = "record"
stream = true
upc = { from = "upc", check_digit = "gs1" }
gtin = { from = "ean", zero_pad = 14 }
"#,
    );
    let feed = dir.path().join("ids.csv");
    std::fs::write(
        &feed,
        "upc,ean\n03600029145,4006381333931\n01234567890,12345678\n",
    )
    .expect("feed");
    let out = dropgate(&[
        "translate",
        "--mapping",
        &mapping,
        &feed.display().to_string(),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let docs: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(
        docs[0]["items"],
        serde_json::json!([
            {"upc": "036000291452", "gtin": "04006381333931"},
            {"upc": "012345678905", "gtin": "00000012345678"}
        ])
    );
    std::fs::write(&feed, "upc,ean\n0360002914X,1\n").expect("feed");
    let out = dropgate(&[
        "translate",
        "--mapping",
        &mapping,
        &feed.display().to_string(),
    ]);
    let err = text(&out.stderr);
    assert_ne!(out.status.code(), Some(0), "{err}");
    assert!(
        err.contains("record 1, line 2, field \"upc\": items[0].upc: \"0360002914X\" is not a number of digits (check_digit)"),
        "{err}"
    );
}

/// What `translate` prints can be used: the documents of a group or an
/// interchange rejected at its trailer are not printed (with or without
/// --ndjson), those of the good groups beside them are.
#[test]
fn translate_prints_no_document_of_a_rejected_group_or_interchange() {
    for sample in [
        "samples/x12/bad/850-4010-group-trailer.edi",
        "samples/x12/bad/850-4010-interchange-trailer.edi",
    ] {
        let out = dropgate(&["translate", sample]);
        assert_eq!(out.status.code(), Some(1), "{sample}");
        assert_eq!(text(&out.stdout), "[]\n", "{sample}");
        assert!(text(&out.stderr).contains("is rejected"), "{sample}");
        let lines = dropgate(&["translate", "--ndjson", sample]);
        assert_eq!(lines.status.code(), Some(1), "{sample}");
        assert_eq!(text(&lines.stdout), "", "{sample}");
    }
    // One interchange, two groups: the second's GE count is wrong.
    let good = std::fs::read_to_string(root().join("samples/x12/good/850-4010-dropship.edi"))
        .expect("sample");
    let set = good
        .split_inclusive('~')
        .map(str::trim_start)
        .filter(|s| {
            !s.starts_with("ISA")
                && !s.starts_with("GS")
                && !s.starts_with("GE")
                && !s.starts_with("IEA")
        })
        .collect::<Vec<_>>()
        .concat();
    let isa = good.split_inclusive('~').next().expect("ISA");
    let gs = |n: u32| format!("GS*PO*RETAILERID*VENDORID*20240115*1030*{n}*X*004010~");
    let text_of = format!(
        "{isa}{}{set}GE*1*1~{}{set}GE*2*2~IEA*2*000000101~",
        gs(1),
        gs(2)
    );
    let dir = tempfile::tempdir().expect("folder");
    let path = dir.path().join("two-groups.edi");
    std::fs::write(&path, text_of).expect("written");
    let path = path.to_string_lossy();
    let out = dropgate(&["translate", &path]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let docs: serde_json::Value = serde_json::from_slice(&out.stdout).expect("a JSON array");
    let groups: Vec<&str> = docs
        .as_array()
        .expect("array")
        .iter()
        .map(|d| d["source"]["group_control_number"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(groups, ["1"], "only the good group's document");
    let lines = dropgate(&["translate", "--ndjson", &path]);
    assert_eq!(text(&lines.stdout).lines().count(), 1);
}

#[test]
fn x12_whose_isa_is_damaged_is_not_taken_for_csv() {
    let good = std::fs::read_to_string(root().join("samples/x12/good/850-4010-dropship.edi"))
        .expect("sample");
    let dir = tempfile::tempdir().expect("folder");
    let path = dir.path().join("cut.edi");
    std::fs::write(&path, &good[1..]).expect("written");
    let out = dropgate(&["translate", &path.to_string_lossy()]);
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("X12 segments without an ISA segment first"),
        "{err}"
    );
    assert!(!err.contains("csv"), "{err}");
}

#[test]
fn render_chooses_the_partners_mapping_as_send_po_does() {
    // Acme has no outbound mapping of its own: the built-in X12 850, as
    // send-po uses.
    let out = dropgate(&[
        "render",
        "mappings/outbound/x12-850/dropship-po.json",
        "--partner",
        "acme",
        "--to",
        "x12",
        "--timestamp",
        "2024-01-17T16:35",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let edi = text(&out.stdout);
    assert!(
        edi.starts_with("ISA*") && edi.contains("ST*850*0001"),
        "{edi}"
    );
}

/// `render --changed-from SENT` turns orders as they are now into their
/// changes since they were sent, as 860s: a quantity cut, a line gone and a
/// line added each with its change type, a cancelled order as BCH01 `01`
/// without lines; an order that did not change, or is not among those sent,
/// is refused with the reason and nothing is written.
#[test]
fn render_changed_from_writes_each_order_change_as_an_860() {
    let sent_path = root().join("mappings/outbound/x12-850/dropship-po.json");
    let sent: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&sent_path).expect("read")).expect("JSON");
    let mut now = sent.clone();
    now["lines"][0]["quantity"] = 1.into();
    now["lines"][1] = serde_json::json!({
        "line_number": "3", "sku": "SKU-300", "description": "Widget Stand",
        "quantity": 4, "uom": "EA", "unit_price": 3.25
    });
    let dir = tempfile::tempdir().expect("temp dir");
    let now_path = dir.path().join("now.json");
    std::fs::write(&now_path, now.to_string()).expect("write");
    let render = |file: &std::path::Path| {
        dropgate(&[
            "render",
            &file.display().to_string(),
            "--changed-from",
            &sent_path.display().to_string(),
            "--mapping",
            "outbound/x12-860",
            "--to",
            "x12",
            "--timestamp",
            "2024-02-03T04:05",
        ])
    };
    let out = render(&now_path);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let edi = text(&out.stdout);
    for expected in [
        "GS*PC*DROPGATE*VENDOR*20240203*0405*1*X*004010~",
        "ST*860*0001~",
        "BCH*04*DS*PO123456***20240115~",
        "POC*1*QD*1**EA*19.99**VN*SKU-100*UP*012345678905~",
        "POC*2*DI*0**EA*5**VN*SKU-200~",
        "POC*3*AI*4**EA*3.25**VN*SKU-300~",
        "PID*F****Widget Stand~",
        "CTT*3~",
    ] {
        assert!(edi.contains(expected), "{expected} in:\n{edi}");
    }
    // What was rendered validates and reads back as the same changes.
    let edi_path = dir.path().join("change.edi");
    std::fs::write(&edi_path, &edi).expect("write");
    let back = dropgate(&["translate", &edi_path.display().to_string()]);
    assert_eq!(back.status.code(), Some(0), "{}", text(&back.stderr));
    let back: serde_json::Value = serde_json::from_slice(&back.stdout).expect("JSON");
    let changes: Vec<(&str, &str)> = back[0]["lines"]
        .as_array()
        .expect("lines")
        .iter()
        .map(|l| {
            (
                l["line_number"].as_str().unwrap_or(""),
                l["change"].as_str().unwrap_or(""),
            )
        })
        .collect();
    assert_eq!(
        changes,
        [
            ("1", "quantity_decrease"),
            ("2", "delete_item"),
            ("3", "add_item")
        ]
    );

    let mut cancelled = sent.clone();
    cancelled["purpose"] = "cancel".into();
    std::fs::write(&now_path, cancelled.to_string()).expect("write");
    let out = render(&now_path);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let edi = text(&out.stdout);
    assert!(edi.contains("BCH*01*DS*PO123456***20240115~"), "{edi}");
    assert!(!edi.contains("POC*"), "{edi}");

    std::fs::write(&now_path, sent.to_string()).expect("write");
    let out = render(&now_path);
    assert_ne!(out.status.code(), Some(0));
    assert!(out.stdout.is_empty());
    assert!(
        text(&out.stderr).contains("nothing changed since it was sent"),
        "{}",
        text(&out.stderr)
    );
    let mut other = sent.clone();
    other["po_number"] = "PO-ELSE".into();
    std::fs::write(&now_path, other.to_string()).expect("write");
    let out = render(&now_path);
    assert_ne!(out.status.code(), Some(0));
    assert!(
        text(&out.stderr).contains("order PO-ELSE is not in"),
        "{}",
        text(&out.stderr)
    );
}

/// A partner's outbound mapping is chosen by the documents' type: its own
/// for that type, else the built-in one (850, 860, 180 for X12), else an
/// error naming what is missing.
#[test]
fn the_outbound_mapping_is_chosen_by_document_type() {
    use dropgate::format::Flavor;
    use dropgate::model::DocumentType;
    let library = Library::with_dir(&root().join("mappings")).expect("mappings load");
    let name = |partner: &str, document: DocumentType, flavor: Flavor| {
        library
            .outbound_for(partner, document, flavor)
            .map(|l| l.name)
            .map_err(|e| e.to_string())
    };
    assert_eq!(
        name("nordlys", DocumentType::PurchaseOrder, Flavor::Csv),
        Ok("partners/nordlys/po".to_string())
    );
    assert_eq!(
        name("nordlys", DocumentType::PoChange, Flavor::X12),
        Ok("outbound/x12-860".to_string())
    );
    assert_eq!(
        name("nordlys", DocumentType::ReturnAuthorization, Flavor::X12),
        Ok("outbound/x12-180".to_string())
    );
    assert_eq!(
        name("acme", DocumentType::PurchaseOrder, Flavor::X12),
        Ok("outbound/x12-850".to_string())
    );
    let missing = name("nordlys", DocumentType::PoChange, Flavor::Csv).expect_err("none");
    assert!(
        missing.contains("no outbound csv mapping for po_change"),
        "{missing}"
    );
}
