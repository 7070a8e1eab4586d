//! Fuzzes reading invoices from positioned text: the bytes become pages of
//! words (invoice labels, numbers and amounts, or raw text, at any
//! coordinates, NaN and infinities included), read without a template,
//! with a template of every locator kind and a table, through the whole
//! PDF translation, and by the money parser.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    dropgate::mapping::pdf_harness::extract(data);
});
