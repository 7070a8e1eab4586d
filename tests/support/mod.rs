//! Helpers shared by integration tests: private servers on 127.0.0.1.
//! Each test crate compiles this module and uses a part of it.
#![allow(dead_code)]

pub mod dovecot;
pub mod http;
pub mod proc;
pub mod smtp;
pub mod sshd;
pub mod tls;
