//! The `[netsuite]` table of `gateway.toml`: the account, how requests are
//! authenticated (token-based authentication; its four secrets each from
//! an environment variable or a file, never in the configuration), how
//! many requests may run at once, and how long one may take.
//!
//! ```toml
//! [netsuite]
//! account = "1234567_SB1"
//! concurrency = 5
//!
//! [netsuite.auth]
//! method = "tba"
//! consumer_key_env = "NS_CONSUMER_KEY"
//! consumer_secret_file = "/etc/dropgate/ns-consumer-secret"
//! token_id_env = "NS_TOKEN_ID"
//! token_secret_file = "/etc/dropgate/ns-token-secret"
//! ```

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;
use url::Url;

use super::client::{self, Auth, ClientConfig, Retry};
use super::error::NetSuiteError;
use super::tba;
use crate::transport::secret::{self, Keys};

/// The `[netsuite]` table.
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct NetSuiteConfig {
    /// The account ID as NetSuite shows it (`1234567`, `1234567_SB1`):
    /// the realm of every signature and, unless `base_url` is set, the
    /// host.
    pub account: String,
    /// Where the REST services are, when not at the account's own host
    /// (the simulator: `http://127.0.0.1:18082`).
    #[serde(default)]
    pub base_url: Option<String>,
    /// Requests at once, at most: the account's concurrency limit (or the
    /// integration's) less what other integrations use.
    /// `"auto"`: as NetSuite's governance limits say (read at start).
    #[serde(default = "default_concurrency")]
    pub concurrency: ConcurrencySetting,
    /// How long one request may take, in seconds.
    #[serde(default = "default_timeout_secs")]
    pub timeout_secs: u64,
    /// How often the purchase orders are looked for, in seconds (when
    /// `[netsuite.flows] purchase_orders` is on for some partner).
    #[serde(default = "default_poll_secs")]
    pub poll_secs: u64,
    /// How requests are authenticated.
    pub auth: AuthConfig,
    /// Which documents go to NetSuite (`[netsuite.flows]`; a partner
    /// file's `[netsuite]` may turn one off or on for its partner).
    #[serde(default)]
    pub flows: Flows,
    /// The RESTlet inventory is written through (`[netsuite.inventory]`).
    #[serde(default)]
    pub inventory: InventoryRestlet,
}

/// `[netsuite.inventory]`: the inventory RESTlet
/// (`netsuite/restlets/dropgate_inventory.js`) as deployed in the account,
/// and how many items go in one request.
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
#[serde(default, deny_unknown_fields)]
pub struct InventoryRestlet {
    /// The script's ID.
    pub script: String,
    /// The deployment's ID.
    pub deploy: String,
    /// Items per request.
    pub batch: usize,
}

impl Default for InventoryRestlet {
    fn default() -> Self {
        InventoryRestlet {
            script: "customscript_dropgate_inventory".into(),
            deploy: "customdeploy_dropgate_inventory".into(),
            batch: 200,
        }
    }
}

/// `[netsuite.flows]`: which documents received go to NetSuite, for every
/// partner unless its file says otherwise. All off by default.
#[derive(Clone, Copy, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(default, deny_unknown_fields)]
pub struct Flows {
    /// Each ship notice becomes item fulfillments.
    pub ship_notices: bool,
    /// Each invoice (810 or PDF) becomes a vendor bill, once reconciled
    /// (an invoice held waits until it is released).
    pub invoices: bool,
    /// Each purchase order acknowledgment (855) writes the vendor's
    /// answer to each line onto the purchase order.
    pub po_acks: bool,
    /// Each inventory report (846, or a stock feed) writes the vendor's
    /// quantities onto the items, through the inventory RESTlet, a batch
    /// of items a request.
    pub inventory: bool,
    /// The drop-ship purchase orders NetSuite makes for a partner's vendor
    /// (its file's `[netsuite] vendor`) are sent to the partner, in its
    /// format and on its channel, and marked sent in NetSuite.
    pub purchase_orders: bool,
}

