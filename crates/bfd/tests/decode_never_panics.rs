//! Any bytes at all: `Control::decode` returns, and what it accepts encodes back to the same bytes.

use bfd::Control;
use bfd::packet::CONTROL_LEN;

#[test]
fn random_and_mutated_input_never_panics() {
    let mut rng = fastrand::Rng::with_seed(0x00bf_d5ee_d000);
    let valid = [
        0x20u8, 0xc0, 3, 24, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0x27, 0x10, 0, 0, 0x27, 0x10, 0, 0, 0, 0,
    ];
    let mut accepted = 0;
    for round in 0..200_000 {
        let bytes: Vec<u8> = match round % 3 {
            // Anything, of any length up to 64.
            0 => (0..rng.usize(0..64)).map(|_| rng.u8(..)).collect(),
            // A valid packet with a few bits flipped.
            1 => {
                let mut b = valid.to_vec();
                for _ in 0..rng.usize(1..4) {
                    let at = rng.usize(..b.len());
                    b[at] ^= 1 << rng.u8(0..8);
                }
                b
            }
            // Right length and length field, random body.
            _ => {
                let mut b: Vec<u8> = (0..CONTROL_LEN).map(|_| rng.u8(..)).collect();
                b[3] = CONTROL_LEN as u8;
                b[0] = (b[0] & 0x1f) | 0x20;
                b
            }
        };
        if let Ok(control) = Control::decode(&bytes) {
            accepted += 1;
            // keepalived takes a longer packet whose length field says so; the first 24 bytes are
            // the packet, the length field aside.
            let mut expected = bytes[..CONTROL_LEN].to_vec();
            expected[3] = CONTROL_LEN as u8;
            assert_eq!(control.encode().as_slice(), expected.as_slice());
        }
    }
    // The generator reaches the accepting paths too, so the round trip is exercised.
    assert!(accepted > 1000, "only {accepted} accepted");
}
