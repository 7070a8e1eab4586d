//! NetSuite over SuiteTalk REST: the request signing (token-based
//! authentication, OAuth 2.0 client credentials), the client of the record
//! service and SuiteQL, and a simulator of the account that the tests and
//! the demo talk to.

pub mod client;
pub mod config;
pub mod error;
pub mod flows;
pub mod oauth2;
pub mod sim;
pub mod tba;
