//! The one integration-test binary: the real app over real HTTP, each test
//! with its own fresh database. SQLite by default; PostgreSQL when
//! `TEST_DATABASE_URL` names a server (each test then gets its own database).

#![expect(clippy::expect_used, reason = "test helpers fail loudly on purpose")]

mod abuse;
mod accounts;
mod admin;
mod api_keys;
mod articles;
mod builders;
mod bypass;
mod cache;
mod catalogue;
mod cdn;
mod feeds;
mod harness;
mod http;
mod integrity;
mod inventory;
mod layering;
mod ledger;
mod newsletters;
mod newsroom;
mod operations;
mod paywall;
mod readership;
mod search;
mod seeding;
mod subscriptions;
