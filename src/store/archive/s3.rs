//! The archive in an S3-compatible bucket (`[archive] url =
//! "s3://bucket/prefix"`): received files under `PREFIX/archive/HASH`,
//! document packs under `PREFIX/documents/HASH.jsonl`, through the
//! `object_store` client on the archive's own runtime ([`super::bridge`]).
//!
//! A file is kept when the bucket has answered its PUT (a file larger than
//! a part goes by a multipart upload, a part at a time from its local
//! copy, two parts in flight); the same bytes under the same key make a
//! retried upload harmless. Reading back goes by ranges: a large file is
//! copied into an unnamed temporary file of the data directory, a
//! document or a delivery's documents are read a range at a time, never
//! the whole object into memory. A request that fails (after the client's
//! few retries) is an error naming the bucket and the key, and the caller
//! tries again later.

use std::io::{self, Read, Write};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use object_store::aws::AmazonS3Builder;
use object_store::path::Path as Key;
use object_store::{ClientOptions, ObjectStore, ObjectStoreExt, PutPayload, RetryConfig};
use serde::Deserialize;
use sha2::{Digest, Sha256};

use super::bridge::Bridge;
use super::{Incoming, LocalCopy, Sealed, hex, local};
use crate::store::{Extent, StoreError};

/// The folder of the data directory where document packs are written
/// before they go to the bucket.
pub const STAGING: &str = "staging";

/// The size of a multipart upload's parts and of a ranged read.
const PART: u64 = 8 << 20;

/// Parts of one upload sent at the same time.
const PARTS_IN_FLIGHT: usize = 2;

/// Files of a batch uploaded at the same time.
const PUTS_IN_FLIGHT: usize = 8;

/// An upload under way: its key (relative to the prefix) and its task.
type Pending = (String, tokio::task::JoinHandle<object_store::Result<()>>);

/// The `[archive]` table of `gateway.toml`: where received files and
/// document packs are kept. Without `url`, in the data directory.
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct ArchiveConfig {
    /// `s3://bucket` or `s3://bucket/prefix`: an S3-compatible bucket.
    #[serde(default)]
    pub url: Option<String>,
    /// The service's address, like `https://minio.example:9000` (default:
    /// AWS S3 in `region`).
    #[serde(default)]
    pub endpoint: Option<String>,
    /// The bucket's region (default `us-east-1`).
    #[serde(default = "default_region")]
    pub region: String,
    /// Path-style requests (`endpoint/bucket/key`) rather than
    /// virtual-hosted ones (`bucket.endpoint/key`); default: path-style
    /// when `endpoint` is set, as S3-compatible servers expect.
    #[serde(default)]
    pub path_style: Option<bool>,
    /// Allow a plain `http://` endpoint (a server on the same machine);
    /// refused otherwise, as keys and files would cross in clear.
    #[serde(default)]
    pub allow_http: bool,
    /// The access key ID, written here (it is not the secret)...
    #[serde(default)]
    pub access_key_id: Option<String>,
    /// ...or the environment variable holding it.
    #[serde(default)]
    pub access_key_id_env: Option<String>,
    /// The environment variable holding the secret access key...
    #[serde(default)]
    pub secret_access_key_env: Option<String>,
    /// ...or a file holding it (relative to `gateway.toml`).
    #[serde(default)]
    pub secret_access_key_file: Option<PathBuf>,
    /// How many times the client tries a request again (a connection
    /// refused, a 5xx) before the pass fails (and is tried again later).
    #[serde(default = "default_max_retries")]
    pub max_retries: usize,
    /// How long one request may take, and its retries together, in
    /// seconds.
    #[serde(default = "default_timeout_secs")]
    pub timeout_secs: u64,
}

fn default_region() -> String {
    "us-east-1".into()
}
const fn default_max_retries() -> usize {
    3
}
const fn default_timeout_secs() -> u64 {
    60
}

impl Default for ArchiveConfig {
    fn default() -> Self {
        ArchiveConfig {
            url: None,
            endpoint: None,
            region: default_region(),
            path_style: None,
            allow_http: false,
            access_key_id: None,
            access_key_id_env: None,
            secret_access_key_env: None,
            secret_access_key_file: None,
            max_retries: default_max_retries(),
            timeout_secs: default_timeout_secs(),
        }
    }
}

/// A bucket and the prefix of the gateway's keys in it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Bucket {
    /// The bucket's name.
    pub name: String,
    /// The prefix, without slashes around it (empty: none).
    pub prefix: String,
}

