//! The client assertion of OAuth 2.0 client credentials: a JWT signed with
//! the private key of the certificate uploaded to NetSuite, made by the
//! client ([`sign_assertion`]) and checked by the simulator against that
//! certificate ([`verify_assertion`]).
//!
//! The header is `{"alg","typ":"JWT","kid":<certificate ID>}`, the claims
//! `iss` (the client ID), `scope`, `aud` (the token endpoint), `iat` and
//! `exp`, at most 60 minutes after `iat` ("The Request Token Structure",
//! https://docs.oracle.com/en/cloud/saas/netsuite/ns-online-help/section_162790605110.html).

use std::borrow::Borrow;
use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64URL;
use ring::signature::{ECDSA_P256_SHA256_FIXED, ECDSA_P384_SHA384_FIXED, VerificationAlgorithm};
use rustls_pki_types::pem::{self, PemObject as _};
use rustls_pki_types::{
    AlgorithmIdentifier, CertificateDer, InvalidSignature, SignatureVerificationAlgorithm, alg_id,
};
use serde_json::{Map, Value, json};

use super::key::{Algorithm, KeyError, SigningKey};

/// The scope dropgate asks for and the simulator requires.
pub const SCOPE: &str = "rest_webservices";

/// The longest an assertion may live: Oracle says `exp` must be less
/// than 60 minutes after `iat`; we take 3600 s as the bound.
pub const MAX_LIFETIME_SECS: i64 = 3600;

/// How long the assertions dropgate makes live. It is used at once, so a
/// short life is enough, and it leaves room for a clock that is a few
/// minutes behind NetSuite's.
pub const ASSERTION_LIFETIME_SECS: u64 = 300;

/// How far in the future an `iat` may be (the clocks of the client and
/// the server differ a little).
pub const CLOCK_SKEW_SECS: i64 = 60;

/// The JWT of a client assertion for `client_id`, signed by `key`, whose
/// certificate NetSuite knows as `certificate_id`, for the token endpoint
/// `audience`, issued at `now` (Unix seconds).
pub fn sign_assertion(
    key: &SigningKey,
    client_id: &str,
    certificate_id: &str,
    audience: &str,
    now: u64,
) -> Result<String, KeyError> {
    let header = json!({"alg": key.algorithm().name(), "typ": "JWT", "kid": certificate_id});
    let claims = json!({
        "iss": client_id,
        "scope": [SCOPE],
        "aud": audience,
        "iat": now,
        "exp": now + ASSERTION_LIFETIME_SECS,
    });
    sign_jws(key, &header, &claims)
}

/// A compact JWS of `header` and `claims` signed by `key` (the header's
/// `alg` is the caller's to get right).
pub(crate) fn sign_jws(
    key: &SigningKey,
    header: &Value,
    claims: &Value,
) -> Result<String, KeyError> {
    let mut jwt = B64URL.encode(header.to_string());
    jwt.push('.');
    jwt.push_str(&B64URL.encode(claims.to_string()));
    let signature = key.sign(jwt.as_bytes())?;
    jwt.push('.');
    jwt.push_str(&B64URL.encode(signature));
    Ok(jwt)
}

/// What is wrong with a certificate.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum CertificateError {
    /// The text has no `BEGIN CERTIFICATE` section.
    #[error("no certificate in the PEM text (expected a `-----BEGIN CERTIFICATE-----` section)")]
    NoCertificate,
    /// The PEM framing is broken.
    #[error("the PEM text of the certificate is malformed: {0}")]
    Pem(&'static str),
    /// The DER is not an X.509 certificate.
    #[error("the certificate cannot be parsed: {0}")]
    Invalid(String),
}

/// The public part of a certificate uploaded to NetSuite, by which an
/// assertion is checked.
#[derive(Clone)]
pub struct Certificate {
    der: CertificateDer<'static>,
}

impl fmt::Debug for Certificate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Certificate")
            .field("der_len", &self.der.len())
            .finish()
    }
}

