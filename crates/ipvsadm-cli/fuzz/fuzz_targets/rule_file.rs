//! Any bytes as `ipvsadm -R` input, and as a whole rule file for `ipvsadm-restore --test` and
//! `--sync`.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|bytes: &[u8]| {
    ipvsadm_cli::fuzzing::rule_file(bytes);
});
