//! Fuzzes acknowledgment generation: what is written must read back with
//! correct envelopes.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    dropgate::x12::harness::ack(data);
    dropgate::x12::harness::ack(&dropgate::x12::harness::enveloped(data));
});
