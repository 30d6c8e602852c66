//! Cursors come back from clients: decoding any text must not panic, and
//! whatever decodes must encode back to a cursor that decodes the same.
#![no_main]

use libfuzzer_sys::fuzz_target;
use newsdesk::domain::cursor::Cursor;

fuzz_target!(|text: &str| {
    if let Ok(cursor) = Cursor::decode(text) {
        assert_eq!(Cursor::decode(&cursor.encode()).ok(), Some(cursor));
    }
});
