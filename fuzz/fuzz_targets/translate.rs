//! Fuzzes translation to canonical JSON: the built-in X12 mappings and the
//! example CSV and XML feed mappings, on arbitrary bytes.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    dropgate::mapping::harness::translate(data);
});