/// A partner file's `[netsuite]` table.
#[derive(Clone, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct PartnerNetSuite {
    /// The vendor's internal ID in NetSuite: purchase orders are looked
    /// up among this vendor's (two vendors may use the same PO numbers).
    #[serde(default)]
    pub vendor: Option<String>,
    /// Ship notices to NetSuite, or not, for this partner (default: as
    /// `[netsuite.flows]` says).
    #[serde(default)]
    pub ship_notices: Option<bool>,
    /// Invoices to NetSuite, or not, for this partner.
    #[serde(default)]
    pub invoices: Option<bool>,
    /// Acknowledgments to NetSuite, or not, for this partner.
    #[serde(default)]
    pub po_acks: Option<bool>,
    /// Inventory to NetSuite, or not, for this partner.
    #[serde(default)]
    pub inventory: Option<bool>,
    /// Purchase orders from NetSuite, or not, for this partner.
    #[serde(default)]
    pub purchase_orders: Option<bool>,
}

impl PartnerNetSuite {
    /// Whether the vendor's purchase orders are sent to this partner.
    pub fn sends_orders(&self, account: &Flows) -> bool {
        self.vendor.is_some() && self.purchase_orders.unwrap_or(account.purchase_orders)
    }
}

/// The document types a flow takes.
pub const FLOW_DOCUMENTS: [crate::model::DocumentType; 4] = [
    crate::model::DocumentType::ShipNotice,
    crate::model::DocumentType::Invoice,
    crate::model::DocumentType::PoAck,
    crate::model::DocumentType::InventoryAdvice,
];

impl NetSuiteConfig {
    /// Whether documents of `doc_type` from a partner with `partner`'s
    /// `[netsuite]` table go to NetSuite.
    pub fn takes(
        &self,
        doc_type: crate::model::DocumentType,
        partner: Option<&PartnerNetSuite>,
    ) -> bool {
        use crate::model::DocumentType;
        let (account, own) = match doc_type {
            DocumentType::ShipNotice => (
                self.flows.ship_notices,
                partner.and_then(|p| p.ship_notices),
            ),
            DocumentType::Invoice => (self.flows.invoices, partner.and_then(|p| p.invoices)),
            DocumentType::PoAck => (self.flows.po_acks, partner.and_then(|p| p.po_acks)),
            DocumentType::InventoryAdvice => {
                (self.flows.inventory, partner.and_then(|p| p.inventory))
            }
            _ => return false,
        };
        own.unwrap_or(account)
    }

    /// Whether any flow may take documents of this partner.
    pub fn takes_any(&self, partner: Option<&PartnerNetSuite>) -> bool {
        FLOW_DOCUMENTS.iter().any(|t| self.takes(*t, partner))
    }
}

const fn default_concurrency() -> ConcurrencySetting {
    ConcurrencySetting(super::client::Concurrency::Fixed(5))
}

/// `concurrency = 5` or `concurrency = "auto"`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(try_from = "RawConcurrency")]
pub struct ConcurrencySetting(pub super::client::Concurrency);

#[derive(Deserialize)]
#[serde(untagged)]
enum RawConcurrency {
    Number(i64),
    Text(String),
}

impl TryFrom<RawConcurrency> for ConcurrencySetting {
    type Error = String;
    fn try_from(raw: RawConcurrency) -> Result<Self, String> {
        use super::client::Concurrency;
        match raw {
            RawConcurrency::Number(n) if n >= 1 => Ok(ConcurrencySetting(Concurrency::Fixed(
                usize::try_from(n).map_err(|_| format!("concurrency {n} is too large"))?,
            ))),
            RawConcurrency::Number(n) => Err(format!("concurrency {n}: at least 1, or \"auto\"")),
            RawConcurrency::Text(t) if t == "auto" => Ok(ConcurrencySetting(Concurrency::Auto)),
            RawConcurrency::Text(t) => Err(format!("concurrency {t:?}: a number, or \"auto\"")),
        }
    }
}
const fn default_timeout_secs() -> u64 {
    60
}
const fn default_poll_secs() -> u64 {
    60
}

