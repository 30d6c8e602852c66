//! The payment processor's `Webhook-Signature` header: parsing any header
//! must not panic, and no made-up header may verify a body.
#![no_main]

use libfuzzer_sys::fuzz_target;
use newsdesk::auth::webhook_signature::{parse, verify};

fuzz_target!(|input: (&str, &[u8])| {
    let (header, body) = input;
    let _ = parse(header);
    let now = 1_796_032_805;
    assert!(
        verify(b"fuzzing secret", Some(header), body, now).is_err(),
        "forged: {header:?}"
    );
});
