//! Helpers shared by integration tests: private servers on 127.0.0.1.

pub mod sshd;
