//! Helpers shared by integration tests: private servers on 127.0.0.1, and
//! the small helpers of the tests that run the binary (`cli`).
//! Each test crate compiles this module and uses a part of it.
#![allow(dead_code)]

pub mod as2;
pub mod as2_keys;
pub mod browser;
pub mod cli;
pub mod console;
pub mod daemon;
pub mod dovecot;
pub mod feed;
pub mod gpg;
pub mod http;
pub mod nats;
pub mod netsuite_sim;
pub mod postgres;
pub mod proc;
pub mod python_peers;
pub mod s3;
pub mod skip;
pub mod smtp;
pub mod sshd;
pub mod tls;

/// Where `program` is on `PATH`, if it is.
pub fn which(program: &str) -> Option<std::path::PathBuf> {
    std::env::var_os("PATH")?
        .to_string_lossy()
        .split(':')
        .map(|d| std::path::Path::new(d).join(program))
        .find(|p| p.is_file())
}
