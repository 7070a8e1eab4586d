//! Fuzzes the PDF reader: the object layer, the content-stream
//! interpreter, fonts and CMaps, the layout and the text output.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    dropgate::format::pdf::harness::read_pdf(data);
});
