//! Password checks under the login throttle, shared by sign-in and by
//! changing one's password.

use actix_web::HttpRequest;

use crate::client::ClientAddr;
use crate::db::login_failures;
use crate::domain::account::{
    ACCOUNT_FROM_CLIENT_THROTTLE, ACCOUNT_THROTTLE, CLIENT_THROTTLE, Throttle,
};
use crate::error::ApiError;
use crate::state::AppState;

/// The address failed logins are counted against.
pub(crate) fn client_address(req: &HttpRequest) -> String {
    ClientAddr::of(req).key()
}

/// Checks `password` against `account`'s stored hash under the login
/// throttle: failures for this account from this client address, from this
/// address for any account, and for this account from everywhere are each
/// limited. The attempt is reserved in every scope before the hash is
/// checked (so a burst of guesses cannot all pass) and released when the
/// password is right. `Ok(false)` is a wrong password; 429 when throttled.
pub(crate) async fn throttled_check(
    state: &AppState,
    req: &HttpRequest,
    account: &str,
    password: String,
    stored: Option<String>,
) -> Result<bool, ApiError> {
    let client = client_address(req);
    let scopes = [
        (
            format!("pair:{account}|{client}"),
            ACCOUNT_FROM_CLIENT_THROTTLE,
        ),
        (format!("client:{client}"), CLIENT_THROTTLE),
        (format!("email:{account}"), ACCOUNT_THROTTLE),
    ];
    let now = state.clock.now();
    // The right password forgets this address's earlier failures for the
    // account, and the account's, but never the address's own count: an
    // attacker signing in to an account of their own must not reset it.
    let forgotten = [scopes[0].0.clone(), scopes[2].0.clone()];
    let reserved = state
        .db
        .run(move |conn| {
            let limits: Vec<(&str, Throttle)> =
                scopes.iter().map(|(s, t)| (s.as_str(), *t)).collect();
            Ok(login_failures::reserve(conn, &limits, now)?)
        })
        .await?
        .map_err(ApiError::TooManyRequests)?;
    let matched = match state.passwords.verify(password, stored).await {
        Ok(matched) => matched,
        // Not a wrong password (the hashing queue was full, say): the
        // attempt must not count as a failure.
        Err(e) => {
            state
                .db
                .run(move |conn| Ok(login_failures::release(conn, &reserved)?))
                .await?;
            return Err(e);
        }
    };
    if matched {
        state
            .db
            .run(move |conn| {
                login_failures::release(conn, &reserved)?;
                for scope in &forgotten {
                    login_failures::clear(conn, scope)?;
                }
                Ok(())
            })
            .await?;
    }
    Ok(matched)
}
