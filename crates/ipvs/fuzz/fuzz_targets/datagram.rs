//! Any datagram, decoded as if the kernel had sent it: netlink framing, acknowledgements and
//! their extended attributes, IPVS messages down to the model, and the re-encoding of what
//! decoded. Start from the captured kernel answers:
//! `mkdir -p corpus/datagram && grep -h '^<' ../../../testdata/ipvs/captured/*.hex | cut -c3- |
//! while read -r hex; do echo "$hex" | xxd -r -p > "corpus/datagram/$(echo "$hex" | md5sum | cut -c1-16)"; done`
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|datagram: &[u8]| {
    ipvs::fuzzing::decode_datagram(datagram);
});
