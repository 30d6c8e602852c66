//! Access tokens: HS256 JWTs with every registered claim required and checked.

use chrono::{DateTime, Utc};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation, decode, encode};
use serde::{Deserialize, Serialize};

use crate::domain::account::Role;
use crate::domain::id::UserId;

/// Who issues our tokens.
pub(crate) const ISSUER: &str = "newsdesk";
/// Who our tokens are for.
pub(crate) const AUDIENCE: &str = "newsdesk-api";

/// The claims of an access token.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    /// The user id.
    pub sub: String,
    /// The user's role when the token was issued.
    pub role: Role,
    /// Issued at (seconds since the epoch).
    pub iat: i64,
    /// Expires at (seconds since the epoch).
    pub exp: i64,
    /// Always [`ISSUER`].
    pub iss: String,
    /// Always [`AUDIENCE`].
    pub aud: String,
    /// A unique id for this token.
    pub jti: String,
    /// The login session (refresh-token family) the token belongs to.
    pub sid: String,
}

/// Signs and checks access tokens with one secret.
pub struct JwtKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    ttl_secs: i64,
}

/// Why a token was refused; the detail is for logs, never for clients.
#[derive(Debug, thiserror::Error)]
#[error("invalid access token: {0}")]
pub struct InvalidToken(String);

impl JwtKeys {
    /// Keys for `secret`; tokens live `ttl_secs` seconds.
    pub fn new(secret: &[u8], ttl_secs: i64) -> Result<Self, jsonwebtoken::errors::Error> {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_issuer(&[ISSUER]);
        validation.set_audience(&[AUDIENCE]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        validation.leeway = 5;
        Ok(Self {
            encoding: EncodingKey::from_secret(secret)?,
            decoding: DecodingKey::from_secret(secret)?,
            validation,
            ttl_secs,
        })
    }

    /// Seconds an access token lives.
    pub(crate) fn ttl_secs(&self) -> i64 {
        self.ttl_secs
    }

    /// Issues a token for a user in a session.
    pub(crate) fn issue(
        &self,
        user_id: UserId,
        role: Role,
        session: &str,
        now: DateTime<Utc>,
    ) -> Result<String, jsonwebtoken::errors::Error> {
        let claims = Claims {
            sub: user_id.to_string(),
            role,
            iat: now.timestamp(),
            exp: now.timestamp() + self.ttl_secs,
            iss: ISSUER.to_owned(),
            aud: AUDIENCE.to_owned(),
            jti: uuid::Uuid::new_v4().to_string(),
            sid: session.to_owned(),
        };
        encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
    }

    /// Checks a token's signature, algorithm, issuer, audience and expiry.
    pub fn verify(&self, token: &str) -> Result<Claims, InvalidToken> {
        decode::<Claims>(token, &self.decoding, &self.validation)
            .map(|data| data.claims)
            .map_err(|e| InvalidToken(e.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine as _;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;

    const SECRET: &[u8] = b"0123456789abcdef0123456789abcdef";

    fn keys() -> JwtKeys {
        JwtKeys::new(SECRET, 900).unwrap()
    }

    fn forge(header: &str, claims: &serde_json::Value, key: &[u8]) -> String {
        use hmac::{Hmac, Mac};
        let head = URL_SAFE_NO_PAD.encode(header);
        let body = URL_SAFE_NO_PAD.encode(claims.to_string());
        let mut mac = Hmac::<sha2::Sha256>::new_from_slice(key).unwrap();
        mac.update(format!("{head}.{body}").as_bytes());
        let sig = URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes());
        format!("{head}.{body}.{sig}")
    }

    fn claims(now: i64) -> serde_json::Value {
        serde_json::json!({
            "sub": "7", "role": "admin", "iat": now, "exp": now + 600,
            "iss": ISSUER, "aud": AUDIENCE, "jti": "x", "sid": "s"
        })
    }

    #[test]
    fn issued_tokens_verify() {
        let token = keys()
            .issue(UserId::from(7), Role::Editor, "family", Utc::now())
            .unwrap();
        let claims = keys().verify(&token).unwrap();
        assert_eq!(claims.sub, "7");
        assert_eq!(claims.role, Role::Editor);
        assert_eq!(claims.sid, "family");
        assert_eq!(claims.exp - claims.iat, 900);
    }

    #[test]
    fn forged_and_foreign_tokens_are_refused() {
        let now = Utc::now().timestamp();
        let hs256 = r#"{"alg":"HS256","typ":"JWT"}"#;
        let good = forge(hs256, &claims(now), SECRET);
        assert!(
            keys().verify(&good).is_ok(),
            "the forging helper itself works"
        );

        let mut refused = vec![
            (
                "wrong key",
                forge(hs256, &claims(now), b"another-secret-another-secret-xx"),
            ),
            ("alg none", {
                let head = URL_SAFE_NO_PAD.encode(r#"{"alg":"none","typ":"JWT"}"#);
                let body = URL_SAFE_NO_PAD.encode(claims(now).to_string());
                format!("{head}.{body}.")
            }),
            (
                "HS512",
                forge(r#"{"alg":"HS512","typ":"JWT"}"#, &claims(now), SECRET),
            ),
            ("garbage", "not.a.token".to_owned()),
        ];
        for (field, value) in [
            ("iss", serde_json::json!("someone-else")),
            ("aud", serde_json::json!("another-api")),
            ("exp", serde_json::json!(now - 120)),
            ("exp", serde_json::json!(format!("{}", now + 600))),
        ] {
            let mut c = claims(now);
            c[field] = value;
            refused.push(("changed claim", forge(hs256, &c, SECRET)));
        }
        for field in ["exp", "iss", "aud", "sub", "jti", "iat"] {
            let mut c = claims(now);
            c.as_object_mut().unwrap().remove(field);
            refused.push(("missing claim", forge(hs256, &c, SECRET)));
        }
        for (why, token) in refused {
            assert!(keys().verify(&token).is_err(), "{why}: {token}");
        }
    }
}