/// `[netsuite.auth]`: where each secret is.
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
#[serde(tag = "method", rename_all = "snake_case", deny_unknown_fields)]
pub enum AuthConfig {
    /// Token-based authentication: the integration record's consumer key
    /// and secret, and the access token's ID and secret.
    Tba {
        /// The variable holding the consumer key.
        #[serde(default)]
        consumer_key_env: Option<String>,
        /// Or the file.
        #[serde(default)]
        consumer_key_file: Option<PathBuf>,
        /// The variable holding the consumer secret.
        #[serde(default)]
        consumer_secret_env: Option<String>,
        /// Or the file.
        #[serde(default)]
        consumer_secret_file: Option<PathBuf>,
        /// The variable holding the token ID.
        #[serde(default)]
        token_id_env: Option<String>,
        /// Or the file.
        #[serde(default)]
        token_id_file: Option<PathBuf>,
        /// The variable holding the token secret.
        #[serde(default)]
        token_secret_env: Option<String>,
        /// Or the file.
        #[serde(default)]
        token_secret_file: Option<PathBuf>,
    },
    /// OAuth 2.0 client credentials (machine to machine): the integration
    /// record's client ID, the certificate's ID from the M2M setup, and
    /// its private key (PEM).
    #[serde(rename = "oauth2")]
    OAuth2 {
        /// The variable holding the client ID.
        #[serde(default)]
        client_id_env: Option<String>,
        /// Or the file.
        #[serde(default)]
        client_id_file: Option<PathBuf>,
        /// The certificate ID NetSuite shows once the certificate is
        /// uploaded (not a secret).
        certificate_id: String,
        /// The variable holding the private key (PEM).
        #[serde(default)]
        private_key_env: Option<String>,
        /// Or the file (as `openssl req -newkey … -keyout` writes it).
        #[serde(default)]
        private_key_file: Option<PathBuf>,
    },
}

/// What a secret of `[netsuite.auth]` is called, and its two keys.
struct SecretKeys {
    name: &'static str,
    keys: Keys,
}

const CONSUMER_KEY: SecretKeys = SecretKeys {
    name: "the consumer key",
    keys: Keys {
        env: "consumer_key_env",
        file: "consumer_key_file",
    },
};
const CONSUMER_SECRET: SecretKeys = SecretKeys {
    name: "the consumer secret",
    keys: Keys {
        env: "consumer_secret_env",
        file: "consumer_secret_file",
    },
};
const TOKEN_ID: SecretKeys = SecretKeys {
    name: "the token ID",
    keys: Keys {
        env: "token_id_env",
        file: "token_id_file",
    },
};
const CLIENT_ID: SecretKeys = SecretKeys {
    name: "the client ID",
    keys: Keys {
        env: "client_id_env",
        file: "client_id_file",
    },
};
const PRIVATE_KEY: SecretKeys = SecretKeys {
    name: "the private key",
    keys: super::oauth2::key::PRIVATE_KEY,
};
const TOKEN_SECRET: SecretKeys = SecretKeys {
    name: "the token secret",
    keys: Keys {
        env: "token_secret_env",
        file: "token_secret_file",
    },
};

/// A secret of the configuration that cannot be read, or a value that
/// cannot work; the message says where, never what a secret is.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("[netsuite] {0}")]
pub struct ConfigProblem(pub String);

fn read_secret(
    what: &SecretKeys,
    env: Option<&str>,
    file: Option<&Path>,
) -> Result<String, ConfigProblem> {
    match secret::read_as(what.keys, env, file) {
        Ok(Some(s)) => Ok(s),
        Ok(None) => Err(ConfigProblem(format!(
            "{}: set {} or {}",
            what.name, what.keys.env, what.keys.file
        ))),
        Err(e) => Err(ConfigProblem(format!("{}: {e}", what.name))),
    }
}