impl ArchiveConfig {
    /// The bucket, when `url` names one (`None`: the data directory), or
    /// what is wrong with the settings.
    pub fn bucket(&self) -> Result<Option<Bucket>, String> {
        let Some(url) = &self.url else {
            return match self.endpoint.is_some()
                || self.access_key_id.is_some()
                || self.access_key_id_env.is_some()
                || self.secret_access_key_env.is_some()
                || self.secret_access_key_file.is_some()
            {
                true => Err("url is not set: write url = \"s3://bucket/prefix\", or remove the other settings (the archive is then in the data directory)".into()),
                false => Ok(None),
            };
        };
        let rest = url
            .strip_prefix("s3://")
            .ok_or_else(|| format!("url {url:?}: an S3 bucket, like \"s3://bucket/prefix\""))?;
        let (name, prefix) = rest.split_once('/').unwrap_or((rest, ""));
        let valid_name = (3..=63).contains(&name.len())
            && name
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'.' || b == b'-')
            && name.starts_with(|c: char| c.is_ascii_alphanumeric())
            && name.ends_with(|c: char| c.is_ascii_alphanumeric());
        if !valid_name {
            return Err(format!(
                "url {url:?}: {name:?} is not a bucket name (3 to 63 lower-case letters, digits, . and -)"
            ));
        }
        let prefix = prefix.trim_matches('/');
        if prefix
            .split('/')
            .any(|p| matches!(p, "." | "..") || (p.is_empty() && !prefix.is_empty()))
        {
            return Err(format!(
                "url {url:?}: the prefix {prefix:?} has an empty, . or .. part"
            ));
        }
        if let Some(endpoint) = &self.endpoint {
            match endpoint.split_once("://").map(|(s, _)| s) {
                Some("https") => {}
                Some("http") if self.allow_http => {}
                Some("http") => {
                    return Err(format!(
                        "endpoint {endpoint:?} is plain HTTP: keys and files would cross the network in clear; use https, or set allow_http = true for a server on this machine"
                    ));
                }
                _ => {
                    return Err(format!(
                        "endpoint {endpoint:?}: an address like \"https://s3.example:9000\""
                    ));
                }
            }
        }
        match (&self.access_key_id, &self.access_key_id_env) {
            (Some(_), Some(_)) => {
                return Err("access_key_id and access_key_id_env are both set; keep one".into());
            }
            (None, None) => {
                return Err("the access key: set access_key_id or access_key_id_env".into());
            }
            _ => {}
        }
        if self.secret_access_key_env.is_some() == self.secret_access_key_file.is_some() {
            return Err(
                "the secret access key: set secret_access_key_env or secret_access_key_file (one of them)"
                    .into(),
            );
        }
        if self.timeout_secs == 0 {
            return Err("timeout_secs must be at least 1".into());
        }
        Ok(Some(Bucket {
            name: name.to_string(),
            prefix: prefix.to_string(),
        }))
    }

    /// Whether requests are path-style.
    pub fn path_style(&self) -> bool {
        self.path_style.unwrap_or(self.endpoint.is_some())
    }
}

/// The keys to the bucket, read from where the configuration says.
#[derive(Clone)]
pub struct Credentials {
    /// The access key ID.
    pub access_key_id: String,
    /// The secret access key.
    pub secret_access_key: String,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the secret, wherever this is printed.
        f.debug_struct("Credentials")
            .field("access_key_id", &self.access_key_id)
            .finish_non_exhaustive()
    }
}

/// The archive in a bucket.
pub struct S3Archive {
    client: Arc<dyn ObjectStore>,
    bucket: Bucket,
    /// `staging/` of the data directory: packs before they are uploaded,
    /// and the temporary copies of large files.
    staging: PathBuf,
    /// Files' uploads started by [`S3Archive::keep`] that
    /// [`S3Archive::sync`] has not waited for yet.
    pending: std::collections::VecDeque<Pending>,
    bridge: Bridge,
}

impl std::fmt::Debug for S3Archive {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The client holds the keys: never printed.
        f.debug_struct("S3Archive")
            .field("bucket", &self.bucket)
            .field("staging", &self.staging)
            .field("pending", &self.pending.len())
            .finish_non_exhaustive()
    }
}

