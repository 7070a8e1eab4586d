//! NetSuite authentication checked by code nobody here wrote: the TBA
//! signatures against oauthlib and against the header of the PyPI
//! `netsuite` client (authlib), the OAuth 2.0 client assertion against
//! PyJWT and cryptography, and the token source against a token endpoint
//! on 127.0.0.1.
//!
//! The Python peers come from the virtualenv of `scripts/setup.sh`; each
//! check passes all its cases to one Python process as JSON.

mod support;

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64URL;
use dropgate::netsuite::oauth2::{
    AccessToken, AssertionError, Certificate, SigningKey, TokenError, TokenSource, sign_assertion,
    verify_assertion,
};
use dropgate::netsuite::tba::{AuthHeader, Credentials, TbaError};
use serde_json::{Value, json};
use support::python_peers;
use url::Url;

type Result<T> = std::result::Result<T, Box<dyn std::error::Error>>;

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

// ---------------------------------------------------------------------
// TBA against oauthlib

/// A small deterministic generator (xorshift64*), so that a failing case
/// comes back on every run.
struct Gen(u64);

impl Gen {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len())]
    }
}

/// `s` as a query component written in one of the ways clients write it:
/// a space as `+` or `%20`, escapes in upper or lower case, and the
/// characters a query may hold left as they are.
fn query_encode(g: &mut Gen, s: &str) -> String {
    let mut out = String::new();
    for &b in s.as_bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                out.push(b as char)
            }
            b' ' if g.below(2) == 0 => out.push('+'),
            b',' | b':' | b'/' | b'@' | b'!' | b'*' | b';' if g.below(2) == 0 => {
                out.push(b as char)
            }
            _ if g.below(2) == 0 => out.push_str(&format!("%{b:02x}")),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

struct TbaCase {
    method: &'static str,
    url: Url,
    creds: Credentials,
    nonce: String,
    timestamp: u64,
}

fn tba_cases(n: usize) -> Vec<TbaCase> {
    let mut g = Gen(0x9E37_79B9_7F4A_7C15);
    let bases = [
        "https://1234567-sb1.suitetalk.api.netsuite.com",
        "https://TSTDRV987654.SuiteTalk.Api.NetSuite.com",
        "https://1234567.suitetalk.api.netsuite.com:443",
        "http://127.0.0.1:18082",
        "http://localhost:80",
    ];
    let paths = [
        "/services/rest/query/v1/suiteql",
        "/services/rest/record/v1/salesOrder/42",
        "/services/rest/record/v1/purchaseOrder/7/!transform/vendorBill",
        "/services/rest/record/v1/customer/eid:ACME%20CO",
        "/services/rest/record/v1/itemFulfillment/eid:acme-856-0001",
    ];
    let names = [
        "limit",
        "offset",
        "q",
        "expandSubResources",
        "fields",
        "a b",
        "x+y",
        "k&v",
        "k=v",
        "é",
        "日本",
        "",
    ];
    let values = [
        "",
        "5",
        "true",
        "a b",
        "1+1=2",
        "x&y",
        "Café",
        "日本語",
        "100%",
        "~tilde",
        "SELECT id FROM transaction WHERE memo = 'a&b'",
        "id,tranId,entity",
    ];
    let secret_chars = [
        "a", "Z", "0", "&", "%", " ", "+", "é", "=", "\"", "/", "~", "_",
    ];
    let secret = |g: &mut Gen| -> String {
        let len = 1 + g.below(24);
        (0..len).map(|_| g.pick(&secret_chars)).collect()
    };
    (0..n)
        .map(|i| {
            let mut query = Vec::new();
            for _ in 0..g.below(5) {
                let (name, value) = (g.pick(&names), g.pick(&values));
                let (name, value) = (query_encode(&mut g, name), query_encode(&mut g, value));
                match g.below(6) {
                    0 => query.push(name),
                    _ => query.push(format!("{name}={value}")),
                }
                if g.below(5) == 0 {
                    let again = g.pick(&values);
                    let again = query_encode(&mut g, again);
                    query.push(format!("{}={again}", query_encode(&mut g, "limit")));
                }
            }
            let mut url = format!("{}{}", g.pick(&bases), g.pick(&paths));
            if !query.is_empty() {
                url.push('?');
                url.push_str(&query.join("&"));
            }
            let url = Url::parse(&url).unwrap_or_else(|e| panic!("case {i}: {url}: {e}"));
            let creds = Credentials {
                realm: g
                    .pick(&["1234567", "1234567_SB1", "TSTDRV987654_SB2", "1234567_RP"])
                    .to_string(),
                consumer_key: format!("ck{i:04x}{}", g.pick(&["", "-x", "~y"])),
                consumer_secret: secret(&mut g),
                token_id: format!("tk{:016x}", g.next()),
                token_secret: secret(&mut g),
            };
            TbaCase {
                method: g.pick(&["GET", "POST", "PUT", "PATCH", "DELETE"]),
                url,
                creds,
                nonce: format!("{:x}{:x}", g.next(), g.next()),
                timestamp: 1_700_000_000 + g.below(100_000_000) as u64,
            }
        })
        .collect()
}

