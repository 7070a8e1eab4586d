//! Fuzzes validation: raw bytes, and bytes mapped into a well-formed envelope
//! to reach the structure walker and the element checks.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    dropgate::x12::harness::validate(data);
    dropgate::x12::harness::validate(&dropgate::x12::harness::enveloped(data));
});
