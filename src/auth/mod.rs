//! Authentication: password hashing, access tokens (JWT), refresh tokens and
//! the extractors handlers use to know who is asking.

pub mod api_key;
pub mod extract;
pub mod hasher;
pub mod jwt;
pub mod login;
pub mod meter_token;
pub mod password;
pub mod tokens;
pub mod webhook_signature;

pub use extract::{Admin, AuthUser, Editor, MaybeAuthUser};