const OAUTHLIB_SIGN: &str = r#"
import json, sys
from oauthlib import oauth1
out = []
for c in json.load(sys.stdin):
    client = oauth1.Client(
        c["consumer_key"], client_secret=c["consumer_secret"],
        resource_owner_key=c["token_id"], resource_owner_secret=c["token_secret"],
        signature_method=oauth1.SIGNATURE_HMAC_SHA256,
        nonce=c["nonce"], timestamp=str(c["timestamp"]), realm=c["realm"])
    _, headers, _ = client.sign(c["url"], http_method=c["method"])
    out.append(headers["Authorization"])
json.dump(out, sys.stdout)
"#;

/// The URL with one letter or digit changed: in the query (outside the
/// `%XX` escapes) when it has one, else in the path.
fn one_byte_changed(url: &Url) -> Url {
    let text = url.as_str().to_string();
    let start = text.find('?').map(|q| q + 1);
    let bytes = text.as_bytes();
    let in_escape = |i: usize| (i >= 1 && bytes[i - 1] == b'%') || (i >= 2 && bytes[i - 2] == b'%');
    let candidates = |from: usize, to: usize| {
        (from..to)
            .rev()
            .find(|&i| bytes[i].is_ascii_alphanumeric() && !in_escape(i))
    };
    let path_end = start.map_or(text.len(), |q| q - 1);
    let at = start
        .and_then(|q| candidates(q, text.len()))
        .or_else(|| candidates(path_end - 1, path_end))
        .or_else(|| candidates(0, path_end))
        .expect("a URL has a letter");
    let mut changed = text.into_bytes();
    changed[at] = match changed[at] {
        b'z' => b'a',
        b'Z' => b'A',
        b'9' => b'0',
        c => c + 1,
    };
    Url::parse(&String::from_utf8(changed).expect("ASCII")).expect("still a URL")
}

