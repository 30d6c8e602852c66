//! Meter tokens come back from anonymous clients: checking any text must not
//! panic, and nothing the fuzzer makes up may pass as a token we signed.
#![no_main]

use libfuzzer_sys::fuzz_target;
use newsdesk::auth::meter_token::MeterKeys;

fuzz_target!(|text: &str| {
    let keys = MeterKeys::new(b"fuzzing key, fuzzing key, fuzzing key");
    assert_eq!(keys.verify(text), None, "forged: {text:?}");
});
