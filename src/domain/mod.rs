//! Pure rules and value types: no actix, no diesel.

pub mod article;
pub mod cursor;
pub mod markdown;
pub mod paywall;