#[test]
fn tba_signatures_are_oauthlibs_for_generated_requests() -> Result<()> {
    let Some(python) = python_peers::python() else {
        return Ok(());
    };
    let cases = tba_cases(400);
    let input: Vec<Value> = cases
        .iter()
        .map(|c| {
            json!({
                "method": c.method, "url": c.url.as_str(), "realm": c.creds.realm,
                "consumer_key": c.creds.consumer_key, "consumer_secret": c.creds.consumer_secret,
                "token_id": c.creds.token_id, "token_secret": c.creds.token_secret,
                "nonce": c.nonce, "timestamp": c.timestamp,
            })
        })
        .collect();
    let theirs = python_peers::run(&python, OAUTHLIB_SIGN, &Value::Array(input))?;
    let theirs = theirs.as_array().ok_or("oauthlib gave no list")?;
    assert_eq!(theirs.len(), cases.len());
    let (mut with_query, mut repeated) = (0, 0);
    for (case, their_header) in cases.iter().zip(theirs) {
        let their_header = their_header.as_str().ok_or("a header is text")?;
        let context = format!("{} {} (oauthlib: {their_header})", case.method, case.url);
        let ours = case
            .creds
            .authorization(case.method, &case.url, &case.nonce, case.timestamp);
        let ours = AuthHeader::parse(&ours)?;
        let theirs = AuthHeader::parse(their_header)?;
        assert_eq!(
            ours.get("oauth_signature"),
            theirs.get("oauth_signature"),
            "{context}"
        );
        assert_eq!(theirs.realm.as_deref(), Some(case.creds.realm.as_str()));
        let (cs, ts) = (&case.creds.consumer_secret, &case.creds.token_secret);
        assert_eq!(
            theirs.verify(case.method, &case.url, b"", cs, ts),
            Ok(()),
            "{context}"
        );
        let changed = one_byte_changed(&case.url);
        assert_eq!(
            theirs.verify(case.method, &changed, b"", cs, ts),
            Err(TbaError::Signature),
            "{context} changed to {changed}"
        );
        // The first character of one secret changed.
        let wrong = |s: &str| {
            let mut chars = s.chars();
            let first = if chars.next() == Some('x') { 'y' } else { 'x' };
            format!("{first}{}", chars.as_str())
        };
        for (cs2, ts2) in [(wrong(cs), ts.clone()), (cs.clone(), wrong(ts))] {
            assert_eq!(
                theirs.verify(case.method, &case.url, b"", &cs2, &ts2),
                Err(TbaError::Signature),
                "{context} with another secret"
            );
        }
        with_query += usize::from(case.url.query().is_some_and(|q| !q.is_empty()));
        let names: Vec<_> = case.url.query_pairs().map(|(k, _)| k).collect();
        repeated += usize::from((1..names.len()).any(|i| names[..i].contains(&names[i])));
    }
    // The generator did make the hard cases.
    assert!(with_query > 200 && repeated > 20, "{with_query} {repeated}");
    Ok(())
}

// ---------------------------------------------------------------------
// The PyPI `netsuite` client's header (authlib, with oauth_body_hash)

const NETSUITE_PACKAGE_SIGN: &str = r#"
import json, sys
import httpx
from netsuite import Config, TokenAuth
from netsuite.rest_api import NetSuiteRestApi
c = json.load(sys.stdin)
config = Config(account=c["account"], auth=TokenAuth(
    consumer_key=c["consumer_key"], consumer_secret=c["consumer_secret"],
    token_id=c["token_id"], token_secret=c["token_secret"]))
out = []
for r in c["requests"]:
    api = NetSuiteRestApi(config)
    if r["base"]:
        api._make_url = lambda subpath, base=r["base"]: f"{base}/services/rest{subpath}"
    # As NetSuiteRestApi._request_impl builds it: the default headers, a
    # JSON body dumped to text, the auth object of the package.
    headers = {**api._make_default_headers(), **r["headers"]}
    kw = {}
    if r["json"] is not None:
        kw["content"] = json.dumps(r["json"])
    request = httpx.Request(r["method"], api._make_url(r["subpath"]),
                            params=r["params"], headers=headers, **kw)
    signed = next(api._make_auth().auth_flow(request))
    out.append({"method": signed.method, "url": str(signed.url),
                "authorization": signed.headers["Authorization"],
                "body": signed.content.decode("utf-8")})
json.dump(out, sys.stdout)
"#;