impl S3Archive {
    /// The archive in the bucket `config` names, reached with
    /// `credentials`; `data_dir` holds what is written before it is
    /// uploaded. Nothing is sent yet.
    pub fn open(
        data_dir: &Path,
        config: &ArchiveConfig,
        credentials: Credentials,
    ) -> Result<S3Archive, StoreError> {
        let invalid = |path: String, m: String| StoreError::Archive {
            path,
            source: io::Error::new(io::ErrorKind::InvalidInput, m),
        };
        let url = config.url.clone().unwrap_or_default();
        let bucket = config
            .bucket()
            .map_err(|m| invalid(url.clone(), m))?
            .ok_or_else(|| invalid(url.clone(), "no bucket is configured".into()))?;
        // reqwest is built without a TLS provider of its own.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let timeout = Duration::from_secs(config.timeout_secs.max(1));
        let mut builder = AmazonS3Builder::new()
            .with_client_options(
                ClientOptions::new()
                    .with_timeout(timeout)
                    .with_connect_timeout(Duration::from_secs(5).min(timeout)),
            )
            .with_allow_http(config.allow_http)
            .with_bucket_name(&bucket.name)
            .with_region(&config.region)
            .with_virtual_hosted_style_request(!config.path_style())
            .with_access_key_id(credentials.access_key_id)
            .with_secret_access_key(credentials.secret_access_key)
            .with_retry(RetryConfig {
                max_retries: config.max_retries,
                retry_timeout: timeout,
                ..RetryConfig::default()
            });
        if let Some(endpoint) = &config.endpoint {
            builder = builder.with_endpoint(endpoint);
        }
        let client = builder
            .build()
            .map_err(|e| invalid(url.clone(), chain(&e)))?;
        let bridge = Bridge::new().map_err(|e| StoreError::Archive {
            path: url.clone(),
            source: e,
        })?;
        Ok(S3Archive {
            client: Arc::new(client),
            bucket,
            staging: data_dir.join(STAGING),
            pending: std::collections::VecDeque::new(),
            bridge,
        })
    }

    /// `s3://bucket/prefix`.
    pub fn describe(&self) -> String {
        match self.bucket.prefix.as_str() {
            "" => format!("s3://{}", self.bucket.name),
            prefix => format!("s3://{}/{prefix}", self.bucket.name),
        }
    }

    /// The key of `relative` (`archive/HASH`, `documents/HASH.jsonl`).
    fn key(&self, relative: &str) -> String {
        match self.bucket.prefix.as_str() {
            "" => relative.to_string(),
            prefix => format!("{prefix}/{relative}"),
        }
    }

    /// An error of a request about `relative`, naming the bucket and key.
    fn failed(&self, relative: &str, what: &str, e: &object_store::Error) -> StoreError {
        StoreError::Archive {
            path: format!("s3://{}/{}", self.bucket.name, self.key(relative)),
            source: self.explain(what, e),
        }
    }

    /// What went wrong, said with its causes (a refused connection) and,
    /// for a refusal, what to check.
    fn explain(&self, what: &str, e: &object_store::Error) -> io::Error {
        let (kind, hint) = match e {
            object_store::Error::NotFound { .. } => (io::ErrorKind::NotFound, String::new()),
            object_store::Error::PermissionDenied { .. }
            | object_store::Error::Unauthenticated { .. } => (
                io::ErrorKind::PermissionDenied,
                format!(
                    " (the bucket {} refused the credentials: check the access key ID, the secret access key and the bucket's policy)",
                    self.bucket.name
                ),
            ),
            _ => (io::ErrorKind::Other, String::new()),
        };
        io::Error::new(kind, format!("{what} failed: {}{hint}", chain(e)))
    }

    /// An error of the way to the bucket itself (its runtime), or of a
    /// local file, about `relative`.
    fn io(&self, relative: &str, e: io::Error) -> StoreError {
        StoreError::Archive {
            path: format!("s3://{}/{}", self.bucket.name, self.key(relative)),
            source: e,
        }
    }

    /// Runs one request about `relative`.
    fn request<T: Send>(
        &self,
        relative: &str,
        what: &str,
        work: impl std::future::Future<Output = object_store::Result<T>> + Send,
    ) -> Result<T, StoreError> {
        match self.bridge.run(work) {
            Ok(Ok(v)) => Ok(v),
            Ok(Err(e)) => Err(self.failed(relative, what, &e)),
            Err(e) => Err(self.io(relative, e)),
        }
    }

