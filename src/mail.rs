//! Sending mail from the outbox: over SMTP when `SMTP_URL` is set,
//! otherwise into the log. Failures are retried with a growing delay.

use std::sync::Arc;

use chrono::{Duration, NaiveDateTime};
use lettre::message::header::{ContentType, HeaderName, HeaderValue};
use lettre::{Message, SmtpTransport, Transport};

use crate::clock::Clock;
use crate::db::Db;
use crate::db::outbox::{self, Mail};

/// Attempts before a mail is given up.
pub(crate) const MAX_ATTEMPTS: i32 = 8;

/// Where mail goes.
pub enum Mailer {
    /// An SMTP server.
    Smtp(Box<SmtpTransport>),
    /// The log (development without an SMTP server).
    Log,
}

impl Mailer {
    /// The mailer for `SMTP_URL` (`smtp://host:port` in plain text,
    /// `smtp://...?tls=required` for STARTTLS, `smtps://` for TLS).
    pub fn new(smtp_url: Option<&str>) -> Result<Self, String> {
        match smtp_url {
            None => Ok(Self::Log),
            Some(url) => SmtpTransport::from_url(url)
                .map(|builder| {
                    Self::Smtp(Box::new(
                        builder
                            .timeout(Some(std::time::Duration::from_secs(10)))
                            .build(),
                    ))
                })
                .map_err(|e| e.to_string()),
        }
    }

    /// Sends one mail from `from`.
    pub fn send(&self, mail: &Mail, from: &str) -> Result<(), String> {
        match self {
            Self::Log => {
                tracing::info!(to = %mail.recipient, subject = %mail.subject, body = %mail.body, "mail (no SMTP_URL set)");
                Ok(())
            }
            Self::Smtp(transport) => {
                let message = build(mail, from)?;
                transport
                    .send(&message)
                    .map(|_| ())
                    .map_err(|e| e.to_string())
            }
        }
    }
}

fn build(mail: &Mail, from: &str) -> Result<Message, String> {
    let mut builder = Message::builder()
        .from(from.parse().map_err(|e| format!("sender: {e}"))?)
        .to(mail
            .recipient
            .parse()
            .map_err(|e| format!("recipient: {e}"))?)
        .subject(mail.subject.clone())
        .header(ContentType::TEXT_PLAIN);
    if let Some(url) = &mail.unsubscribe_url {
        // RFC 8058: one-click unsubscribe by POST to this URL.
        builder = builder
            .raw_header(HeaderValue::new(
                HeaderName::new_from_ascii_str("List-Unsubscribe"),
                format!("<{url}>"),
            ))
            .raw_header(HeaderValue::new(
                HeaderName::new_from_ascii_str("List-Unsubscribe-Post"),
                "List-Unsubscribe=One-Click".to_owned(),
            ));
    }
    builder.body(mail.body.clone()).map_err(|e| e.to_string())
}

/// When to try again after `attempts` failures: 30 s, doubling, at most an hour.
pub(crate) fn retry_at(now: NaiveDateTime, attempts: i32) -> Option<NaiveDateTime> {
    if attempts + 1 >= MAX_ATTEMPTS {
        return None;
    }
    let delay = 30_i64
        .saturating_mul(1_i64 << attempts.clamp(0, 20))
        .min(3_600);
    Some(now + Duration::seconds(delay))
}

/// Sends what is due in `db`'s outbox through `mailer`, from `from`;
/// returns how many were sent.
pub async fn deliver_due(db: &Db, mailer: &Arc<Mailer>, from: &str, clock: Clock) -> usize {
    let now = clock.now();
    let claimed = match db
        .run(move |conn| Ok(outbox::claim_due(conn, now, 20)?))
        .await
    {
        Ok(claimed) => claimed,
        Err(e) => {
            tracing::warn!(error = %e, "outbox not read");
            return 0;
        }
    };
    let mut sent = 0;
    for mail in claimed {
        let mailer = mailer.clone();
        let from = from.to_owned();
        let attempt = mail.clone();
        let result = actix_web::web::block(move || mailer.send(&attempt, &from))
            .await
            .map_err(|e| e.to_string())
            .and_then(|r| r);
        let now = clock.now();
        let (id, attempts) = (mail.id, mail.attempts);
        let recorded = match &result {
            Ok(()) => {
                sent += 1;
                db.run(move |conn| Ok(outbox::mark_sent(conn, id, now)?))
                    .await
            }
            Err(error) => {
                tracing::warn!(mail = id, %error, "mail not sent; will retry");
                let error = error.clone();
                let retry = retry_at(now, attempts);
                db.run(move |conn| Ok(outbox::mark_failed(conn, id, &error, retry)?))
                    .await
            }
        };
        if let Err(e) = recorded {
            tracing::warn!(mail = id, error = %e, "outbox not updated; the claim will lapse");
        }
    }
    sent
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_back_off_then_give_up() {
        let now = chrono::NaiveDate::from_ymd_opt(2026, 11, 29)
            .and_then(|d| d.and_hms_opt(0, 0, 0))
            .unwrap();
        let delays: Vec<i64> = (0..MAX_ATTEMPTS)
            .map(|a| retry_at(now, a).map_or(-1, |at| (at - now).num_seconds()))
            .collect();
        assert_eq!(delays, [30, 60, 120, 240, 480, 960, 1920, -1]);
    }
}
