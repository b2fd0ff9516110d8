//! Any bytes as keepalived configuration files (split at NUL bytes into `keepalived.conf`,
//! `a.conf`, `b.conf` and `c.conf`), read for every process, checked, reported and dumped.
//! Start from the real configurations:
//! `mkdir -p corpus/configuration && cp ../../../testdata/keepalived/corpus/configs/*.conf corpus/configuration/`
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|bytes: &[u8]| {
    keepalived_config::fuzzing::configuration(bytes);
});