#[test]
fn the_netsuite_packages_headers_verify_with_their_body_hash() -> Result<()> {
    let Some(python) = python_peers::python() else {
        return Ok(());
    };
    let (cs, ts) = ("CS789&é", "TS 012+");
    let suiteql = |base: &str, q: &str| {
        json!({"base": base, "method": "POST", "subpath": "/query/v1/suiteql",
               "params": {"limit": 5, "offset": 0}, "headers": {"Prefer": "transient"},
               "json": {"q": q}})
    };
    let input = json!({
        "account": "1234567_SB1", "consumer_key": "CK123", "consumer_secret": cs,
        "token_id": "TK456", "token_secret": ts,
        "requests": [
            suiteql("", "SELECT id, tranid FROM transaction WHERE id = 1"),
            suiteql("http://127.0.0.1:18082",
                    "SELECT t.id FROM transaction t WHERE t.memo = 'Café & co' AND t.tranid LIKE '%PO+1%'"),
            {"base": "http://127.0.0.1:18082", "method": "GET",
             "subpath": "/record/v1/salesOrder/42", "params": {"expandSubResources": "true"},
             "headers": {}, "json": null},
            {"base": "http://127.0.0.1:18082", "method": "PATCH",
             "subpath": "/record/v1/purchaseOrder/7", "params": {"replace": "item"},
             "headers": {}, "json": {"custbody_dropgate_sent": true, "memo": "née"}},
        ],
    });
    let signed = python_peers::run(&python, NETSUITE_PACKAGE_SIGN, &input)?;
    let signed = signed.as_array().ok_or("a list")?;
    assert_eq!(signed.len(), 4);
    let mut hashed = 0;
    for r in signed {
        let method = r["method"].as_str().ok_or("method")?;
        let url = Url::parse(r["url"].as_str().ok_or("url")?)?;
        let body = r["body"].as_str().ok_or("body")?.as_bytes();
        let text = r["authorization"].as_str().ok_or("authorization")?;
        let context = format!("{method} {url}: {text}");
        let header = AuthHeader::parse(text)?;
        assert_eq!(header.realm.as_deref(), Some("1234567_SB1"), "{context}");
        assert_eq!(
            header.verify(method, &url, body, cs, ts),
            Ok(()),
            "{context}"
        );
        assert_eq!(
            header.verify(method, &one_byte_changed(&url), body, cs, ts),
            Err(TbaError::Signature),
            "{context}"
        );
        assert_eq!(
            header.verify(method, &url, body, cs, "TS 013+"),
            Err(TbaError::Signature),
            "{context}"
        );
        if header.get("oauth_body_hash").is_some() {
            hashed += 1;
            let mut other = body.to_vec();
            other.push(b' ');
            assert_eq!(
                header.verify(method, &url, &other, cs, ts),
                Err(TbaError::BodyHash),
                "{context}"
            );
        }
    }
    // The three requests with a body carry oauth_body_hash.
    assert_eq!(hashed, 3);
    Ok(())
}

// ---------------------------------------------------------------------
// The client assertion against PyJWT and cryptography

const AUD: &str =
    "https://1234567-sb1.suitetalk.api.netsuite.com/services/rest/auth/oauth2/v1/token";
const CLIENT: &str = "6a4c0f1e-client-id";

/// Makes keys and self-signed certificates with cryptography, and
/// assertions with PyJWT at `now`.
const PYJWT_MAKE: &str = r#"
import datetime, json, sys
import jwt
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID
c = json.load(sys.stdin)
def certificate(key):
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "dropgate test")])
    now = datetime.datetime.now(datetime.timezone.utc)
    return (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=365))
            .sign(key, hashes.SHA256())).public_bytes(serialization.Encoding.PEM).decode()
keys = {"rsa": rsa.generate_private_key(public_exponent=65537, key_size=3072),
        "rsa_other": rsa.generate_private_key(public_exponent=65537, key_size=3072),
        "p256": ec.generate_private_key(ec.SECP256R1()),
        "p256_other": ec.generate_private_key(ec.SECP256R1()),
        "p384": ec.generate_private_key(ec.SECP384R1())}
out = {"keys": {}, "tokens": {}}
for name, key in keys.items():
    out["keys"][name] = {
        "key": key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                 serialization.NoEncryption()).decode(),
        "cert": certificate(key)}
now = c["now"]
base = {"iss": c["client"], "scope": ["rest_webservices"], "aud": c["aud"], "iat": now, "exp": now + 600}
def token(name, key, alg, kid, **claims):
    out["tokens"][name] = jwt.encode({**base, **claims}, keys[key], algorithm=alg, headers={"kid": kid})
for alg in ["PS256", "PS384", "PS512"]:
    token(alg, "rsa", alg, "CERT-RSA")