/// Checks one secret: configured once and readable. True when it is.
fn check_secret(
    what: &SecretKeys,
    env: Option<&str>,
    file: Option<&Path>,
    problems: &mut Vec<ConfigProblem>,
) -> bool {
    if env.is_some() && file.is_some() {
        problems.push(ConfigProblem(format!(
            "{}: {} and {} are both set; keep one",
            what.name, what.keys.env, what.keys.file
        )));
        return false;
    }
    match read_secret(what, env, file) {
        Ok(_) => true,
        Err(e) => {
            problems.push(e);
            false
        }
    }
}

/// The private key of `[netsuite.auth]`, read and parsed.
fn signing_key(
    env: Option<&str>,
    file: Option<&Path>,
) -> Result<super::oauth2::SigningKey, ConfigProblem> {
    super::oauth2::SigningKey::read(PRIVATE_KEY.keys, env, file)
        .map_err(|e| ConfigProblem(format!("the private key: {e}")))
}

impl NetSuiteConfig {
    /// Resolves the secret files' paths against the configuration's
    /// folder (`resolve`).
    pub fn resolve_paths(&mut self, resolve: impl Fn(&Path) -> PathBuf) {
        match &mut self.auth {
            AuthConfig::Tba {
                consumer_key_file,
                consumer_secret_file,
                token_id_file,
                token_secret_file,
                ..
            } => {
                for f in [
                    consumer_key_file,
                    consumer_secret_file,
                    token_id_file,
                    token_secret_file,
                ] {
                    *f = f.as_deref().map(&resolve);
                }
            }
            AuthConfig::OAuth2 {
                client_id_file,
                private_key_file,
                ..
            } => {
                for f in [client_id_file, private_key_file] {
                    *f = f.as_deref().map(&resolve);
                }
            }
        }
    }

    /// Checks what can be checked without NetSuite: the account ID, the
    /// URL, the numbers, and that every secret is configured once and can
    /// be read. Every problem found, in order.
    pub fn check(&self) -> Vec<ConfigProblem> {
        self.check_keyed().into_iter().map(|(_, p)| p).collect()
    }

    /// [`NetSuiteConfig::check`], each problem with the key of
    /// `[netsuite]` it is about (`auth` for `[netsuite.auth]`), for
    /// messages that point at the line.
    pub fn check_keyed(&self) -> Vec<(&'static str, ConfigProblem)> {
        let mut out = Vec::new();
        if let Err(e) = self.base_url() {
            let key = if self.base_url.is_some() {
                "base_url"
            } else {
                "account"
            };
            out.push((key, ConfigProblem(e.to_string())));
        }
        if self.timeout_secs == 0 {
            out.push((
                "timeout_secs",
                ConfigProblem("timeout_secs must be at least 1".into()),
            ));
        }
        if self.poll_secs == 0 {
            out.push((
                "poll_secs",
                ConfigProblem("poll_secs must be at least 1".into()),
            ));
        }
        if self.inventory.batch == 0 || self.inventory.batch > 1000 {
            out.push((
                "inventory",
                ConfigProblem("[netsuite.inventory] batch is 1 to 1000 items a request".into()),
            ));
        }
        let mut problems = Vec::new();
        match &self.auth {
            AuthConfig::Tba {
                consumer_key_env,
                consumer_key_file,
                consumer_secret_env,
                consumer_secret_file,
                token_id_env,
                token_id_file,
                token_secret_env,
                token_secret_file,
            } => {
                for (what, env, file) in [
                    (&CONSUMER_KEY, consumer_key_env, consumer_key_file),
                    (&CONSUMER_SECRET, consumer_secret_env, consumer_secret_file),
                    (&TOKEN_ID, token_id_env, token_id_file),
                    (&TOKEN_SECRET, token_secret_env, token_secret_file),
                ] {
                    check_secret(what, env.as_deref(), file.as_deref(), &mut problems);
                }
            }
            AuthConfig::OAuth2 {
                client_id_env,
                client_id_file,
                certificate_id,
                private_key_env,
                private_key_file,
            } => {
                check_secret(
                    &CLIENT_ID,
                    client_id_env.as_deref(),
                    client_id_file.as_deref(),
                    &mut problems,
                );
                if certificate_id.trim().is_empty() {
                    problems.push(ConfigProblem(
                        "certificate_id is empty: it is the ID NetSuite shows for the uploaded certificate".into(),
                    ));
                }
                if check_secret(
                    &PRIVATE_KEY,
                    private_key_env.as_deref(),
                    private_key_file.as_deref(),
                    &mut problems,
                ) && let Err(e) =
                    signing_key(private_key_env.as_deref(), private_key_file.as_deref())
                {
                    problems.push(e);
                }
            }
        }
        out.extend(problems.into_iter().map(|p| ("auth", p)));
        out
    }