    /// Puts `bytes` at `relative`; kept once the bucket has answered.
    fn put(&self, relative: &str, bytes: Vec<u8>) -> Result<(), StoreError> {
        let key = Key::from(self.key(relative));
        let client = &self.client;
        self.request(relative, "PUT", async move {
            client.put(&key, PutPayload::from(bytes)).await.map(|_| ())
        })
    }

    /// The size of the object at `relative`, or `None` when there is none.
    fn size_of(&self, relative: &str) -> Result<Option<u64>, StoreError> {
        let key = Key::from(self.key(relative));
        let client = &self.client;
        match self.bridge.run(async move { client.head(&key).await }) {
            Ok(Ok(meta)) => Ok(Some(meta.size)),
            Ok(Err(object_store::Error::NotFound { .. })) => Ok(None),
            Ok(Err(e)) => Err(self.failed(relative, "HEAD", &e)),
            Err(e) => Err(self.io(relative, e)),
        }
    }

    /// The bytes of `relative` in `range`.
    fn get_range(
        &self,
        relative: &str,
        range: std::ops::Range<u64>,
    ) -> Result<Vec<u8>, StoreError> {
        let key = Key::from(self.key(relative));
        let client = &self.client;
        let want = range.end - range.start;
        let bytes = self.request(relative, "GET", async move {
            client.get_range(&key, range).await
        })?;
        if bytes.len() as u64 != want {
            return Err(self.io(
                relative,
                io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    format!("{want} bytes asked, {} given", bytes.len()),
                ),
            ));
        }
        Ok(bytes.to_vec())
    }

    /// Uploads `size` bytes of `file` to `relative`: one PUT, or a
    /// multipart upload of [`PART`]s, aborted when a part fails.
    fn upload(&self, relative: &str, file: &std::fs::File, size: u64) -> Result<(), StoreError> {
        let read = |at: u64, n: u64| -> Result<Vec<u8>, StoreError> {
            let mut buf = vec![0u8; usize::try_from(n).unwrap_or(usize::MAX)];
            file.read_exact_at(&mut buf, at)
                .map_err(|e| self.io(relative, e))?;
            Ok(buf)
        };
        if size <= PART {
            return self.put(relative, read(0, size)?);
        }
        let key = Key::from(self.key(relative));
        let client = &self.client;
        let mut upload = self.request(relative, "starting a multipart upload", async move {
            client.put_multipart(&key).await
        })?;
        let sent = (|| {
            let mut in_flight = std::collections::VecDeque::new();
            let mut at = 0;
            while at < size {
                let n = PART.min(size - at);
                let part = upload.put_part(PutPayload::from(read(at, n)?));
                at += n;
                in_flight.push_back(self.bridge.spawn(part).map_err(|e| self.io(relative, e))?);
                while in_flight.len() >= PARTS_IN_FLIGHT || (at >= size && !in_flight.is_empty()) {
                    let Some(next) = in_flight.pop_front() else {
                        break;
                    };
                    match self.bridge.run(next) {
                        Ok(Ok(Ok(()))) => {}
                        Ok(Ok(Err(e))) => {
                            return Err(self.failed(relative, "uploading a part", &e));
                        }
                        Ok(Err(e)) => return Err(self.io(relative, io::Error::other(e))),
                        Err(e) => return Err(self.io(relative, e)),
                    }
                }
            }
            Ok(())
        })();
        let upload = &mut upload;
        match sent {
            Ok(()) => self
                .request(relative, "completing a multipart upload", async move {
                    upload.complete().await
                })
                .map(|_| ()),
            Err(e) => {
                // What was sent is dropped by the bucket; the file is
                // uploaded again whole when the pass is tried again.
                let _ = self.bridge.run(async move { upload.abort().await });
                Err(e)
            }
        }
    }

    /// Starts keeping `bytes` under their hash: they are kept once
    /// [`S3Archive::sync`] has returned (a batch's files go up side by
    /// side, a few at a time).
    pub fn keep(&mut self, bytes: &[u8]) -> Result<(String, String), StoreError> {
        let hash = super::sha256_hex(bytes);
        let relative = format!("archive/{hash}");
        while self.pending.len() >= PUTS_IN_FLIGHT {
            if let Err(e) = self.wait_for_oldest() {
                // The batch fails: what else is under way is waited for,
                // not left to fail a later one.
                let _ = self.sync();
                return Err(e);
            }
        }
        let key = Key::from(self.key(&relative));
        let client = Arc::clone(&self.client);
        let payload = PutPayload::from(bytes.to_vec());
        let task = self
            .bridge
            .spawn(async move { client.put(&key, payload).await.map(|_| ()) })
            .map_err(|e| self.io(&relative, e))?;
        self.pending.push_back((relative, task));
        Ok((hash.clone(), hash))
    }

    /// Waits for the oldest upload under way.
    fn wait_for_oldest(&mut self) -> Result<(), StoreError> {
        let Some((relative, task)) = self.pending.pop_front() else {
            return Ok(());
        };
        match self.bridge.run(task) {
            Ok(Ok(Ok(()))) => Ok(()),
            Ok(Ok(Err(e))) => Err(self.failed(&relative, "PUT", &e)),
            Ok(Err(e)) => Err(self.io(&relative, io::Error::other(e))),
            Err(e) => Err(self.io(&relative, e)),
        }
    }

    /// Waits until every file [`S3Archive::keep`] started is in the bucket
    /// (its PUT answered); the first failure is the answer, once all have
    /// ended.
    pub fn sync(&mut self) -> Result<(), StoreError> {
        let mut first = Ok(());
        while !self.pending.is_empty() {
            let ended = self.wait_for_oldest();
            if first.is_ok() {
                first = ended;
            }
        }
        first
    }

    /// An unnamed temporary file of `staging/` to receive a large file in.
    pub fn incoming(&mut self) -> Result<Incoming, StoreError> {
        let file = self.temporary_file()?;
        Ok(Incoming::new(file, local::Temporary(None)))
    }

    fn temporary_file(&self) -> Result<std::fs::File, StoreError> {
        let in_staging = |e: io::Error| StoreError::Archive {
            path: self.staging.display().to_string(),
            source: e,
        };
        std::fs::create_dir_all(&self.staging).map_err(in_staging)?;
        tempfile::tempfile_in(&self.staging).map_err(in_staging)
    }

    /// Uploads what `incoming` received under its hash (unless the bucket
    /// has it already); the received copy is what the file is read from
    /// while it is processed.
    pub fn keep_incoming(
        &mut self,
        incoming: Incoming,
    ) -> Result<(String, String, LocalCopy), StoreError> {
        // The files kept before it first (an error is said once).
        self.sync()?;
        let (file, _, hash) = incoming.finish().map_err(|(_, e)| StoreError::Archive {
            path: self.staging.display().to_string(),
            source: e,
        })?;
        let relative = format!("archive/{hash}");
        let size = file.metadata().map_err(|e| self.io(&relative, e))?.len();
        if self.size_of(&relative)? != Some(size) {
            self.upload(&relative, &file, size)?;
        }
        Ok((hash.clone(), hash, LocalCopy::Staged(Arc::new(file))))
    }

    /// The bytes kept at `relative` (a file's hash), whole.
    pub fn read(&self, relative: &str) -> Result<Vec<u8>, StoreError> {
        let relative = format!("archive/{relative}");
        let key = Key::from(self.key(&relative));
        let client = &self.client;
        let bytes = self.request(&relative, "GET", async move {
            client.get(&key).await?.bytes().await
        })?;
        Ok(bytes.to_vec())
    }

    /// A copy of the file kept at `relative` in a temporary file, fetched
    /// a range at a time.
    pub fn copy_of(&self, relative: &str) -> Result<LocalCopy, StoreError> {
        let relative = format!("archive/{relative}");
        let size = self.size_of(&relative)?.ok_or_else(|| {
            self.io(
                &relative,
                io::Error::new(io::ErrorKind::NotFound, "not in the bucket"),
            )
        })?;
        let mut file = self.temporary_file()?;
        let mut at = 0;
        while at < size {
            let n = PART.min(size - at);
            let bytes = self.get_range(&relative, at..at + n)?;
            file.write_all(&bytes).map_err(|e| self.io(&relative, e))?;
            at += n;
        }
        Ok(LocalCopy::Staged(Arc::new(file)))
    }

    /// Uploads the packs `names` of `staging/` under their hashes; the
    /// answer says where their documents are, and removes the local
    /// copies when it is dropped.
    pub fn seal_packs(&self, names: &[String]) -> Result<Sealed, StoreError> {
        // The local copies go when `sealed` is dropped, also when an
        // upload fails (the batch is then translated again).
        let mut sealed = Sealed {
            moved: Vec::new(),
            staged: names.iter().map(|n| self.staging.join(n)).collect(),
        };
        for name in names {
            let path = self.staging.join(name);
            let staged = format!("{STAGING}/{name}");
            let file = match std::fs::File::open(&path) {
                Ok(f) => f,
                Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
                Err(e) => return Err(self.io(&staged, e)),
            };
            let size = file.metadata().map_err(|e| self.io(&staged, e))?.len();
            if size == 0 {
                continue;
            }
            let mut hasher = Sha256::new();
            let mut reader = super::ReadAt { file: &file, at: 0 };
            let mut buf = vec![0u8; 1 << 16];
            loop {
                let n = reader.read(&mut buf).map_err(|e| self.io(&staged, e))?;
                if n == 0 {
                    break;
                }
                hasher.update(&buf[..n]);
            }
            let stored = format!(
                "{}/{}.jsonl",
                crate::store::packs::FOLDER,
                hex(&hasher.finalize())
            );
            if self.size_of(&stored)? != Some(size) {
                self.upload(&stored, &file, size)?;
            }
            sealed.moved.push((staged, stored));
        }
        Ok(sealed)
    }

    /// Removes the packs of `staging/` that processes no longer running
    /// left there (killed before uploading them), and those of this
    /// process's ID; returns how many.
    pub fn remove_staged_packs(&self) -> Result<usize, StoreError> {
        let entries = match std::fs::read_dir(&self.staging) {
            Ok(entries) => entries,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(0),
            Err(e) => return Err(self.io(STAGING, e)),
        };
        let mut removed = 0;
        for entry in entries {
            let entry = entry.map_err(|e| self.io(STAGING, e))?;
            let name = entry.file_name();
            // `FIRST-WORKER-PID.jsonl` (see `daemon::documents::pack_name`).
            let Some(pid) = name
                .to_str()
                .and_then(|n| n.strip_suffix(".jsonl"))
                .and_then(|n| n.rsplit('-').next())
                .and_then(|p| p.parse::<u32>().ok())
            else {
                continue;
            };
            if pid == std::process::id() || !Path::new("/proc").join(pid.to_string()).exists() {
                let path = entry.path();
                std::fs::remove_file(&path).map_err(|e| self.io(STAGING, e))?;
                removed += 1;
            }
        }
        Ok(removed)
    }

    /// Opens a stored extent, read a range at a time.
    pub fn open_extent(&self, extent: &Extent) -> io::Result<Box<dyn Read + Send + '_>> {
        let end = match extent.length {
            Extent::TO_END => self
                .size_of(&extent.file)
                .map_err(io::Error::other)?
                .ok_or_else(|| {
                    io::Error::new(
                        io::ErrorKind::NotFound,
                        format!("{}: not in the bucket", self.url_of(&extent.file)),
                    )
                })?,
            length => extent.offset.saturating_add(length),
        };
        Ok(Box::new(Ranges {
            archive: self,
            relative: extent.file.clone(),
            at: extent.offset,
            end,
            buf: Vec::new(),
            used: 0,
        }))
    }

    /// Reads a stored extent whole.
    pub fn read_extent(&self, extent: &Extent) -> io::Result<Vec<u8>> {
        let mut bytes = Vec::new();
        self.open_extent(extent)?.read_to_end(&mut bytes)?;
        Ok(bytes)
    }

    /// The `s3://` URL of `relative`.
    pub fn url_of(&self, relative: &str) -> String {
        format!("s3://{}/{}", self.bucket.name, self.key(relative))
    }
}