token("ES256", "p256", "ES256", "CERT-P256")
token("ES384", "p384", "ES384", "CERT-P384")
token("RS256", "rsa", "RS256", "CERT-RSA")
token("expired", "rsa", "PS256", "CERT-RSA", iat=now - 1200, exp=now - 600)
token("wrong_aud", "rsa", "PS256", "CERT-RSA", aud="https://9999999.suitetalk.api.netsuite.com/services/rest/auth/oauth2/v1/token")
token("too_long", "rsa", "PS256", "CERT-RSA", exp=now + 3601)
token("no_scope", "rsa", "PS256", "CERT-RSA", scope="restlets")
token("scope_text", "p256", "ES256", "CERT-P256", scope="restlets,rest_webservices")
token("ec_under_rsa_kid", "p256", "ES256", "CERT-RSA")
json.dump(out, sys.stdout)
"#;

/// Checks assertions with PyJWT against the certificates given: the
/// header, and the claims PyJWT verified (signature, exp, iat, aud, iss).
const PYJWT_VERIFY: &str = r#"
import json, sys
import jwt
from cryptography import x509
c = json.load(sys.stdin)
out = []
for t in c["tokens"]:
    key = x509.load_pem_x509_certificate(t["cert"].encode()).public_key()
    try:
        claims = jwt.decode(t["jwt"], key, algorithms=[t["alg"]], audience=c["aud"],
                            issuer=c["client"], options={"require": ["exp", "iat", "iss", "aud"]})
        out.append({"header": jwt.get_unverified_header(t["jwt"]), "claims": claims})
    except jwt.InvalidTokenError as e:
        out.append({"refused": type(e).__name__})
json.dump(out, sys.stdout)
"#;

#[test]
fn our_assertions_verify_with_pyjwt_and_pyjwts_with_ours() -> Result<()> {
    let Some(python) = python_peers::python() else {
        return Ok(());
    };
    let made_at = unix_now() as i64;
    let made = python_peers::run(
        &python,
        PYJWT_MAKE,
        &json!({"now": made_at, "aud": AUD, "client": CLIENT}),
    )?;
    let pem = |name: &str, part: &str| -> Result<String> {
        Ok(made["keys"][name][part]
            .as_str()
            .ok_or("a PEM")?
            .to_string())
    };
    let cert =
        |name: &str| -> Result<Certificate> { Ok(Certificate::from_pem(&pem(name, "cert")?)?) };
    let certs: HashMap<&str, Certificate> = [
        ("CERT-RSA", cert("rsa")?),
        ("CERT-P256", cert("p256")?),
        ("CERT-P384", cert("p384")?),
    ]
    .into_iter()
    .collect();
    let other_rsa = cert("rsa_other")?;

    // Ours, checked by PyJWT (and refused by it under another certificate).
    let now = unix_now();
    let mut ours = Vec::new();
    for (name, kid, alg) in [("rsa", "CERT-RSA", "PS256"), ("p256", "CERT-P256", "ES256")] {
        let key = SigningKey::from_pem(&pem(name, "key")?)?;
        let jwt = sign_assertion(&key, CLIENT, kid, AUD, now)?;
        ours.push(json!({"jwt": jwt, "alg": alg, "cert": pem(name, "cert")?}));
        let other = format!("{name}_other");
        ours.push(json!({"jwt": jwt, "alg": alg, "cert": pem(&other, "cert")?}));
    }
    let checked = python_peers::run(
        &python,
        PYJWT_VERIFY,
        &json!({"tokens": ours, "aud": AUD, "client": CLIENT}),
    )?;
    let checked = checked.as_array().ok_or("a list")?;
    for (i, (kid, alg)) in [("CERT-RSA", "PS256"), ("CERT-P256", "ES256")]
        .into_iter()
        .enumerate()
    {
        let good = &checked[2 * i];
        assert_eq!(
            good["header"],
            json!({"alg": alg, "typ": "JWT", "kid": kid}),
            "{good}"
        );
        let claims = &good["claims"];
        assert_eq!(claims["iss"], CLIENT);
        assert_eq!(claims["aud"], AUD);
        assert_eq!(claims["scope"], json!(["rest_webservices"]));
        let (iat, exp) = (claims["iat"].as_i64(), claims["exp"].as_i64());
        assert_eq!(iat, Some(now as i64));
        assert!(exp > iat && exp <= iat.map(|i| i + 3600), "{claims}");
        // Another certificate's key: PyJWT refuses the signature.
        assert_eq!(
            checked[2 * i + 1],
            json!({"refused": "InvalidSignatureError"})
        );
    }

    // PyJWT's, checked by ours.
    let token = |name: &str| -> Result<String> {
        Ok(made["tokens"][name].as_str().ok_or("a token")?.to_string())
    };
    let check = |jwt: &str| verify_assertion(jwt, |kid| certs.get(kid), AUD, made_at);
    for (name, alg) in [
        ("PS256", "PS256"),
        ("PS384", "PS384"),
        ("PS512", "PS512"),
        ("ES256", "ES256"),
        ("ES384", "ES384"),
    ] {
        let claims = check(&token(name)?).map_err(|e| format!("{name}: {e}"))?;
        assert_eq!(claims.algorithm.name(), alg);
        assert_eq!(claims.iss, CLIENT);
        assert_eq!(claims.scope, vec!["rest_webservices"]);
        assert_eq!((claims.iat, claims.exp), (made_at, made_at + 600));
    }
    assert_eq!(
        check(&token("scope_text")?).map(|c| c.scope)?,
        vec!["restlets", "rest_webservices"]
    );
    assert_eq!(
        check(&token("RS256")?),
        Err(AssertionError::Pkcs1("RS256".into()))
    );
    assert_eq!(
        check(&token("expired")?),
        Err(AssertionError::Expired {
            exp: made_at - 600,
            now: made_at
        })
    );
    assert!(matches!(
        check(&token("wrong_aud")?),
        Err(AssertionError::Audience { expected, .. }) if expected == AUD
    ));
    assert_eq!(
        check(&token("too_long")?),
        Err(AssertionError::Lifetime {
            iat: made_at,
            exp: made_at + 3601
        })
    );
    assert!(matches!(
        check(&token("no_scope")?),
        Err(AssertionError::Scope(_))
    ));
    assert!(matches!(
        check(&token("ec_under_rsa_kid")?),
        Err(AssertionError::KeyMismatch { .. })
    ));
    // Another certificate under the kid: the signature is refused.
    let ps256 = token("PS256")?;
    assert_eq!(
        verify_assertion(&ps256, |_| Some(&other_rsa), AUD, made_at),
        Err(AssertionError::Signature("CERT-RSA".into()))
    );
    // A payload changed after signing.
    let parts: Vec<&str> = ps256.split('.').collect();
    let claims = String::from_utf8(B64URL.decode(parts[1])?)?;
    let forged = claims.replace(CLIENT, "another-client");
    assert_ne!(forged, claims);
    let tampered = format!("{}.{}.{}", parts[0], B64URL.encode(forged), parts[2]);
    assert_eq!(
        check(&tampered),
        Err(AssertionError::Signature("CERT-RSA".into()))
    );
    Ok(())
}

