//! Any bytes as ipvsadm's arguments (words split at NUL bytes), read as the process's command
//! line and as a line of `-R` input. Start from the differential cases:
//! `mkdir -p corpus/command_line && grep -h '^ipvsadm ' ../../../testdata/ipvsadm/commands.cases |
//! cut -c9- | while read -r line; do printf '%s' "$line" | tr ' ' '\0' > "corpus/command_line/$(echo "$line" | md5sum | cut -c1-16)"; done`
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|bytes: &[u8]| {
    ipvsadm_cli::fuzzing::command_line(bytes);
});
