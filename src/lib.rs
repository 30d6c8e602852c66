//! newsdesk: the REST/JSON API of an international news publication.

pub mod admin;
pub mod app;
pub mod auth;
pub mod cache;
pub mod client;
pub mod clock;
pub mod config;
pub mod db;
pub mod domain;
pub mod error;
pub mod feeds;
pub mod http;
pub mod limits;
pub mod mail;
pub mod metering;
pub mod metrics;
pub mod middleware;
pub mod negotiation;
pub mod openapi;
pub mod readership;
pub mod routes;
pub mod seed;
pub mod server;
pub mod state;
pub mod surrogate;
pub mod views;
