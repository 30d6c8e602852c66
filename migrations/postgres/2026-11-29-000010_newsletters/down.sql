DROP TABLE mail_outbox;
DROP TABLE newsletter_signups;
DROP TABLE newsletters;
