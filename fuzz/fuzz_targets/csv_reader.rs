//! The CSV reader: any bytes (any encoding, delimiter, quoting, BOM) as a .csv file.
#![no_main]

#[path = "common.rs"]
mod common;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    common::read_as(data, "csv");
});
