//! Fuzzes the lexer: the in-memory lexer and the buffered reader must agree.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    dropgate::x12::harness::parse(data);
});