// ---------------------------------------------------------------------
// The token source against a token endpoint on 127.0.0.1

const CERT_ID: &str = "CERT-1";

/// An EC P-256 key and its self-signed certificate, by openssl.
fn key_and_certificate() -> Result<(SigningKey, Certificate)> {
    let dir = tempfile::tempdir()?;
    let out = std::process::Command::new("openssl")
        .current_dir(dir.path())
        .args(["req", "-new", "-x509", "-nodes", "-days", "2"])
        .args(["-subj", "/CN=dropgate test", "-newkey", "ec"])
        .args(["-pkeyopt", "ec_paramgen_curve:P-256"])
        .args(["-keyout", "key.pem", "-out", "cert.pem"])
        .output()?;
    if !out.status.success() {
        return Err(format!("openssl: {}", String::from_utf8_lossy(&out.stderr)).into());
    }
    Ok((
        SigningKey::from_pem(&std::fs::read_to_string(dir.path().join("key.pem"))?)?,
        Certificate::from_pem(&std::fs::read_to_string(dir.path().join("cert.pem"))?)?,
    ))
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Answer {
    Token,
    InvalidClient,
    NetSuiteError,
}

/// A token endpoint as NetSuite's: it checks the form and the assertion
/// (by the library's own verifier, against the certificate), counts the
/// requests, answers after `delay`, and gives `token-N` for the Nth.
struct Endpoint {
    certificate: Certificate,
    audience: Mutex<String>,
    answer: Answer,
    expires_in: Value,
    delay: Duration,
    requests: AtomicUsize,
    assertions: Mutex<Vec<String>>,
}

async fn token_endpoint(State(ep): State<Arc<Endpoint>>, body: Bytes) -> Response {
    let n = ep.requests.fetch_add(1, Ordering::SeqCst) + 1;
    tokio::time::sleep(ep.delay).await;
    let form: HashMap<String, String> = url::form_urlencoded::parse(&body).into_owned().collect();
    let refuse = |status: StatusCode, error: &str, description: String| {
        (
            status,
            axum::Json(json!({"error": error, "error_description": description})),
        )
            .into_response()
    };
    if form.get("grant_type").map(String::as_str) != Some("client_credentials")
        || form.get("client_assertion_type").map(String::as_str)
            != Some("urn:ietf:params:oauth:client-assertion-type:jwt-bearer")
    {
        return refuse(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            format!("{form:?}"),
        );
    }
    let assertion = form.get("client_assertion").cloned().unwrap_or_default();
    if let Ok(mut seen) = ep.assertions.lock() {
        seen.push(assertion.clone());
    }
    let audience = ep.audience.lock().map(|a| a.clone()).unwrap_or_default();
    let claims = verify_assertion(
        &assertion,
        |kid| (kid == CERT_ID).then_some(&ep.certificate),
        &audience,
        unix_now() as i64,
    );
    match (claims, ep.answer) {
        (Err(e), _) => refuse(StatusCode::BAD_REQUEST, "invalid_grant", e.to_string()),
        (Ok(_), Answer::InvalidClient) => refuse(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            "The client is not mapped to this certificate".into(),
        ),
        (Ok(_), Answer::NetSuiteError) => (
            StatusCode::SERVICE_UNAVAILABLE,
            axum::Json(json!({
                "type": "https://www.rfc-editor.org/rfc/rfc9110.html#section-15.6.4",
                "title": "Service Unavailable", "status": 503,
                "o:errorDetails": [{"detail": "The service is down for maintenance.",
                                    "o:errorCode": "UNEXPECTED_ERROR"}]})),
        )
            .into_response(),
        (Ok(c), Answer::Token) if c.iss == "CLIENT-1" => axum::Json(json!({
            "access_token": format!("token-{n}"),
            "token_type": "bearer",
            "expires_in": ep.expires_in,
        }))
        .into_response(),
        (Ok(_), Answer::Token) => refuse(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            "unknown iss".into(),
        ),
    }
}

/// Starts an endpoint on 127.0.0.1 and a token source for it.
async fn serve(answer: Answer, expires_in: Value) -> Result<(Arc<Endpoint>, Arc<TokenSource>)> {
    let (key, certificate) = key_and_certificate()?;
    let ep = Arc::new(Endpoint {
        certificate,
        audience: Mutex::new(String::new()),
        answer,
        expires_in,
        delay: Duration::from_millis(100),
        requests: AtomicUsize::new(0),
        assertions: Mutex::new(Vec::new()),
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let url = Url::parse(&format!(
        "http://{}/services/rest/auth/oauth2/v1/token",
        listener.local_addr()?
    ))?;
    *ep.audience.lock().map_err(|_| "poisoned")? = url.as_str().to_string();
    let app = axum::Router::new()
        .route(
            "/services/rest/auth/oauth2/v1/token",
            axum::routing::post(token_endpoint),
        )
        .with_state(ep.clone());
    tokio::spawn(async move { axum::serve(listener, app).await });
    let _ = rustls::crypto::ring::default_provider().install_default();
    let http = reqwest::Client::builder().build()?;
    let source = TokenSource::new(http, url, "CLIENT-1", CERT_ID, key);
    Ok((ep, Arc::new(source)))
}

/// `bearer()` from `n` tasks at once.
async fn many(
    source: &Arc<TokenSource>,
    n: usize,
) -> Vec<std::result::Result<AccessToken, TokenError>> {
    let tasks: Vec<_> = (0..n)
        .map(|_| {
            let source = source.clone();
            tokio::spawn(async move { source.bearer().await })
        })
        .collect();
    let mut out = Vec::new();
    for t in tasks {
        out.push(t.await.expect("the task ends"));
    }
    out
}

#[tokio::test]
async fn many_tasks_share_one_fetch_and_the_token_is_kept() -> Result<()> {
    let (ep, source) = serve(Answer::Token, json!("3600")).await?;
    let tokens = many(&source, 40).await;
    assert_eq!(ep.requests.load(Ordering::SeqCst), 1);
    for t in &tokens {
        assert_eq!(t.as_ref().map(AccessToken::as_str), Ok("token-1"));
    }
    // Kept: no second request.
    assert_eq!(source.bearer().await?.as_str(), "token-1");
    assert_eq!(ep.requests.load(Ordering::SeqCst), 1);
    // Neither the token nor the key shows.
    let shown = format!("{source:?} {:?}", tokens[0]);
    assert!(!shown.contains("token-1"), "{shown}");
    assert!(
        shown.contains("CLIENT-1") && shown.contains(CERT_ID),
        "{shown}"
    );
    Ok(())
}

#[tokio::test]
async fn a_token_is_renewed_before_it_expires() -> Result<()> {
    // 3 s of life: renewed a tenth of it before its end, at 2.7 s.
    let (ep, source) = serve(Answer::Token, json!(3)).await?;
    let start = tokio::time::Instant::now();
    assert_eq!(source.bearer().await?.as_str(), "token-1");
    assert_eq!(source.bearer().await?.as_str(), "token-1");
    // After the renewal point, before the token's end.
    tokio::time::sleep_until(start + Duration::from_millis(2850)).await;
    assert_eq!(source.bearer().await?.as_str(), "token-2");
    assert_eq!(ep.requests.load(Ordering::SeqCst), 2);
    // Each fetch signed a new assertion.
    let seen = ep.assertions.lock().map_err(|_| "poisoned")?.clone();
    assert_eq!(seen.len(), 2);
    Ok(())
}

#[tokio::test]
async fn a_refused_token_is_fetched_again_once() -> Result<()> {
    let (ep, source) = serve(Answer::Token, json!(3600)).await?;
    let first = source.bearer().await?;
    source.invalidate(&first);
    let second = source.bearer().await?;
    assert_eq!(second.as_str(), "token-2");
    // A task that saw the 401 of the old token later does not throw the
    // new one away.
    source.invalidate(&first);
    assert_eq!(source.bearer().await?, second);
    assert_eq!(ep.requests.load(Ordering::SeqCst), 2);
    Ok(())
}

#[tokio::test]
async fn invalid_client_is_reported_clearly_and_asked_once_for_all_waiting() -> Result<()> {
    let (ep, source) = serve(Answer::InvalidClient, json!(3600)).await?;
    let results = many(&source, 20).await;
    assert_eq!(ep.requests.load(Ordering::SeqCst), 1);
    let assertion = ep
        .assertions
        .lock()
        .map_err(|_| "poisoned")?
        .first()
        .cloned()
        .ok_or("an assertion came")?;
    for r in results {
        let e = r.expect_err("refused");
        assert!(
            matches!(&e, TokenError::Refused { status: 401, error, .. } if error == "invalid_client"),
            "{e:?}"
        );
        assert!(!e.is_transient());
        let message = e.to_string();
        assert!(
            message.contains("invalid_client")
                && message.contains("The client is not mapped to this certificate")
                && message.contains("certificate ID"),
            "{message}"
        );
        assert!(!message.contains(&assertion), "{message}");
    }
    // A later call asks again (the refusal may have been fixed).
    assert!(source.bearer().await.is_err());
    assert_eq!(ep.requests.load(Ordering::SeqCst), 2);
    Ok(())
}

#[tokio::test]
async fn a_netsuite_error_body_is_read() -> Result<()> {
    let (_ep, source) = serve(Answer::NetSuiteError, json!(3600)).await?;
    let e = source.bearer().await.expect_err("refused");
    assert!(
        matches!(&e, TokenError::Status { status: 503, detail, .. }
            if detail == "UNEXPECTED_ERROR: The service is down for maintenance."),
        "{e:?}"
    );
    assert!(e.is_transient());
    Ok(())
}
