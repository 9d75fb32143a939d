//! The XLSX reader (calamine, with usher's zip-bomb and size checks) on mutated
//! workbooks: the corpus starts from real ones.
#![no_main]

#[path = "common.rs"]
mod common;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    common::read_as(data, "xlsx");
});