impl Certificate {
    /// Reads the first certificate of PEM text (other sections skipped).
    pub fn from_pem(text: &str) -> Result<Self, CertificateError> {
        let der = CertificateDer::from_pem_slice(text.as_bytes()).map_err(|e| match e {
            pem::Error::NoItemsFound => CertificateError::NoCertificate,
            pem::Error::MissingSectionEnd { .. } => {
                CertificateError::Pem("a section has no END line")
            }
            pem::Error::IllegalSectionStart { .. } => {
                CertificateError::Pem("a BEGIN line is malformed")
            }
            pem::Error::Base64Decode(_) => CertificateError::Pem("the base64 is broken"),
            _ => CertificateError::Pem("it cannot be read"),
        })?;
        Self::from_der(der.as_ref().to_vec())
    }

    /// A certificate from its DER.
    pub fn from_der(der: Vec<u8>) -> Result<Self, CertificateError> {
        let der = CertificateDer::from(der);
        webpki::EndEntityCert::try_from(&der)
            .map_err(|e| CertificateError::Invalid(e.to_string()))?;
        Ok(Self { der })
    }

    /// Checks a JWS signature of `message` made by the certificate's key
    /// with `alg`.
    fn verify(
        &self,
        alg: Algorithm,
        message: &[u8],
        signature: &[u8],
    ) -> Result<(), webpki::Error> {
        let cert = webpki::EndEntityCert::try_from(&self.der)?;
        cert.verify_signature(verification(alg), message, signature)
    }
}

/// webpki's check of a signature against a certificate's key, for each
/// JWS algorithm. webpki checks that the key is of the algorithm's kind.
fn verification(alg: Algorithm) -> &'static dyn SignatureVerificationAlgorithm {
    match alg {
        Algorithm::Ps256 => webpki::ring::RSA_PSS_2048_8192_SHA256_LEGACY_KEY,
        Algorithm::Ps384 => webpki::ring::RSA_PSS_2048_8192_SHA384_LEGACY_KEY,
        Algorithm::Ps512 => webpki::ring::RSA_PSS_2048_8192_SHA512_LEGACY_KEY,
        Algorithm::Es256 => &JWS_ES256,
        Algorithm::Es384 => &JWS_ES384,
    }
}

/// ECDSA as JWS writes it (the fixed-size `r‖s`, RFC 7518 §3.4), where
/// webpki's own ECDSA algorithms take the DER form of X.509.
#[derive(Debug)]
struct JwsEcdsa {
    key: AlgorithmIdentifier,
    signature: AlgorithmIdentifier,
    ring: &'static ring::signature::EcdsaVerificationAlgorithm,
}

static JWS_ES256: JwsEcdsa = JwsEcdsa {
    key: alg_id::ECDSA_P256,
    signature: alg_id::ECDSA_SHA256,
    ring: &ECDSA_P256_SHA256_FIXED,
};

static JWS_ES384: JwsEcdsa = JwsEcdsa {
    key: alg_id::ECDSA_P384,
    signature: alg_id::ECDSA_SHA384,
    ring: &ECDSA_P384_SHA384_FIXED,
};

impl SignatureVerificationAlgorithm for JwsEcdsa {
    fn verify_signature(
        &self,
        public_key: &[u8],
        message: &[u8],
        signature: &[u8],
    ) -> Result<(), InvalidSignature> {
        self.ring
            .verify(public_key.into(), message.into(), signature.into())
            .map_err(|_| InvalidSignature)
    }

    fn public_key_alg_id(&self) -> AlgorithmIdentifier {
        self.key
    }

    fn signature_alg_id(&self) -> AlgorithmIdentifier {
        self.signature
    }
}

/// What a verified assertion says.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Claims {
    /// The certificate ID of the header (`kid`).
    pub kid: String,
    /// The algorithm it was signed with.
    pub algorithm: Algorithm,
    /// The client ID (`iss`).
    pub iss: String,
    /// The scopes asked for.
    pub scope: Vec<String>,
    /// Issued at, Unix seconds.
    pub iat: i64,
    /// Expires at, Unix seconds.
    pub exp: i64,
}

