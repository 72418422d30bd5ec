#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| keg_fuzz::check_restore_payload(data));