    /// Where the REST services are.
    pub fn base_url(&self) -> Result<Url, NetSuiteError> {
        match &self.base_url {
            None => client::account_url(&self.account),
            Some(u) => {
                let url = Url::parse(u)
                    .map_err(|e| NetSuiteError::Request(format!("base_url {u:?}: {e}")))?;
                if !matches!(url.scheme(), "http" | "https") {
                    return Err(NetSuiteError::Request(format!(
                        "base_url {u:?} is not an http:// or https:// URL"
                    )));
                }
                Ok(url)
            }
        }
    }

    /// The client's settings, with the secrets read now.
    pub fn client_config(&self) -> Result<ClientConfig, ConfigProblem> {
        let auth = match &self.auth {
            AuthConfig::Tba {
                consumer_key_env,
                consumer_key_file,
                consumer_secret_env,
                consumer_secret_file,
                token_id_env,
                token_id_file,
                token_secret_env,
                token_secret_file,
            } => Auth::Tba(tba::Credentials {
                realm: self.account.clone(),
                consumer_key: read_secret(
                    &CONSUMER_KEY,
                    consumer_key_env.as_deref(),
                    consumer_key_file.as_deref(),
                )?,
                consumer_secret: read_secret(
                    &CONSUMER_SECRET,
                    consumer_secret_env.as_deref(),
                    consumer_secret_file.as_deref(),
                )?,
                token_id: read_secret(
                    &TOKEN_ID,
                    token_id_env.as_deref(),
                    token_id_file.as_deref(),
                )?,
                token_secret: read_secret(
                    &TOKEN_SECRET,
                    token_secret_env.as_deref(),
                    token_secret_file.as_deref(),
                )?,
            }),
            AuthConfig::OAuth2 {
                client_id_env,
                client_id_file,
                certificate_id,
                private_key_env,
                private_key_file,
            } => Auth::OAuth2 {
                client_id: read_secret(
                    &CLIENT_ID,
                    client_id_env.as_deref(),
                    client_id_file.as_deref(),
                )?,
                certificate_id: certificate_id.trim().to_string(),
                key: std::sync::Arc::new(signing_key(
                    private_key_env.as_deref(),
                    private_key_file.as_deref(),
                )?),
            },
        };
        let base_url = self.base_url().map_err(|e| ConfigProblem(e.to_string()))?;
        // With base_url set (a simulator, a proxy), RESTlets are there too.
        let restlet_url = match &self.base_url {
            Some(_) => base_url.clone(),
            None => super::client::restlet_url(&self.account)
                .map_err(|e| ConfigProblem(e.to_string()))?,
        };
        Ok(ClientConfig {
            base_url,
            restlet_url,
            auth,
            concurrency: self.concurrency.0,
            timeout: Duration::from_secs(self.timeout_secs.max(1)),
            retry: Retry::default(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> NetSuiteConfig {
        toml::from_str(text).expect("test input")
    }

    #[test]
    fn secrets_are_read_from_files_and_named_not_shown_when_missing() {
        let dir = tempfile::tempdir().expect("test input");
        for (name, value) in [
            ("ck", "CK123"),
            ("cs", "CS789"),
            ("ti", "TK456"),
            ("ts", "TS012"),
        ] {
            std::fs::write(dir.path().join(name), format!("{value}\n")).expect("test input");
        }
        let mut c = parse(
            r#"account = "1234567_SB1"
               [auth]
               method = "tba"
               consumer_key_file = "ck"
               consumer_secret_file = "cs"
               token_id_file = "ti"
               token_secret_file = "ts""#,
        );
        c.resolve_paths(|p| dir.path().join(p));
        assert_eq!(c.check(), vec![]);
        let client = c.client_config().expect("test input");
        let Auth::Tba(creds) = &client.auth else {
            panic!("TBA configured, {:?} made", client.auth);
        };
        assert_eq!(creds.realm, "1234567_SB1");
        assert_eq!(creds.token_secret, "TS012");
        assert_eq!(
            client.base_url.as_str(),
            "https://1234567-sb1.suitetalk.api.netsuite.com/"
        );
        assert_eq!(
            client.concurrency,
            super::super::client::Concurrency::Fixed(5)
        );

        std::fs::remove_file(dir.path().join("ts")).expect("test input");
        let problems = c.check();
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(
            problems[0]
                .0
                .starts_with("the token secret: reading token_secret_file"),
            "{problems:?}"
        );
    }

    #[test]
    fn concurrency_is_a_number_or_auto() {
        use super::super::client::Concurrency;
        let c = |v: &str| {
            toml::from_str::<NetSuiteConfig>(&format!(
                "account = \"1\"\nconcurrency = {v}\n[auth]\nmethod = \"tba\""
            ))
            .map(|c| c.concurrency.0)
            .map_err(|e| e.to_string())
        };
        assert_eq!(c("15"), Ok(Concurrency::Fixed(15)));
        assert_eq!(c("\"auto\""), Ok(Concurrency::Auto));
        assert!(c("0").expect_err("zero").contains("at least 1"));
        assert!(
            c("\"many\"")
                .expect_err("text")
                .contains("a number, or \"auto\"")
        );
    }

    #[test]
    fn oauth2_needs_a_client_id_a_certificate_id_and_a_key_that_parses() {
        let dir = tempfile::tempdir().expect("dir");
        std::fs::write(dir.path().join("client"), "CLIENT-1\n").expect("write");
        std::fs::write(
            dir.path().join("key.pem"),
            "-----BEGIN PRIVATE KEY-----\nnot a key\n-----END PRIVATE KEY-----\n",
        )
        .expect("write");
        let mut c = parse(
            r#"account = "1234567"
               [auth]
               method = "oauth2"
               client_id_file = "client"
               certificate_id = " "
               private_key_file = "key.pem""#,
        );
        c.resolve_paths(|p| dir.path().join(p));
        let problems: Vec<String> = c.check().into_iter().map(|p| p.to_string()).collect();
        assert_eq!(problems.len(), 2, "{problems:?}");
        assert!(
            problems[0].contains("certificate_id is empty"),
            "{problems:?}"
        );
        assert!(
            problems[1].starts_with("[netsuite] the private key: "),
            "{problems:?}"
        );
        assert!(
            !problems[1].contains("not a key"),
            "the key's text is never shown: {problems:?}"
        );
    }

    #[test]
    fn a_secret_set_twice_or_not_at_all_and_bad_numbers_are_problems() {
        let c = parse(
            r#"account = "1234567"
               base_url = "ftp://x"
               [auth]
               method = "tba"
               consumer_key_env = "DG_TEST_UNSET_1"
               consumer_key_file = "x"
               consumer_secret_env = "DG_TEST_UNSET_2""#,
        );
        let problems: Vec<String> = c.check().into_iter().map(|p| p.to_string()).collect();
        assert_eq!(
            problems,
            vec![
                "[netsuite] base_url \"ftp://x\" is not an http:// or https:// URL",
                "[netsuite] the consumer key: consumer_key_env and consumer_key_file are both set; keep one",
                "[netsuite] the consumer secret: the environment variable DG_TEST_UNSET_2 (consumer_secret_env) is not set",
                "[netsuite] the token ID: set token_id_env or token_id_file",
                "[netsuite] the token secret: set token_secret_env or token_secret_file",
            ]
        );
    }
}