/// Why an assertion is refused. The messages name the part or claim that
/// failed and never hold a key or the assertion.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum AssertionError {
    /// Not three base64url parts of JSON.
    #[error("the client assertion is not a JWT: {0}")]
    Malformed(&'static str),
    /// RSA PKCS#1 v1.5, which NetSuite no longer takes.
    #[error(
        "alg {0} (RSA PKCS#1 v1.5) is refused: NetSuite takes only PS256, PS384, PS512, ES256, ES384 or ES512"
    )]
    Pkcs1(String),
    /// Another algorithm that is not taken (`none`, HMAC, ES512).
    #[error("alg {0:?} is not one of PS256, PS384, PS512, ES256, ES384")]
    Algorithm(String),
    /// A header parameter is missing or not a string.
    #[error("the JWT header has no {0}")]
    MissingHeader(&'static str),
    /// `typ` is present and not `JWT`.
    #[error("the JWT header's typ {0:?} is not JWT")]
    Type(String),
    /// No certificate has that ID.
    #[error("kid {0:?} is not the ID of a known certificate")]
    UnknownKid(String),
    /// The certificate's key is not of the kind `alg` says.
    #[error("certificate {kid:?} does not hold a key for {alg}")]
    KeyMismatch {
        /// The certificate ID.
        kid: String,
        /// The algorithm of the header.
        alg: Algorithm,
    },
    /// The signature is not the certificate key's.
    #[error("the signature does not verify against certificate {0:?}")]
    Signature(String),
    /// A claim is missing.
    #[error("the claim {0} is missing")]
    MissingClaim(&'static str),
    /// A claim has the wrong type.
    #[error("the claim {claim} {why}")]
    BadClaim {
        /// The claim.
        claim: &'static str,
        /// What is wrong with it.
        why: &'static str,
    },
    /// `aud` is not the token endpoint.
    #[error("aud {found} is not the token endpoint {expected}")]
    Audience {
        /// The token endpoint.
        expected: String,
        /// The `aud` of the assertion, as JSON.
        found: String,
    },
    /// `exp` has passed.
    #[error("the assertion expired: exp {exp} is not after now ({now})")]
    Expired {
        /// `exp`.
        exp: i64,
        /// The verifier's clock.
        now: i64,
    },
    /// `exp` is not after `iat`, or too long after it.
    #[error("exp {exp} must be after iat {iat} and at most {MAX_LIFETIME_SECS} s after it")]
    Lifetime {
        /// `iat`.
        iat: i64,
        /// `exp`.
        exp: i64,
    },
    /// `iat` is in the future.
    #[error("iat {iat} is in the future (now {now}, {CLOCK_SKEW_SECS} s of skew allowed)")]
    IssuedInFuture {
        /// `iat`.
        iat: i64,
        /// The verifier's clock.
        now: i64,
    },
    /// `scope` does not ask for REST web services.
    #[error("the scope {0} does not contain {SCOPE}")]
    Scope(String),
}

/// Checks a client assertion as NetSuite's token endpoint does: `alg`
/// one of [`Algorithm::ALL`] (RS256 refused with its own error), `kid` a
/// certificate that `certificate` finds, the signature that
/// certificate's key's, `aud` equal to `audience` (a string, or an array
/// holding it), `iss` given, `exp` after `now` and at most
/// [`MAX_LIFETIME_SECS`] after `iat`, `iat` not after `now` by more than
/// [`CLOCK_SKEW_SECS`], and `scope` holding `rest_webservices` (an array,
/// or a string separated by commas or spaces). Which client the
/// certificate belongs to (`iss` against it) is the caller's to check.
pub fn verify_assertion<C: Borrow<Certificate>>(
    jwt: &str,
    certificate: impl FnOnce(&str) -> Option<C>,
    audience: &str,
    now: i64,
) -> Result<Claims, AssertionError> {
    let jwt = jwt.trim();
    let mut parts = jwt.split('.');
    let (Some(header_b64), Some(claims_b64), Some(signature_b64), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(AssertionError::Malformed(
            "it is not three parts joined by dots",
        ));
    };
    let header = decode_json(
        header_b64,
        "the header is not base64url",
        "the header is not a JSON object",
    )?;
    let alg = header
        .get("alg")
        .and_then(Value::as_str)
        .ok_or(AssertionError::MissingHeader("alg"))?;
    let algorithm = match Algorithm::from_name(alg) {
        Some(a) => a,
        None if matches!(alg, "RS256" | "RS384" | "RS512") => {
            return Err(AssertionError::Pkcs1(alg.to_string()));
        }
        None => return Err(AssertionError::Algorithm(alg.to_string())),
    };
    if let Some(typ) = header.get("typ") {
        match typ.as_str() {
            Some(t) if t.eq_ignore_ascii_case("JWT") => {}
            _ => return Err(AssertionError::Type(typ.to_string())),
        }
    }
    let kid = header
        .get("kid")
        .and_then(Value::as_str)
        .ok_or(AssertionError::MissingHeader("kid"))?;
    let cert = certificate(kid).ok_or_else(|| AssertionError::UnknownKid(kid.to_string()))?;
    let signature = B64URL
        .decode(signature_b64)
        .map_err(|_| AssertionError::Malformed("the signature is not base64url"))?;
    let signed = &jwt[..header_b64.len() + 1 + claims_b64.len()];
    cert.borrow()
        .verify(algorithm, signed.as_bytes(), &signature)
        .map_err(|e| match e {
            webpki::Error::UnsupportedSignatureAlgorithmForPublicKeyContext(_) => {
                AssertionError::KeyMismatch {
                    kid: kid.to_string(),
                    alg: algorithm,
                }
            }
            _ => AssertionError::Signature(kid.to_string()),
        })?;
    let claims = decode_json(
        claims_b64,
        "the claims are not base64url",
        "the claims are not a JSON object",
    )?;
    let iss = match claims.get("iss") {
        None => return Err(AssertionError::MissingClaim("iss")),
        Some(Value::String(s)) if !s.is_empty() => s.clone(),
        Some(_) => {
            return Err(AssertionError::BadClaim {
                claim: "iss",
                why: "is not a client ID (a non-empty string)",
            });
        }
    };
    check_audience(claims.get("aud"), audience)?;
    let iat = numeric_date(&claims, "iat")?;
    let exp = numeric_date(&claims, "exp")?;
    if exp <= iat || exp.saturating_sub(iat) > MAX_LIFETIME_SECS {
        return Err(AssertionError::Lifetime { iat, exp });
    }
    if exp <= now {
        return Err(AssertionError::Expired { exp, now });
    }
    if iat > now + CLOCK_SKEW_SECS {
        return Err(AssertionError::IssuedInFuture { iat, now });
    }
    let scope = scopes(claims.get("scope"))?;
    Ok(Claims {
        kid: kid.to_string(),
        algorithm,
        iss,
        scope,
        iat,
        exp,
    })
}

fn decode_json(
    part: &str,
    not_base64: &'static str,
    not_object: &'static str,
) -> Result<Map<String, Value>, AssertionError> {
    let bytes = B64URL
        .decode(part)
        .map_err(|_| AssertionError::Malformed(not_base64))?;
    match serde_json::from_slice(&bytes) {
        Ok(Value::Object(map)) => Ok(map),
        _ => Err(AssertionError::Malformed(not_object)),
    }
}

fn check_audience(aud: Option<&Value>, expected: &str) -> Result<(), AssertionError> {
    let matches = match aud {
        None => return Err(AssertionError::MissingClaim("aud")),
        Some(Value::String(s)) => s == expected,
        Some(Value::Array(items)) => items.iter().any(|v| v.as_str() == Some(expected)),
        Some(_) => false,
    };
    match (matches, aud) {
        (true, _) => Ok(()),
        (false, Some(found)) => Err(AssertionError::Audience {
            expected: expected.to_string(),
            found: found.to_string(),
        }),
        (false, None) => Err(AssertionError::MissingClaim("aud")),
    }
}

/// A NumericDate claim: seconds, a JSON number (a fraction is cut).
fn numeric_date(claims: &Map<String, Value>, claim: &'static str) -> Result<i64, AssertionError> {
    let value = claims
        .get(claim)
        .ok_or(AssertionError::MissingClaim(claim))?;
    value
        .as_i64()
        .or_else(|| value.as_f64().filter(|f| f.is_finite()).map(|f| f as i64))
        .ok_or(AssertionError::BadClaim {
            claim,
            why: "is not a number of seconds",
        })
}

fn scopes(scope: Option<&Value>) -> Result<Vec<String>, AssertionError> {
    let list: Vec<String> = match scope {
        None => return Err(AssertionError::MissingClaim("scope")),
        Some(Value::String(s)) => s
            .split(|c: char| c == ',' || c.is_whitespace())
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect(),
        Some(Value::Array(items)) => items
            .iter()
            .map(|v| v.as_str().map(str::to_string))
            .collect::<Option<_>>()
            .ok_or(AssertionError::BadClaim {
                claim: "scope",
                why: "is an array that holds something else than strings",
            })?,
        Some(_) => {
            return Err(AssertionError::BadClaim {
                claim: "scope",
                why: "is neither a string nor an array of strings",
            });
        }
    };
    if list.iter().any(|s| s == SCOPE) {
        Ok(list)
    } else {
        Err(AssertionError::Scope(
            scope.map(Value::to_string).unwrap_or_default(),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_keys;
    use super::*;

    const AUD: &str =
        "https://1234567-sb1.suitetalk.api.netsuite.com/services/rest/auth/oauth2/v1/token";
    const NOW: u64 = 1_796_536_424;

    struct Pair {
        key: SigningKey,
        cert: Certificate,
    }

    fn pair(made: (String, String)) -> Pair {
        Pair {
            key: SigningKey::from_pem(&made.0).expect("the test material is valid"),
            cert: Certificate::from_pem(&made.1).expect("the test material is valid"),
        }
    }

    fn verify(jwt: &str, cert: &Certificate, now: u64) -> Result<Claims, AssertionError> {
        verify_assertion(
            jwt,
            |kid| (kid == "CERT-1").then_some(cert),
            AUD,
            now as i64,
        )
    }

    /// A JWT with the given header and claims over the defaults.
    fn forged(key: &SigningKey, header: Value, claims: Value) -> String {
        let mut h = json!({"alg": key.algorithm().name(), "typ": "JWT", "kid": "CERT-1"});
        let mut c = json!({"iss": "CLIENT-1", "scope": ["rest_webservices"], "aud": AUD,
                           "iat": NOW, "exp": NOW + 300});
        for (base, over) in [(&mut h, header), (&mut c, claims)] {
            for (k, v) in over.as_object().expect("the test material is valid") {
                if v.is_null() {
                    base.as_object_mut()
                        .expect("the test material is valid")
                        .remove(k);
                } else {
                    base[k] = v.clone();
                }
            }
        }
        sign_jws(key, &h, &c).expect("the test material is valid")
    }

    #[test]
    fn an_assertion_verifies_against_its_certificate_with_rsa_and_ec() {
        for pair in [pair(test_keys::rsa()), pair(test_keys::p256())] {
            let jwt = sign_assertion(&pair.key, "CLIENT-1", "CERT-1", AUD, NOW)
                .expect("the test material is valid");
            let header: Value = serde_json::from_slice(
                &B64URL
                    .decode(jwt.split('.').next().expect("the test material is valid"))
                    .expect("the test material is valid"),
            )
            .expect("the test material is valid");
            assert_eq!(
                header,
                json!({"alg": pair.key.algorithm().name(), "typ": "JWT", "kid": "CERT-1"})
            );
            let claims = verify(&jwt, &pair.cert, NOW + 10).expect("the test material is valid");
            assert_eq!(
                claims,
                Claims {
                    kid: "CERT-1".into(),
                    algorithm: pair.key.algorithm(),
                    iss: "CLIENT-1".into(),
                    scope: vec!["rest_webservices".into()],
                    iat: NOW as i64,
                    exp: (NOW + ASSERTION_LIFETIME_SECS) as i64,
                }
            );
        }
    }

    #[test]
    fn each_wrong_part_is_refused_by_name() {
        let rsa = pair(test_keys::rsa());
        let ec = pair(test_keys::p256());
        let other = pair(test_keys::rsa());
        let good = forged(&rsa.key, json!({}), json!({}));
        assert!(verify(&good, &rsa.cert, NOW).is_ok());
        let cases: Vec<(String, &Certificate, AssertionError)> = vec![
            (
                forged(&rsa.key, json!({"alg": "RS256"}), json!({})),
                &rsa.cert,
                AssertionError::Pkcs1("RS256".into()),
            ),
            (
                forged(&rsa.key, json!({"alg": "none"}), json!({})),
                &rsa.cert,
                AssertionError::Algorithm("none".into()),
            ),
            (
                forged(&rsa.key, json!({"alg": "HS256"}), json!({})),
                &rsa.cert,
                AssertionError::Algorithm("HS256".into()),
            ),
            (
                forged(&rsa.key, json!({"kid": "CERT-2"}), json!({})),
                &rsa.cert,
                AssertionError::UnknownKid("CERT-2".into()),
            ),
            (
                forged(&rsa.key, json!({"kid": null}), json!({})),
                &rsa.cert,
                AssertionError::MissingHeader("kid"),
            ),
            (
                forged(&rsa.key, json!({"typ": "at+jwt"}), json!({})),
                &rsa.cert,
                AssertionError::Type("\"at+jwt\"".into()),
            ),
            (
                good.clone(),
                &other.cert,
                AssertionError::Signature("CERT-1".into()),
            ),
            (
                good.clone(),
                &ec.cert,
                AssertionError::KeyMismatch {
                    kid: "CERT-1".into(),
                    alg: Algorithm::Ps256,
                },
            ),
            (
                forged(&ec.key, json!({"alg": "PS256"}), json!({})),
                &ec.cert,
                AssertionError::KeyMismatch {
                    kid: "CERT-1".into(),
                    alg: Algorithm::Ps256,
                },
            ),
            (
                forged(
                    &rsa.key,
                    json!({}),
                    json!({"aud": "https://example.com/token"}),
                ),
                &rsa.cert,
                AssertionError::Audience {
                    expected: AUD.into(),
                    found: "\"https://example.com/token\"".into(),
                },
            ),
            (
                forged(&rsa.key, json!({}), json!({"aud": null})),
                &rsa.cert,
                AssertionError::MissingClaim("aud"),
            ),
            (
                forged(&rsa.key, json!({}), json!({"iss": null})),
                &rsa.cert,
                AssertionError::MissingClaim("iss"),
            ),
            (
                forged(
                    &rsa.key,
                    json!({}),
                    json!({"iat": NOW - 600, "exp": NOW - 1}),
                ),
                &rsa.cert,
                AssertionError::Expired {
                    exp: NOW as i64 - 1,
                    now: NOW as i64,
                },
            ),
            (
                forged(&rsa.key, json!({}), json!({"exp": NOW + 3601})),
                &rsa.cert,
                AssertionError::Lifetime {
                    iat: NOW as i64,
                    exp: NOW as i64 + 3601,
                },
            ),
            (
                forged(
                    &rsa.key,
                    json!({}),
                    json!({"iat": i64::MIN, "exp": i64::MAX}),
                ),
                &rsa.cert,
                AssertionError::Lifetime {
                    iat: i64::MIN,
                    exp: i64::MAX,
                },
            ),
            (
                forged(&rsa.key, json!({}), json!({"exp": NOW})),
                &rsa.cert,
                AssertionError::Lifetime {
                    iat: NOW as i64,
                    exp: NOW as i64,
                },
            ),
            (
                forged(
                    &rsa.key,
                    json!({}),
                    json!({"iat": NOW + 61, "exp": NOW + 300}),
                ),
                &rsa.cert,
                AssertionError::IssuedInFuture {
                    iat: NOW as i64 + 61,
                    now: NOW as i64,
                },
            ),
            (
                forged(&rsa.key, json!({}), json!({"exp": "soon"})),
                &rsa.cert,
                AssertionError::BadClaim {
                    claim: "exp",
                    why: "is not a number of seconds",
                },
            ),
            (
                forged(&rsa.key, json!({}), json!({"scope": ["restlets"]})),
                &rsa.cert,
                AssertionError::Scope("[\"restlets\"]".into()),
            ),
            (
                forged(&rsa.key, json!({}), json!({"scope": null})),
                &rsa.cert,
                AssertionError::MissingClaim("scope"),
            ),
            (
                "a.b".into(),
                &rsa.cert,
                AssertionError::Malformed("it is not three parts joined by dots"),
            ),
        ];
        for (jwt, cert, expected) in cases {
            let got = verify(&jwt, cert, NOW);
            assert_eq!(got.as_ref().err(), Some(&expected), "{jwt}");
            let message = expected.to_string();
            let signature = jwt.rsplit('.').next().unwrap_or_default();
            assert!(
                !message.contains(signature) || signature.len() < 4,
                "{message}"
            );
        }
    }

    #[test]
    fn a_tampered_payload_or_signature_does_not_verify() {
        let ec = pair(test_keys::p256());
        let jwt = sign_assertion(&ec.key, "CLIENT-1", "CERT-1", AUD, NOW)
            .expect("the test material is valid");
        let parts: Vec<&str> = jwt.split('.').collect();
        let claims =
            String::from_utf8(B64URL.decode(parts[1]).expect("the test material is valid"))
                .expect("the test material is valid");
        let changed = B64URL.encode(claims.replace("CLIENT-1", "CLIENT-2"));
        let tampered = format!("{}.{changed}.{}", parts[0], parts[2]);
        assert_eq!(
            verify(&tampered, &ec.cert, NOW),
            Err(AssertionError::Signature("CERT-1".into()))
        );
        let mut sig = B64URL.decode(parts[2]).expect("the test material is valid");
        sig[10] ^= 1;
        let flipped = format!("{}.{}.{}", parts[0], parts[1], B64URL.encode(sig));
        assert_eq!(
            verify(&flipped, &ec.cert, NOW),
            Err(AssertionError::Signature("CERT-1".into()))
        );
    }

    #[test]
    fn scopes_may_be_a_string_with_commas_or_spaces_and_aud_an_array() {
        let rsa = pair(test_keys::rsa());
        for scope in [
            json!("restlets,rest_webservices"),
            json!("restlets rest_webservices"),
        ] {
            let jwt = forged(&rsa.key, json!({}), json!({"scope": scope, "aud": [AUD]}));
            let claims = verify(&jwt, &rsa.cert, NOW).expect("the test material is valid");
            assert_eq!(claims.scope, vec!["restlets", "rest_webservices"]);
        }
    }

    #[test]
    fn a_certificate_must_be_one() {
        assert_eq!(
            Certificate::from_pem("nothing").expect_err("it is refused"),
            CertificateError::NoCertificate
        );
        let (key, _) = test_keys::p256();
        assert_eq!(
            Certificate::from_pem(&key).expect_err("it is refused"),
            CertificateError::NoCertificate
        );
        assert!(matches!(
            Certificate::from_der(vec![0x30, 0x03, 0x02, 0x01, 0x01]),
            Err(CertificateError::Invalid(_))
        ));
    }
}
