//! The NetSuite simulator (`dropgate netsuite-sim`) as its clients see it:
//! the independent PyPI `netsuite` client runs the drop-ship loop against
//! it (sales order → drop-ship POs → SuiteQL → PATCH → upsert → partial
//! and final fulfilment → vendor bill), badly signed requests are refused,
//! the concurrency limit answers 429 (or the SSS form), and each injected
//! fault does what the tests of the client will rely on.

mod support;

use std::time::{Duration, Instant};

use serde_json::{Value, json};
use support::netsuite_sim::{ACCOUNT, NetsuiteSim, Peer, now, peer_python};

fn ok_id(answer: &Value) -> String {
    assert_eq!(answer["status"], 204, "{answer}");
    answer["location"]
        .as_str()
        .and_then(|l| l.rsplit('/').next())
        .unwrap_or_else(|| panic!("no Location in {answer}"))
        .to_string()
}

fn get(peer: &mut Peer, path: &str) -> Value {
    let a =
        peer.ask(json!({"method": "GET", "path": path, "params": {"expandSubResources": "true"}}));
    assert_eq!(a["status"], 200, "{path}: {a}");
    a["body"].clone()
}

fn lines(record: &Value) -> Vec<Value> {
    record["item"]["items"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

fn line(record: &Value, n: i64) -> Value {
    lines(record)
        .into_iter()
        .find(|l| l["line"] == json!(n))
        .unwrap_or_else(|| panic!("no line {n} in {record}"))
}

fn f(v: &Value) -> f64 {
    v.as_f64().unwrap_or_else(|| panic!("{v} is not a number"))
}

#[test]
fn the_independent_client_runs_the_dropship_loop() {
    let Some(python) = peer_python() else { return };
    let sim = NetsuiteSim::start(&["--seed"]);
    let mut peer = Peer::start(&python, &sim, &sim.credentials());

    // A sales order with three drop-ship lines: two items of Acme, one of
    // Globex, referenced by external ID.
    let so = peer.ask(json!({"method": "POST", "path": "/record/v1/salesOrder", "json": {
        "entity": {"externalId": "C-DEMO"}, "otherRefNum": "CPO-881",
        "shippingAddress": {"addressee": "Jane Roe", "addr1": "1 Main St", "city": "Springfield",
                            "state": "IL", "zip": "62701", "country": {"id": "US"}},
        "item": {"items": [
            {"item": {"externalId": "I-WIDGET"}, "quantity": 3, "rate": 9.99, "createPo": {"id": "DropShip"}},
            {"item": {"externalId": "I-SPROCKET"}, "quantity": 10, "rate": 1.5, "createPo": {"id": "DropShip"}},
            {"item": {"externalId": "I-GADGET"}, "quantity": 2, "rate": 25, "createPo": {"id": "DropShip"}}]},
        "custbody_channel": "web"}}));
    let so_id = ok_id(&so);
    let order = get(&mut peer, &format!("/record/v1/salesOrder/{so_id}"));
    assert_eq!(order["status"]["id"], "B");
    assert_eq!(order["custbody_channel"], "web");
    assert_eq!(order["entity"]["refName"], "Demo Shop");
    let po_of = |l: i64| {
        line(&order, l)["createdPo"]["id"]
            .as_str()
            .unwrap_or("")
            .to_string()
    };
    let (acme_po, globex_po) = (po_of(1), po_of(2));
    assert!(!acme_po.is_empty() && !globex_po.is_empty(), "{order}");
    assert_eq!(po_of(3), acme_po, "one PO per preferred vendor");
    assert_ne!(acme_po, globex_po);

    // Without expandSubResources, the sublist is a link only.
    let plain =
        peer.ask(json!({"method": "GET", "path": format!("/record/v1/salesOrder/{so_id}")}));
    assert!(plain["body"]["item"].get("items").is_none(), "{plain}");
    assert!(
        plain["body"]["item"]["links"][0]["href"]
            .as_str()
            .unwrap_or("")
            .ends_with("/item")
    );

    // The generated PO: the vendor, the order, the customer's address, the
    // vendor's SKU and price.
    let po = get(&mut peer, &format!("/record/v1/purchaseOrder/{acme_po}"));
    assert_eq!(po["entity"]["refName"], "Acme Supply Co");
    assert_eq!(po["createdFrom"]["id"], json!(so_id));
    assert_eq!(po["shippingAddress"]["addr1"], "1 Main St");
    assert_eq!(po["shippingAddress"]["country"]["id"], "US");
    assert_eq!(lines(&po).len(), 2);
    let widget = line(&po, 1);
    assert_eq!(widget["vendorName"], "ACME-WB-100");
    assert_eq!((f(&widget["quantity"]), f(&widget["rate"])), (3.0, 4.25));
    assert_eq!(f(&widget["amount"]), 12.75);
    assert_eq!(widget["orderLine"], json!(1));
    assert_eq!(line(&po, 2)["orderLine"], json!(3));

    // SuiteQL through the package: the POs of the order, and paging.
    let q = format!(
        "SELECT t.id, t.tranid, t.entity, TO_CHAR(t.lastmodifieddate, 'YYYY-MM-DD HH24:MI:SS') AS modified \
         FROM transaction t WHERE t.type = 'PurchOrd' AND t.createdfrom = {so_id} ORDER BY t.id"
    );
    let pos = peer.ask(json!({"suiteql": q, "limit": 10, "offset": 0}));
    assert_eq!(pos["status"], 200, "{pos}");
    let items = pos["body"]["items"].as_array().cloned().unwrap_or_default();
    let ids: Vec<&str> = items.iter().filter_map(|i| i["id"].as_str()).collect();
    assert_eq!(ids, [acme_po.as_str(), globex_po.as_str()]);
    assert!(items[0]["tranid"].as_str().unwrap_or("").starts_with("PO"));
    assert_eq!(items[0]["modified"].as_str().map(str::len), Some(19));
    let page1 = peer.ask(json!({"suiteql": "SELECT id, itemid, upccode FROM item ORDER BY id", "limit": 3, "offset": 0}));
    assert_eq!(page1["body"]["totalResults"], 4);
    assert_eq!(page1["body"]["count"], 3);
    assert_eq!(page1["body"]["hasMore"], true);
    assert_eq!(page1["body"]["items"][0]["upccode"], "012345678905");
    let page2 = peer.ask(
        json!({"suiteql": "SELECT id, itemid FROM item ORDER BY id", "limit": 3, "offset": 3}),
    );
    assert_eq!(page2["body"]["count"], 1);
    assert_eq!(page2["body"]["hasMore"], false);
    assert_eq!(page2["body"]["items"][0]["itemid"], "FLANGE-2IN");

    // PATCH the PO: body and line custom fields merge by line.
    let patch = peer.ask(
        json!({"method": "PATCH", "path": format!("/record/v1/purchaseOrder/{acme_po}"),
        "json": {"custbody_dropgate_sent": true, "memo": "sent to Acme",
                 "item": {"items": [{"line": 2, "custcol_dropgate_ack_status": "accepted"}]}}}),
    );
    assert_eq!(patch["status"], 204, "{patch}");
    let po = get(&mut peer, &format!("/record/v1/purchaseOrder/{acme_po}"));
    assert_eq!(po["memo"], "sent to Acme");
    assert_eq!(po["custbody_dropgate_sent"], true);
    assert_eq!(line(&po, 2)["custcol_dropgate_ack_status"], "accepted");
    assert_eq!(f(&line(&po, 1)["quantity"]), 3.0, "line 1 untouched");
    let sent = peer.ask(json!({"suiteql": "SELECT id FROM transaction WHERE type = 'PurchOrd' AND NVL(custbody_dropgate_sent, 'F') = 'T'"}));
    assert_eq!(sent["body"]["items"], json!([{"links": [], "id": acme_po}]));
    let acked = peer.ask(json!({"suiteql": format!("SELECT transaction, id, quantity FROM transactionline WHERE custcol_dropgate_ack_status = 'accepted'")}));
    assert_eq!(acked["body"]["items"][0]["transaction"], json!(acme_po));
    assert_eq!(acked["body"]["items"][0]["quantity"], "2");

    // The package sends X-NetSuite-PropertyNameValidation: error, so an
    // unknown field is refused, naming it; a reference to nothing too.
    let bad = peer.ask(json!({"method": "PATCH", "path": format!("/record/v1/purchaseOrder/{acme_po}"), "json": {"bogusField": 1}}));
    assert_eq!(bad["status"], 400);
    assert_eq!(
        bad["body"]["o:errorDetails"][0]["o:errorPath"],
        "bogusField"
    );
    let bad = peer.ask(json!({"method": "POST", "path": "/record/v1/salesOrder",
        "json": {"entity": {"externalId": "NOBODY"}, "item": {"items": [{"item": {"id": "1"}, "quantity": 1}]}}}));
    assert_eq!(bad["status"], 400);
    assert_eq!(
        bad["body"]["o:errorDetails"][0]["o:errorCode"],
        "INVALID_VALUE"
    );
    assert_eq!(bad["body"]["o:errorDetails"][0]["o:errorPath"], "entity");

    // Upsert by external ID: created, then updated in place.
    let first = peer.ask(
        json!({"method": "PUT", "path": "/record/v1/vendor/eid:V-INITECH",
        "json": {"companyName": "Initech", "email": "ap@initech.example"}}),
    );
    let vendor_id = ok_id(&first);
    let second = peer.ask(
        json!({"method": "PUT", "path": "/record/v1/vendor/eid:V-INITECH",
        "json": {"companyName": "Initech LLC"}}),
    );
    assert_eq!(ok_id(&second), vendor_id);
    let vendor = get(&mut peer, "/record/v1/vendor/eid:V-INITECH");
    assert_eq!(vendor["id"], json!(vendor_id));
    assert_eq!(vendor["companyName"], "Initech LLC");
    assert_eq!(vendor["email"], "ap@initech.example");
    assert_eq!(vendor["externalId"], "V-INITECH");

    // A partial fulfilment: one widget of line 1, with its tracking.
    let partial = peer.ask(json!({"method": "POST",
        "path": format!("/record/v1/salesOrder/{so_id}/!transform/itemFulfillment"),
        "json": {"externalId": "ASN-1", "shipCarrier": {"id": "ups"},
                 "item": {"items": [{"orderLine": 1, "quantity": 1},
                                    {"orderLine": 2, "itemReceive": false},
                                    {"orderLine": 3, "itemReceive": false}]},
                 "package": {"items": [{"packageTrackingNumber": "1Z999AA10123456784", "packageWeight": 2.5}]}}}));
    let if1 = ok_id(&partial);
    let fulfilment = get(&mut peer, &format!("/record/v1/itemFulfillment/{if1}"));
    assert_eq!(fulfilment["createdFrom"]["id"], json!(so_id));
    assert_eq!(fulfilment["externalId"], "ASN-1");
    assert_eq!(lines(&fulfilment).len(), 1);
    assert_eq!(f(&lines(&fulfilment)[0]["quantity"]), 1.0);
    assert_eq!(
        fulfilment["package"]["items"][0]["packageTrackingNumber"],
        "1Z999AA10123456784"
    );
    let order = get(&mut peer, &format!("/record/v1/salesOrder/{so_id}"));
    assert_eq!(f(&line(&order, 1)["quantityFulfilled"]), 1.0);
    assert_eq!(order["status"]["id"], "D");
    let po = get(&mut peer, &format!("/record/v1/purchaseOrder/{acme_po}"));
    assert_eq!(f(&line(&po, 1)["quantityReceived"]), 1.0);

    // More than remains is refused and changes nothing.
    let over = peer.ask(json!({"method": "POST",
        "path": format!("/record/v1/salesOrder/{so_id}/!transform/itemFulfillment"),
        "json": {"item": {"items": [{"orderLine": 1, "quantity": 3}, {"orderLine": 2, "itemReceive": false},
                                    {"orderLine": 3, "itemReceive": false}]}}}));
    assert_eq!(over["status"], 400, "{over}");
    assert_eq!(
        over["body"]["o:errorDetails"][0]["o:errorCode"],
        "USER_ERROR"
    );
    assert_eq!(sim.records("itemFulfillment").len(), 1);

    // The rest: the default takes every remaining quantity.
    let rest = peer.ask(json!({"method": "POST",
        "path": format!("/record/v1/salesOrder/{so_id}/!transform/itemFulfillment"), "json": {}}));
    let if2 = ok_id(&rest);
    let fulfilment = get(&mut peer, &format!("/record/v1/itemFulfillment/{if2}"));
    let shipped: Vec<(i64, f64)> = lines(&fulfilment)
        .iter()
        .map(|l| (l["orderLine"].as_i64().unwrap_or(0), f(&l["quantity"])))
        .collect();
    assert_eq!(shipped, [(1, 2.0), (2, 10.0), (3, 2.0)]);
    let order = get(&mut peer, &format!("/record/v1/salesOrder/{so_id}"));
    assert_eq!(
        order["status"]["id"], "F",
        "fully fulfilled: pending billing"
    );
    let done = peer.ask(json!({"method": "POST",
        "path": format!("/record/v1/salesOrder/{so_id}/!transform/itemFulfillment"), "json": {}}));
    assert_eq!(done["status"], 400, "nothing left to fulfil: {done}");

    // The vendor's bill: line 1 at the invoiced price, line 2 by default.
    let bill = peer.ask(json!({"method": "POST",
        "path": format!("/record/v1/purchaseOrder/{acme_po}/!transform/vendorBill"),
        "json": {"tranId": "INV-77", "tranDate": "2026-12-07",
                 "item": {"items": [{"orderLine": 1, "rate": 4.0}]},
                 "expense": {"items": [{"account": {"id": "58"}, "amount": 7.5, "memo": "freight"}]}}}));
    let bill_id = ok_id(&bill);
    let vb = get(&mut peer, &format!("/record/v1/vendorBill/{bill_id}"));
    assert_eq!(vb["tranId"], "INV-77");
    assert_eq!(vb["entity"]["refName"], "Acme Supply Co");
    assert_eq!(vb["createdFrom"]["id"], json!(acme_po));
    let billed: Vec<(i64, f64, f64)> = lines(&vb)
        .iter()
        .map(|l| {
            (
                l["orderLine"].as_i64().unwrap_or(0),
                f(&l["quantity"]),
                f(&l["amount"]),
            )
        })
        .collect();
    assert_eq!(billed, [(1, 3.0, 12.0), (2, 2.0, 23.0)]);
    assert_eq!(f(&vb["total"]), 42.5);
    let po = get(&mut peer, &format!("/record/v1/purchaseOrder/{acme_po}"));
    assert_eq!(f(&line(&po, 1)["quantityBilled"]), 3.0);
    assert_eq!(po["status"]["id"], "G", "fully billed");
    // Billed lines cannot shrink below what was billed, nor go.
    let shrink = peer.ask(
        json!({"method": "PATCH", "path": format!("/record/v1/purchaseOrder/{acme_po}"),
        "json": {"item": {"items": [{"line": 1, "quantity": 2}]}}}),
    );
    assert_eq!(shrink["status"], 400, "{shrink}");
    assert_eq!(
        shrink["body"]["o:errorDetails"][0]["o:errorCode"],
        "USER_ERROR"
    );
    let replace = peer.ask(json!({"method": "PATCH", "path": format!("/record/v1/purchaseOrder/{acme_po}"),
        "params": {"replace": "item"}, "json": {"item": {"items": [{"item": {"id": "1"}, "quantity": 3}]}}}));
    assert_eq!(replace["status"], 400, "{replace}");
    assert_eq!(
        lines(&get(
            &mut peer,
            &format!("/record/v1/purchaseOrder/{acme_po}")
        ))
        .len(),
        2
    );
    let links = peer.ask(json!({"suiteql": format!(
        "SELECT nextdoc, linktype FROM previoustransactionlinelink WHERE previousdoc = {acme_po} ORDER BY nextline")}));
    assert_eq!(links["body"]["items"][0]["nextdoc"], json!(bill_id));
    assert_eq!(links["body"]["items"][0]["linktype"], "OrdBill");

    // A transform that does not exist.
    let wrong = peer.ask(json!({"method": "POST",
        "path": format!("/record/v1/salesOrder/{so_id}/!transform/vendorBill"), "json": {}}));
    assert_eq!(wrong["status"], 400);
    assert_eq!(
        wrong["body"]["o:errorDetails"][0]["o:errorCode"],
        "INVALID_RCRD_TRANSFRM"
    );
}

#[test]
fn unknown_fields_are_ignored_without_the_validation_header_and_suiteql_needs_transient() {
    let sim = NetsuiteSim::start(&["--seed"]);
    let a = sim.call(
        "POST",
        "/services/rest/record/v1/customer",
        Some(&json!({"companyName": "Quiet Co", "nonsense": 1, "custentity_tier": "gold"})),
    );
    assert_eq!(a.status, 204, "{}", a.body);
    let id = a.location_id().unwrap_or_default();
    let c = sim.call(
        "GET",
        &format!("/services/rest/record/v1/CUSTOMER/{id}"),
        None,
    );
    let c = c.json();
    assert_eq!(c["companyName"], "Quiet Co");
    assert!(c.get("nonsense").is_none());
    assert_eq!(c["custentity_tier"], "gold");
    let dup = sim.call(
        "POST",
        "/services/rest/record/v1/vendor",
        Some(&json!({"companyName": "Again", "externalId": "V-ACME"})),
    );
    assert_eq!(
        (dup.status, dup.error_code().as_deref()),
        (400, Some("DUP_RCRD"))
    );
    let path = "/services/rest/query/v1/suiteql?limit=5&offset=0";
    let auth = sim.sign(&sim.credentials(), "POST", path);
    let a = sim
        .send(
            "POST",
            path,
            &[("Authorization", &auth)],
            Some(&json!({"q": "SELECT id FROM item"})),
        )
        .expect("an answer");
    assert_eq!(a.status, 400, "no Prefer: transient");
    let bad = sim.suiteql("SELECT id FROM item; DELETE FROM item", 5, 0);
    assert_eq!(
        (bad.status, bad.error_code().as_deref()),
        (400, Some("INVALID_PARAMETER"))
    );
    let unknown = sim.suiteql("SELECT nosuchcolumn FROM item", 5, 0);
    assert_eq!(unknown.status, 400);
    assert!(unknown.body.contains("nosuchcolumn"), "{}", unknown.body);
    let missing = sim.call("GET", "/services/rest/record/v1/salesOrder/999", None);
    assert_eq!(
        (missing.status, missing.error_code().as_deref()),
        (404, Some("NONEXISTENT_ID"))
    );
}

#[test]
fn badly_signed_requests_are_refused() {
    let sim = NetsuiteSim::start(&["--seed"]);
    let path = "/services/rest/record/v1/vendor/1";
    let good = sim.credentials();
    assert_eq!(sim.call("GET", path, None).status, 200);

    let refused = |headers: &[(&str, &str)], why: &str| {
        let a = sim.send("GET", path, headers, None).expect("an answer");
        assert_eq!(a.status, 401, "{why}: {}", a.body);
        assert_eq!(a.error_code().as_deref(), Some("INVALID_LOGIN"), "{why}");
    };
    let mut wrong_secret = good.clone();
    wrong_secret.consumer_secret = "not-the-secret".into();
    refused(
        &[("Authorization", &sim.sign(&wrong_secret, "GET", path))],
        "wrong consumer secret",
    );
    let mut wrong_token = good.clone();
    wrong_token.token_secret = "not-the-token-secret".into();
    refused(
        &[("Authorization", &sim.sign(&wrong_token, "GET", path))],
        "wrong token secret",
    );
    let mut wrong_key = good.clone();
    wrong_key.consumer_key = "CK-unknown".into();
    refused(
        &[("Authorization", &sim.sign(&wrong_key, "GET", path))],
        "unknown consumer key",
    );
    let mut wrong_realm = good.clone();
    wrong_realm.realm = "1111111".into();
    refused(
        &[("Authorization", &sim.sign(&wrong_realm, "GET", path))],
        "wrong realm",
    );
    let url = url::Url::parse(&format!("{}{path}", sim.base_url())).expect("a URL");
    let old = good.authorization("GET", &url, "old-nonce-1", now() - 400);
    refused(&[("Authorization", &old)], "a timestamp 400 s old");
    let ahead = good.authorization("GET", &url, "ahead-nonce-1", now() + 400);
    refused(&[("Authorization", &ahead)], "a timestamp 400 s ahead");
    let once = good.authorization("GET", &url, "replayed-nonce-1", now());
    assert_eq!(
        sim.send("GET", path, &[("Authorization", &once)], None)
            .map(|a| a.status),
        Some(200)
    );
    refused(&[("Authorization", &once)], "a replayed nonce");
    refused(&[], "no header");
    refused(
        &[("Authorization", "OAuth realm=\"x\", oauth_consumer_key")],
        "a malformed header",
    );
    // Signed for another URL (a changed query).
    let other = good.authorization(
        "GET",
        &url::Url::parse(&format!("{}{path}?x=1", sim.base_url())).expect("a URL"),
        "n-other",
        now(),
    );
    refused(&[("Authorization", &other)], "a signature of another URL");

    let stats = sim.stats();
    let failures = stats["login_failures"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert_eq!(failures.len(), 10, "{stats}");
    assert!(
        failures
            .iter()
            .any(|f| f.as_str().unwrap_or("").contains("replay")),
        "{stats}"
    );

    // The independent client with a wrong secret, or the realm in another
    // case, is refused too; with the right ones it is let in.
    let Some(python) = peer_python() else { return };
    let mut peer = Peer::start(&python, &sim, &wrong_secret);
    let a = peer.ask(json!({"method": "GET", "path": "/record/v1/vendor/1"}));
    assert_eq!(a["status"], 401, "{a}");
    let mut lower = good.clone();
    lower.realm = ACCOUNT.to_ascii_lowercase();
    let mut peer = Peer::start(&python, &sim, &lower);
    let a = peer.ask(json!({"suiteql": "SELECT id FROM vendor"}));
    assert_eq!(a["status"], 401, "{a}");
    let mut peer = Peer::start(&python, &sim, &good);
    let a = peer.ask(json!({"suiteql": "SELECT id FROM vendor"}));
    assert_eq!(a["status"], 200, "{a}");
}

#[test]
fn the_concurrency_limit_answers_429_and_can_answer_the_sss_form() {
    let sim = NetsuiteSim::start(&["--seed", "--concurrency", "3"]);
    let limits = sim.call("GET", "/services/rest/system/v1/governanceLimits", None);
    assert_eq!(limits.json()["accountConcurrencyLimit"], 3);
    // Each request holds its place for a while, so the parallel ones pile up.
    sim.fault(json!({"slow_ms": 1500, "times": 100, "method": "GET"}));
    let parallel = |n: usize| -> Vec<support::netsuite_sim::Answer> {
        std::thread::scope(|s| {
            let handles: Vec<_> = (0..n)
                .map(|_| {
                    s.spawn(|| sim.call("GET", "/services/rest/record/v1/inventoryItem/1", None))
                })
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().expect("a request"))
                .collect()
        })
    };
    let answers = parallel(10);
    let ok = answers.iter().filter(|a| a.status == 200).count();
    let limited: Vec<_> = answers.iter().filter(|a| a.status == 429).collect();
    assert!(
        (1..=3).contains(&ok),
        "at most the limit at a time: {ok} answered"
    );
    assert_eq!(ok + limited.len(), 10);
    assert_eq!(
        limited[0].error_code().as_deref(),
        Some("CONCURRENCY_LIMIT_EXCEEDED")
    );
    let stats = sim.stats();
    assert_eq!(stats["max_concurrency"], 3, "{stats}");
    assert_eq!(stats["limit_refusals"], json!(limited.len()));
    assert!(
        answers
            .iter()
            .filter(|a| a.status == 200)
            .all(|a| a.json()["itemId"] == "WIDGET-BLUE")
    );

    sim.configure(json!({"limit_error": "sss"}));
    let answers = parallel(8);
    let sss = answers.iter().filter(|a| a.status == 400).count();
    assert!(sss >= 5, "{sss} SSS answers");
    assert!(
        answers
            .iter()
            .filter(|a| a.status == 400)
            .all(|a| a.error_code().as_deref() == Some("SSS_REQUEST_LIMIT_EXCEEDED"))
    );

    // The independent client's own parallel requests meet the limit too.
    let Some(python) = peer_python() else { return };
    sim.configure(json!({"limit_error": "429"}));
    let mut peer = Peer::start(&python, &sim, &sim.credentials());
    let batch: Vec<Value> = (0..8)
        .map(|_| json!({"method": "GET", "path": "/record/v1/vendor/1"}))
        .collect();
    let answers = peer.ask(Value::Array(batch));
    let statuses: Vec<i64> = answers
        .as_array()
        .map(|a| {
            a.iter()
                .map(|x| x["status"].as_i64().unwrap_or(0))
                .collect()
        })
        .unwrap_or_default();
    assert_eq!(statuses.len(), 8);
    assert!(
        statuses.iter().all(|s| *s == 200 || *s == 429),
        "{statuses:?}"
    );
    assert!(
        statuses.contains(&429) && statuses.contains(&200),
        "{statuses:?}"
    );
}

#[test]
fn each_fault_does_what_it_says() {
    let sim = NetsuiteSim::start(&["--seed"]);
    let item = "/services/rest/record/v1/inventoryItem/2";

    sim.fault(json!({"status": 503, "times": 2}));
    for _ in 0..2 {
        let a = sim.call("GET", item, None);
        assert_eq!(
            (a.status, a.error_code().as_deref()),
            (503, Some("UNEXPECTED_ERROR"))
        );
    }
    assert_eq!(sim.call("GET", item, None).status, 200);

    sim.fault(json!({"rate_limit": true, "retry_after": 2}));
    let a = sim.call("GET", item, None);
    assert_eq!(a.status, 429);
    assert_eq!(a.header("retry-after"), Some("2"));
    assert_eq!(
        a.error_code().as_deref(),
        Some("CONCURRENCY_LIMIT_EXCEEDED")
    );

    sim.fault(json!({"slow_ms": 700, "method": "GET", "path_contains": "inventoryItem/2"}));
    let started = Instant::now();
    let a = sim.call("GET", item, None);
    assert!(started.elapsed() >= Duration::from_millis(700));
    assert_eq!(a.json()["itemId"], "GADGET-RED");

    // A fault limited to a method and a path leaves other requests alone.
    sim.fault(json!({"status": 500, "method": "PATCH"}));
    assert_eq!(sim.call("GET", item, None).status, 200);
    let a = sim.call(
        "PATCH",
        item,
        Some(&json!({"displayName": "Red Gadget XL"})),
    );
    assert_eq!(a.status, 500);
    assert_eq!(
        sim.call("GET", item, None).json()["displayName"],
        "Red Gadget"
    );

    // Dropped after the write: no answer, but the fulfilment exists and
    // the order's quantities moved; the client finds it by external ID.
    let so = sim.call("POST", "/services/rest/record/v1/salesOrder", Some(&json!({
        "entity": {"externalId": "C-DEMO"},
        "item": {"items": [{"item": {"externalId": "I-FLANGE"}, "quantity": 4, "rate": 20, "createPo": {"id": "DropShip"}}]}})));
    let so_id = so.location_id().expect("the order's ID");
    sim.fault(json!({"drop_after_write": true, "method": "POST", "path_contains": "!transform/itemFulfillment"}));
    let path = format!("/services/rest/record/v1/salesOrder/{so_id}/!transform/itemFulfillment");
    let auth = sim.sign(&sim.credentials(), "POST", &path);
    let lost = sim.send(
        "POST",
        &path,
        &[("Authorization", &auth)],
        Some(&json!({"externalId": "ASN-DROP"})),
    );
    assert!(lost.is_none(), "no answer after the write: {lost:?}");
    let fulfilments = sim.records("itemFulfillment");
    assert_eq!(fulfilments.len(), 1);
    assert_eq!(fulfilments[0]["externalId"], "ASN-DROP");
    let order = sim
        .records("salesOrder")
        .into_iter()
        .find(|o| o["id"] == json!(so_id))
        .expect("the order");
    assert_eq!(f(&order["item"]["items"][0]["quantityFulfilled"]), 4.0);
    let found = sim.suiteql(
        "SELECT id FROM transaction WHERE type = 'ItemShip' AND externalid = 'ASN-DROP'",
        5,
        0,
    );
    assert_eq!(found.json()["items"][0]["id"], fulfilments[0]["id"]);
    // A retry of the same transform is refused: nothing is left to fulfil.
    let retry = sim.call("POST", &path, Some(&json!({"externalId": "ASN-DROP"})));
    assert_eq!(retry.status, 400, "{}", retry.body);

    let stats = sim.stats();
    assert_eq!(stats["faults_pending"], 0, "{stats}");
    assert_eq!(stats["by_status"]["503"], 2, "{stats}");

    let reset = sim.control("POST", "reset", None);
    assert_eq!(reset.status, 204);
    assert!(sim.records("itemFulfillment").is_empty());
    assert!(sim.records("vendor").is_empty());
}

#[test]
fn the_control_api_is_only_on_loopback_and_not_with_public() {
    let out = support::cli::dropgate(&["netsuite-sim", "--listen", "0.0.0.0:0"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        support::cli::text(&out.stderr).contains("--public"),
        "{}",
        support::cli::text(&out.stderr)
    );
    let sim = NetsuiteSim::start(&["--public"]);
    let a = sim.control("GET", "stats", None);
    assert_eq!(a.status, 404, "no control API with --public");
    assert_eq!(
        sim.call("GET", "/services/rest/system/v1/governanceLimits", None)
            .status,
        200
    );
}

#[test]
fn records_outlive_a_restart_with_db() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let db = dir.path().join("ns.sqlite");
    let db_arg = db.to_string_lossy().into_owned();
    let vendor_id = {
        let sim = NetsuiteSim::start(&["--db", &db_arg]);
        let a = sim.call(
            "PUT",
            "/services/rest/record/v1/vendor/eid:V-KEEP",
            Some(&json!({"companyName": "Kept Co"})),
        );
        assert_eq!(a.status, 204, "{}", a.body);
        a.location_id().expect("an ID")
    };
    let sim = NetsuiteSim::start(&["--db", &db_arg]);
    let v = sim
        .call("GET", "/services/rest/record/v1/vendor/eid:V-KEEP", None)
        .json();
    assert_eq!(v["id"], json!(vendor_id));
    assert_eq!(v["companyName"], "Kept Co");
    // IDs go on from where they were.
    let a = sim.call(
        "POST",
        "/services/rest/record/v1/customer",
        Some(&json!({"companyName": "Next Co"})),
    );
    let next: i64 = a.location_id().and_then(|i| i.parse().ok()).expect("an ID");
    assert!(next > vendor_id.parse::<i64>().expect("a number"));
}

#[test]
fn dropgates_own_client_reads_the_simulator() {
    let sim = NetsuiteSim::start(&["--seed"]);
    let dir = tempfile::tempdir().expect("a temporary folder");
    for sub in ["partners", "mappings"] {
        std::fs::create_dir_all(dir.path().join(sub)).expect("a folder");
    }
    for (name, value) in [
        ("ck", support::netsuite_sim::CONSUMER_KEY),
        ("cs", support::netsuite_sim::CONSUMER_SECRET),
        ("tk", support::netsuite_sim::TOKEN_ID),
        ("ts", support::netsuite_sim::TOKEN_SECRET),
    ] {
        std::fs::write(dir.path().join(name), value).expect("a secret");
    }
    let config = dir.path().join("gateway.toml");
    std::fs::write(
        &config,
        format!(
            "[netsuite]\naccount = \"{ACCOUNT}\"\nbase_url = \"{}\"\n[netsuite.auth]\nmethod = \"tba\"\n\
             consumer_key_file = \"ck\"\nconsumer_secret_file = \"cs\"\ntoken_id_file = \"tk\"\ntoken_secret_file = \"ts\"\n",
            sim.base_url()
        ),
    )
    .expect("gateway.toml");
    let config = config.to_string_lossy().into_owned();
    let out = support::cli::dropgate(&["netsuite", "check", "-c", &config]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        support::cli::text(&out.stderr)
    );
    let out = support::cli::dropgate(&[
        "netsuite",
        "query",
        "-c",
        &config,
        "SELECT itemid FROM item WHERE vendorname LIKE 'GLX-%' ORDER BY itemid",
    ]);
    let rows: Vec<Value> = support::cli::text(&out.stdout)
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect();
    let names: Vec<&str> = rows.iter().filter_map(|r| r["itemid"].as_str()).collect();
    assert_eq!(
        names,
        ["FLANGE-2IN", "SPROCKET-8"],
        "{}",
        support::cli::text(&out.stderr)
    );
}

/// `(key PEM path, certificate PEM path)` of a new key made by openssl,
/// as a user makes the one they upload to NetSuite.
fn openssl_key(
    dir: &std::path::Path,
    name: &str,
    spec: &[&str],
) -> (std::path::PathBuf, std::path::PathBuf) {
    let key = dir.join(format!("{name}.key.pem"));
    let cert = dir.join(format!("{name}.cert.pem"));
    let out = std::process::Command::new("openssl")
        .args([
            "req",
            "-new",
            "-x509",
            "-nodes",
            "-days",
            "2",
            "-subj",
            "/CN=dropgate sim test",
        ])
        .args(spec)
        .arg("-keyout")
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .output()
        .expect("openssl runs");
    assert!(out.status.success(), "{}", support::cli::text(&out.stderr));
    (key, cert)
}

/// A client assertion made by PyJWT (independent code): `alg` with the
/// key, `kid`, `iss`, `aud`, expiring `life` seconds after now.
fn pyjwt(
    python: &std::path::Path,
    key: &std::path::Path,
    alg: &str,
    kid: &str,
    iss: &str,
    aud: &str,
    life: i64,
) -> String {
    let script = "import jwt, sys, time\n\
        key, alg, kid, iss, aud, life = sys.argv[1:7]\n\
        now = int(time.time())\n\
        print(jwt.encode({'iss': iss, 'scope': ['rest_webservices'], 'aud': aud, 'iat': now, 'exp': now + int(life)},\n\
              open(key).read(), algorithm=alg, headers={'kid': kid}))\n";
    let out = std::process::Command::new(python)
        .args(["-c", script])
        .arg(key)
        .args([alg, kid, iss, aud, &life.to_string()])
        .output()
        .expect("python runs");
    assert!(out.status.success(), "{}", support::cli::text(&out.stderr));
    support::cli::text(&out.stdout).trim().to_string()
}

fn token_form(assertion: &str) -> String {
    url::form_urlencoded::Serializer::new(String::new())
        .append_pair("grant_type", "client_credentials")
        .append_pair(
            "client_assertion_type",
            "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
        )
        .append_pair("client_assertion", assertion)
        .finish()
}

#[test]
fn the_token_endpoint_checks_the_assertion_against_the_uploaded_certificate() {
    let Some(python) = peer_python() else { return };
    let dir = tempfile::tempdir().expect("a temporary folder");
    let (rsa_key, rsa_cert) = openssl_key(dir.path(), "rsa", &["-newkey", "rsa:2048"]);
    let (ec_key, ec_cert) = openssl_key(
        dir.path(),
        "ec",
        &["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256"],
    );
    let (other_key, _) = openssl_key(dir.path(), "other", &["-newkey", "rsa:2048"]);
    let extra = format!(
        "[[oauth2_client]]\nclient_id = \"CLIENT-RSA\"\ncertificate_id = \"KID-RSA\"\ncertificate_file = \"{}\"\n\
         [[oauth2_client]]\nclient_id = \"CLIENT-EC\"\ncertificate_id = \"KID-EC\"\ncertificate_file = \"{}\"\n",
        rsa_cert.display(),
        ec_cert.display()
    );
    let sim = NetsuiteSim::start_with(&["--seed"], &extra);
    let aud = format!("{}/services/rest/auth/oauth2/v1/token", sim.base_url());
    let token = |assertion: &str| {
        sim.send_raw(
            "POST",
            "/services/rest/auth/oauth2/v1/token",
            "application/x-www-form-urlencoded",
            &token_form(assertion),
        )
        .expect("an answer")
    };
    let vendor = |bearer: &str| {
        sim.send(
            "GET",
            "/services/rest/record/v1/vendor/1",
            &[("Authorization", &format!("Bearer {bearer}"))],
            None,
        )
        .expect("an answer")
    };

    for (key, alg, kid, iss) in [
        (&rsa_key, "PS256", "KID-RSA", "CLIENT-RSA"),
        (&ec_key, "ES256", "KID-EC", "CLIENT-EC"),
    ] {
        let a = token(&pyjwt(&python, key, alg, kid, iss, &aud, 300));
        assert_eq!(a.status, 200, "{alg}: {}", a.body);
        let body = a.json();
        assert_eq!(body["token_type"], "bearer");
        assert_eq!(body["expires_in"], "3600");
        let bearer = body["access_token"].as_str().expect("a token").to_string();
        let v = vendor(&bearer);
        assert_eq!(v.status, 200, "{}", v.body);
        assert_eq!(v.json()["companyName"], "Acme Supply Co");
    }

    let refused = |assertion: String, why: &str| {
        let a = token(&assertion);
        assert_eq!(a.status, 401, "{why}: {}", a.body);
        assert_eq!(a.json()["error"], "invalid_client", "{why}");
    };
    refused(
        pyjwt(
            &python,
            &rsa_key,
            "RS256",
            "KID-RSA",
            "CLIENT-RSA",
            &aud,
            300,
        ),
        "RS256",
    );
    refused(
        pyjwt(
            &python,
            &other_key,
            "PS256",
            "KID-RSA",
            "CLIENT-RSA",
            &aud,
            300,
        ),
        "another key",
    );
    refused(
        pyjwt(
            &python,
            &rsa_key,
            "PS256",
            "KID-NONE",
            "CLIENT-RSA",
            &aud,
            300,
        ),
        "an unknown kid",
    );
    refused(
        pyjwt(
            &python,
            &rsa_key,
            "PS256",
            "KID-RSA",
            "CLIENT-EC",
            &aud,
            300,
        ),
        "another client's certificate",
    );
    refused(
        pyjwt(
            &python,
            &rsa_key,
            "PS256",
            "KID-RSA",
            "CLIENT-RSA",
            "https://elsewhere.example/token",
            300,
        ),
        "another audience",
    );
    refused(
        pyjwt(
            &python,
            &rsa_key,
            "PS256",
            "KID-RSA",
            "CLIENT-RSA",
            &aud,
            -120,
        ),
        "expired",
    );
    refused(
        pyjwt(
            &python,
            &rsa_key,
            "PS256",
            "KID-RSA",
            "CLIENT-RSA",
            &aud,
            7200,
        ),
        "a lifetime over an hour",
    );
    let wrong_grant = sim
        .send_raw(
            "POST",
            "/services/rest/auth/oauth2/v1/token",
            "application/x-www-form-urlencoded",
            "grant_type=password",
        )
        .expect("an answer");
    assert_eq!(
        (wrong_grant.status, wrong_grant.json()["error"].clone()),
        (400, json!("unsupported_grant_type"))
    );
    assert_eq!(vendor("not-a-token-we-issued").status, 401);

    // dropgate's own client signs in with OAuth 2.0 and queries.
    std::fs::write(dir.path().join("client-id"), "CLIENT-EC").expect("the client ID");
    for sub in ["partners", "mappings"] {
        std::fs::create_dir_all(dir.path().join(sub)).expect("a folder");
    }
    let config = dir.path().join("gateway.toml");
    std::fs::write(
        &config,
        format!(
            "[netsuite]\naccount = \"{ACCOUNT}\"\nbase_url = \"{}\"\n[netsuite.auth]\nmethod = \"oauth2\"\n\
             client_id_file = \"client-id\"\ncertificate_id = \"KID-EC\"\nprivate_key_file = \"{}\"\n",
            sim.base_url(),
            ec_key.display()
        ),
    )
    .expect("gateway.toml");
    let config = config.to_string_lossy().into_owned();
    let out = support::cli::dropgate(&[
        "netsuite",
        "query",
        "-c",
        &config,
        "SELECT companyname FROM vendor ORDER BY id",
    ]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        support::cli::text(&out.stderr)
    );
    assert!(support::cli::text(&out.stdout).contains("Globex Wholesale"));

    // A token past its lifetime is refused: the client must renew it.
    sim.configure(json!({"token_lifetime_seconds": 0}));
    let a = token(&pyjwt(
        &python,
        &ec_key,
        "ES256",
        "KID-EC",
        "CLIENT-EC",
        &aud,
        300,
    ));
    let bearer = a.json()["access_token"]
        .as_str()
        .expect("a token")
        .to_string();
    let v = vendor(&bearer);
    assert_eq!(
        (v.status, v.error_code().as_deref()),
        (401, Some("INVALID_LOGIN"))
    );
}
