//! A faithful NetSuite simulator for the tests and the demo (`dropgate
//! netsuite-sim`): one account's records in SQLite, the SuiteTalk REST
//! record service with NetSuite's answers and errors, transforms, drop-ship
//! purchase orders, SuiteQL, token-based authentication and OAuth 2.0
//! client credentials checked as NetSuite checks them, the concurrency limit, and injected faults.
//!
//! Modules, one job each: `records` (types, fields, JSON in and out),
//! `store` (SQLite), `service` (the operations), `transform`, `dropship`,
//! `quantities` (fulfilled/received/billed and statuses), `suiteql`,
//! `auth`, `token` (the OAuth 2.0 token endpoint), `governance`, `faults`,
//! `config`, `seed`, `server` (axum),
//! `error` (NetSuite's error bodies).

pub mod auth;
pub mod config;
pub mod dropship;
pub mod error;
pub mod faults;
pub mod governance;
pub mod quantities;
pub mod records;
pub mod restlet;
pub mod seed;
pub mod server;
pub mod service;
pub mod store;
pub mod suiteql;
pub mod token;
pub mod transform;

pub use server::{SimOptions, StartError, serve};
