//! Helpers shared by integration tests: private servers on 127.0.0.1, and
//! the small helpers of the tests that run the binary (`cli`).
//! Each test crate compiles this module and uses a part of it.
#![allow(dead_code)]

pub mod cli;
pub mod daemon;
pub mod dovecot;
pub mod http;
pub mod nats;
pub mod postgres;
pub mod proc;
pub mod s3;
pub mod skip;
pub mod smtp;
pub mod sshd;
pub mod tls;
