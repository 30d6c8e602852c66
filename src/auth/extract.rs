//! Extractors that tell handlers who is asking.
//!
//! A request without `Authorization` is anonymous. A request with one must
//! carry a valid access token of an existing, enabled account: a present but
//! invalid token is refused, never treated as anonymous. The role comes from
//! the database, so demotions and disabled accounts take effect at once.

use std::future::Future;
use std::pin::Pin;

use actix_web::http::header;
use actix_web::{FromRequest, HttpRequest, web};

use crate::db::{refresh_tokens, users};
use crate::domain::account::Role;
use crate::domain::id::UserId;
use crate::error::ApiError;
use crate::state::AppState;

/// An authenticated user.
#[derive(Clone, Debug)]
pub struct AuthUser {
    /// The user's id.
    pub id: UserId,
    /// The user's current role.
    pub role: Role,
    /// The login session (refresh-token family) of the access token.
    pub session: String,
    /// The account as loaded for this request.
    pub account: users::User,
}

impl AuthUser {
    /// Succeeds when the user's role includes `role`; otherwise 403.
    pub fn require(&self, role: Role) -> Result<(), ApiError> {
        if self.role.includes(role) {
            Ok(())
        } else {
            Err(ApiError::Forbidden)
        }
    }
}

/// The user, when the request carries credentials; `None` for anonymous readers.
#[derive(Clone, Debug)]
pub struct MaybeAuthUser(pub Option<AuthUser>);

type Pending<T> = Pin<Box<dyn Future<Output = Result<T, ApiError>>>>;

/// The bearer token, if an Authorization header is present; `Err` when the
/// header is present but is not a bearer token.
fn bearer(req: &HttpRequest) -> Option<Result<String, ApiError>> {
    let value = req.headers().get(header::AUTHORIZATION)?;
    let token = value
        .to_str()
        .ok()
        .and_then(|v| {
            let (scheme, token) = v.split_once(' ')?;
            scheme
                .eq_ignore_ascii_case("bearer")
                .then(|| token.trim().to_owned())
        })
        .filter(|t| !t.is_empty())
        .ok_or_else(|| ApiError::InvalidToken("not a bearer token".into()));
    Some(token)
}

async fn authenticate(state: web::Data<AppState>, token: String) -> Result<AuthUser, ApiError> {
    let claims = state
        .jwt
        .verify(&token)
        .map_err(|e| ApiError::InvalidToken(e.to_string()))?;
    let id: UserId = claims
        .sub
        .parse::<i64>()
        .map_err(|_| ApiError::InvalidToken("sub is not a user id".into()))?
        .into();
    // The login the token belongs to must still be open: logging out
    // (here or everywhere), a password change and a reused refresh token
    // end it, and its access tokens stop working with their next request,
    // on every node, not at their expiry.
    let session = claims.sid.clone();
    let (user, ended) = state
        .db
        .run(move |conn| {
            let user = users::find(conn, id)?;
            let ended = user.is_some() && refresh_tokens::family_revoked(conn, &session)?;
            Ok((user, ended))
        })
        .await?;
    let user = user.ok_or_else(|| ApiError::InvalidToken("no such user".into()))?;
    if ended {
        return Err(ApiError::InvalidToken("the login was ended".into()));
    }
    if user.disabled {
        return Err(ApiError::InvalidToken("the account is disabled".into()));
    }
    Ok(AuthUser {
        id: user.id,
        role: user.role,
        session: claims.sid,
        account: user,
    })
}

fn state_of(req: &HttpRequest) -> Result<web::Data<AppState>, ApiError> {
    req.app_data::<web::Data<AppState>>()
        .cloned()
        .ok_or_else(|| ApiError::Internal("application state missing".into()))
}

impl FromRequest for AuthUser {
    type Error = ApiError;
    type Future = Pending<Self>;

    fn from_request(req: &HttpRequest, _: &mut actix_web::dev::Payload) -> Self::Future {
        let state = state_of(req);
        let token = bearer(req);
        Box::pin(async move {
            let token = token.ok_or(ApiError::Unauthenticated)??;
            authenticate(state?, token).await
        })
    }
}

/// Declares an extractor for a signed-in user whose role includes `$role`:
/// anyone else is refused (401 without credentials, 403 with too small a
/// role) before the handler runs, so the role shows in its signature.
macro_rules! role_extractor {
    ($(#[$doc:meta])* $name:ident, $role:expr) => {
        $(#[$doc])*
        #[derive(Clone, Debug)]
        pub struct $name(pub AuthUser);

        impl std::ops::Deref for $name {
            type Target = AuthUser;

            fn deref(&self) -> &AuthUser {
                &self.0
            }
        }

        impl FromRequest for $name {
            type Error = ApiError;
            type Future = Pending<Self>;

            fn from_request(req: &HttpRequest, payload: &mut actix_web::dev::Payload) -> Self::Future {
                let user = AuthUser::from_request(req, payload);
                Box::pin(async move {
                    let user = user.await?;
                    user.require($role)?;
                    Ok(Self(user))
                })
            }
        }
    };
}

role_extractor!(
    /// A signed-in editor or admin.
    Editor,
    Role::Editor
);
role_extractor!(
    /// A signed-in admin.
    Admin,
    Role::Admin
);

impl FromRequest for MaybeAuthUser {
    type Error = ApiError;
    type Future = Pending<Self>;

    fn from_request(req: &HttpRequest, _: &mut actix_web::dev::Payload) -> Self::Future {
        let state = state_of(req);
        let token = bearer(req);
        Box::pin(async move {
            match token {
                None => Ok(Self(None)),
                Some(token) => Ok(Self(Some(authenticate(state?, token?).await?))),
            }
        })
    }
}
