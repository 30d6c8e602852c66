//! Administration from the command line.

use crate::auth::password;
use crate::db::DbConnection;
use crate::db::users::{self, NewUser};
use crate::domain::account::{Email, Role, check_password};

/// What `create-admin` did.
#[derive(Debug, PartialEq, Eq)]
pub enum AdminOutcome {
    /// A new admin account was created.
    Created,
    /// An existing account became an admin (its password changed when one was given).
    Promoted,
}

/// Creates an admin account, or promotes the account with this email.
/// A password is required to create one; for an existing account it is
/// optional and replaces the old one when given.
pub fn create_admin(
    conn: &mut DbConnection,
    email: &str,
    new_password: Option<&str>,
    now: chrono::NaiveDateTime,
) -> Result<AdminOutcome, Box<dyn std::error::Error + Send + Sync>> {
    let email = Email::parse(email).map_err(|m| format!("--email {m}"))?;
    let hash = match new_password {
        Some(plain) => {
            check_password(plain).map_err(|m| format!("the password {m}"))?;
            Some(password::hash(plain)?)
        }
        None => None,
    };
    match users::find_by_email(conn, email.as_str())? {
        Some(user) => {
            users::set_role(conn, user.id, Role::Admin, now)?;
            if let Some(hash) = hash {
                users::set_password_hash(conn, user.id, &hash, now)?;
            }
            Ok(AdminOutcome::Promoted)
        }
        None => {
            let hash = hash.ok_or("a new admin needs a password")?;
            let name = email
                .as_str()
                .split('@')
                .next()
                .unwrap_or("admin")
                .to_owned();
            users::insert(
                conn,
                &NewUser {
                    email: email.as_str(),
                    display_name: &name,
                    password_hash: &hash,
                    role: Role::Admin.as_str(),
                    disabled: false,
                    created_at: now,
                    updated_at: now,
                },
            )?;
            Ok(AdminOutcome::Created)
        }
    }
}
