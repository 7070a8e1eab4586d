//! `[as2]`: the gateway's AS2 server and its side of every partnership
//! (its AS2 identifier, certificate and key); the partnerships themselves
//! are `as2` channels (`transport::as2`).

use std::path::PathBuf;

use serde::Deserialize;

use crate::transport::as2::Ours;

/// The `[as2]` table.
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct As2Server {
    /// Where partners POST their messages (`/as2` there): `127.0.0.1:4080`
    /// by default; put a TLS proxy in front for partners elsewhere.
    #[serde(default = "default_listen")]
    pub listen: String,
    /// Our AS2 identifier (the AS2-To of what partners send us).
    pub as2_id: String,
    /// Our certificate (PEM or DER), the one partners are given.
    pub certificate: PathBuf,
    /// Our private key (PEM, PKCS#8 or PKCS#1): signs what we send and our
    /// MDNs, decrypts what partners send.
    pub private_key: PathBuf,
    /// The largest message taken, in MB (64 by default); a larger one is
    /// answered with an error MDN.
    #[serde(default = "default_max_body_mb")]
    pub max_body_mb: u64,
    /// Where partners post asynchronous MDNs for what we send (our
    /// `Receipt-Delivery-Option`): `http://LISTEN/as2/mdn` by default;
    /// the URL partners reach it at when a proxy is in front.
    #[serde(default)]
    pub mdn_url: Option<String>,
}

fn default_listen() -> String {
    "127.0.0.1:4080".into()
}

const fn default_max_body_mb() -> u64 {
    64
}

impl As2Server {
    /// Our side, for the partnerships.
    pub fn ours(&self) -> Ours {
        Ours {
            as2_id: self.as2_id.clone(),
            certificate: self.certificate.clone(),
            private_key: self.private_key.clone(),
            mdn_url: self
                .mdn_url
                .clone()
                .unwrap_or_else(|| format!("http://{}/as2/mdn", self.listen)),
        }
    }

    /// The largest body taken, in bytes.
    pub fn max_body_bytes(&self) -> usize {
        usize::try_from(self.max_body_mb.saturating_mul(1 << 20)).unwrap_or(usize::MAX)
    }
}