/// An object's bytes from `at` to `end`, fetched a [`PART`] at a time.
struct Ranges<'a> {
    archive: &'a S3Archive,
    relative: String,
    at: u64,
    end: u64,
    buf: Vec<u8>,
    used: usize,
}

impl Read for Ranges<'_> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        if self.used == self.buf.len() {
            if self.at >= self.end {
                return Ok(0);
            }
            let n = PART.min(self.end - self.at);
            self.buf = self
                .archive
                .get_range(&self.relative, self.at..self.at + n)
                .map_err(io::Error::other)?;
            self.at += n;
            self.used = 0;
        }
        let rest = self.buf.get(self.used..).unwrap_or_default();
        let n = rest.len().min(out.len());
        out[..n].copy_from_slice(&rest[..n]);
        self.used += n;
        Ok(n)
    }
}

/// An error with its causes, on one line.
fn chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let more = s.to_string();
        if !text.contains(&more) {
            text.push_str(": ");
            text.push_str(&more);
        }
        source = s.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(url: &str) -> ArchiveConfig {
        ArchiveConfig {
            url: Some(url.into()),
            access_key_id: Some("AK".into()),
            secret_access_key_env: Some("SK".into()),
            ..ArchiveConfig::default()
        }
    }

    #[test]
    fn urls_name_a_bucket_and_a_prefix() {
        assert_eq!(ArchiveConfig::default().bucket(), Ok(None));
        assert_eq!(
            config("s3://edi-archive/gw/one/").bucket(),
            Ok(Some(Bucket {
                name: "edi-archive".into(),
                prefix: "gw/one".into()
            }))
        );
        assert_eq!(
            config("s3://edi-archive")
                .bucket()
                .map(|b| b.map(|b| b.prefix)),
            Ok(Some(String::new()))
        );
        for (url, says) in [
            ("/var/archive", "an S3 bucket"),
            ("s3://Edi", "is not a bucket name"),
            ("s3://edi-archive/a//b", "an empty, . or .. part"),
            ("s3://edi-archive/../b", "an empty, . or .. part"),
        ] {
            let e = config(url).bucket().expect_err(url);
            assert!(e.contains(says), "{url}: {e}");
        }
        let http = ArchiveConfig {
            endpoint: Some("http://127.0.0.1:9000".into()),
            ..config("s3://edi-archive")
        };
        assert!(http.bucket().is_err_and(|e| e.contains("allow_http")));
        assert!(http.path_style(), "path-style with an endpoint");
        let allowed = ArchiveConfig {
            allow_http: true,
            ..http
        };
        assert!(allowed.bucket().is_ok());
        let no_secret = ArchiveConfig {
            secret_access_key_env: None,
            ..config("s3://edi-archive")
        };
        assert!(
            no_secret
                .bucket()
                .is_err_and(|e| e.contains("secret_access_key"))
        );
        let no_url = ArchiveConfig {
            url: None,
            ..config("s3://edi-archive")
        };
        assert!(no_url.bucket().is_err_and(|e| e.contains("url is not set")));
    }

    #[test]
    fn packs_left_in_staging_by_processes_that_are_gone_are_removed()
    -> Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        let config = ArchiveConfig {
            endpoint: Some("http://127.0.0.1:9".into()),
            allow_http: true,
            ..config("s3://edi-archive/gw")
        };
        let keys = Credentials {
            access_key_id: "AK".into(),
            secret_access_key: "SK".into(),
        };
        // Opening sends nothing: no server is needed.
        let archive = S3Archive::open(dir.path(), &config, keys)?;
        assert_eq!(archive.describe(), "s3://edi-archive/gw");
        assert_eq!(archive.url_of("archive/h"), "s3://edi-archive/gw/archive/h");
        let bare = S3Archive::open(
            dir.path(),
            &ArchiveConfig {
                url: Some("s3://edi-archive".into()),
                ..config.clone()
            },
            Credentials {
                access_key_id: "AK".into(),
                secret_access_key: "SK".into(),
            },
        )?;
        assert_eq!(bare.url_of("archive/h"), "s3://edi-archive/archive/h");
        assert_eq!(archive.remove_staged_packs()?, 0, "no staging folder yet");
        let staging = dir.path().join(STAGING);
        std::fs::create_dir_all(&staging)?;
        // pid_max is at most 2^22: that process cannot exist.
        std::fs::write(staging.join("0000000001-0-99999999.jsonl"), b"{}\n")?;
        let own = format!("0000000002-1-{}.jsonl", std::process::id());
        std::fs::write(staging.join(&own), b"{}\n")?;
        let running = format!("0000000003-0-{}.jsonl", std::os::unix::process::parent_id());
        std::fs::write(staging.join(&running), b"{}\n")?;
        assert_eq!(archive.remove_staged_packs()?, 2);
        let left: Vec<String> = std::fs::read_dir(&staging)?
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(left, [running]);
        Ok(())
    }

    #[test]
    fn credentials_never_show_the_secret() {
        let c = Credentials {
            access_key_id: "AKID".into(),
            secret_access_key: "very-secret".into(),
        };
        let shown = format!("{c:?}");
        assert!(
            shown.contains("AKID") && !shown.contains("very-secret"),
            "{shown}"
        );
    }
}
