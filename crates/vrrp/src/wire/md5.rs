//! MD5 (RFC 1321) and HMAC-MD5 (RFC 2104), needed only for keepalived's IPsec-AH advert authentication.
//!
//! MD5 is broken as a hash; here it only has to interoperate with keepalived's AH, which is what it uses.

use std::sync::OnceLock;

pub const DIGEST_LEN: usize = 16;
const BLOCK_LEN: usize = 64;

/// Per-round left-rotation amounts (RFC 1321 §3.4).
const SHIFTS: [[u32; 4]; 4] = [
    [7, 12, 17, 22],
    [5, 9, 14, 20],
    [4, 11, 16, 23],
    [6, 10, 15, 21],
];

/// The sine table T[i] = floor(2^32 × |sin(i + 1)|) of RFC 1321 §3.4.
fn sine_table() -> &'static [u32; 64] {
    static TABLE: OnceLock<[u32; 64]> = OnceLock::new();
    TABLE.get_or_init(|| {
        std::array::from_fn(|i| ((i as f64 + 1.0).sin().abs() * 4_294_967_296.0) as u32)
    })
}

/// An incremental MD5 computation.
#[derive(Clone)]
pub struct Md5 {
    state: [u32; 4],
    pending: Vec<u8>,
    length: u64,
}

impl Default for Md5 {
    fn default() -> Self {
        Self::new()
    }
}

impl Md5 {
    pub fn new() -> Self {
        Self {
            state: [0x6745_2301, 0xefcd_ab89, 0x98ba_dcfe, 0x1032_5476],
            pending: Vec::with_capacity(BLOCK_LEN),
            length: 0,
        }
    }

    pub fn update(&mut self, mut data: &[u8]) -> &mut Self {
        self.length = self.length.wrapping_add(data.len() as u64);
        while !data.is_empty() {
            let take = (BLOCK_LEN - self.pending.len()).min(data.len());
            self.pending.extend_from_slice(&data[..take]);
            data = &data[take..];
            if self.pending.len() == BLOCK_LEN {
                let mut block = [0; BLOCK_LEN];
                block.copy_from_slice(&self.pending);
                self.compress(&block);
                self.pending.clear();
            }
        }
        self
    }

    pub fn finish(mut self) -> [u8; DIGEST_LEN] {
        let bit_length = self.length.wrapping_mul(8);
        let mut padding = vec![0x80];
        let used = (self.pending.len() + 1) % BLOCK_LEN;
        let zeros = if used <= 56 {
            56 - used
        } else {
            BLOCK_LEN + 56 - used
        };
        padding.resize(1 + zeros, 0);
        padding.extend_from_slice(&bit_length.to_le_bytes());
        // Padding must not count towards the message length already captured above.
        let length = self.length;
        self.update(&padding);
        self.length = length;

        let mut digest = [0; DIGEST_LEN];
        for (chunk, word) in digest.chunks_exact_mut(4).zip(self.state) {
            chunk.copy_from_slice(&word.to_le_bytes());
        }
        digest
    }

    fn compress(&mut self, block: &[u8; BLOCK_LEN]) {
        let words: [u32; 16] = std::array::from_fn(|i| {
            u32::from_le_bytes([
                block[4 * i],
                block[4 * i + 1],
                block[4 * i + 2],
                block[4 * i + 3],
            ])
        });
        let table = sine_table();
        let [mut a, mut b, mut c, mut d] = self.state;
        for step in 0..64 {
            let round = step / 16;
            let (mixed, word) = match round {
                0 => ((b & c) | (!b & d), step),
                1 => ((d & b) | (!d & c), (5 * step + 1) % 16),
                2 => (b ^ c ^ d, (3 * step + 5) % 16),
                _ => (c ^ (b | !d), (7 * step) % 16),
            };
            let rotated = a
                .wrapping_add(mixed)
                .wrapping_add(table[step])
                .wrapping_add(words[word])
                .rotate_left(SHIFTS[round][step % 4]);
            a = d;
            d = c;
            c = b;
            b = b.wrapping_add(rotated);
        }
        for (state, value) in self.state.iter_mut().zip([a, b, c, d]) {
            *state = state.wrapping_add(value);
        }
    }
}

/// HMAC-MD5 of the concatenation of `parts` under `key` (RFC 2104).
pub fn hmac_md5(key: &[u8], parts: &[&[u8]]) -> [u8; DIGEST_LEN] {
    let mut block_key = [0u8; BLOCK_LEN];
    if key.len() > BLOCK_LEN {
        let mut hashed = Md5::new();
        hashed.update(key);
        block_key[..DIGEST_LEN].copy_from_slice(&hashed.finish());
    } else {
        block_key[..key.len()].copy_from_slice(key);
    }

    let mut inner = Md5::new();
    inner.update(&block_key.map(|byte| byte ^ 0x36));
    for part in parts {
        inner.update(part);
    }
    let inner_digest = inner.finish();

    let mut outer = Md5::new();
    outer
        .update(&block_key.map(|byte| byte ^ 0x5c))
        .update(&inner_digest);
    outer.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(bytes: &[u8]) -> String {
        bytes.iter().map(|byte| format!("{byte:02x}")).collect()
    }

    fn md5(data: &[u8]) -> String {
        let mut hash = Md5::new();
        hash.update(data);
        hex(&hash.finish())
    }

    #[test]
    fn rfc1321_test_suite() {
        assert_eq!(md5(b""), "d41d8cd98f00b204e9800998ecf8427e");
        assert_eq!(md5(b"a"), "0cc175b9c0f1b6a831c399e269772661");
        assert_eq!(md5(b"abc"), "900150983cd24fb0d6963f7d28e17f72");
        assert_eq!(md5(b"message digest"), "f96b697d7cb7938d525a2f31aaf161d0");
        assert_eq!(
            md5(b"abcdefghijklmnopqrstuvwxyz"),
            "c3fcd3d76192e4007dfb496cca67e13b"
        );
        assert_eq!(
            md5(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"),
            "d174ab98d277d9f5a5611c2c9f419d9f"
        );
        assert_eq!(
            md5(
                b"12345678901234567890123456789012345678901234567890123456789012345678901234567890"
            ),
            "57edf4a22be3c955ac49da2e2107b67a"
        );
    }

    #[test]
    fn split_updates_equal_one_update() {
        let data: Vec<u8> = (0..=255).cycle().take(1000).collect();
        for split in [0, 1, 55, 56, 63, 64, 65, 999] {
            let mut hash = Md5::new();
            hash.update(&data[..split]).update(&data[split..]);
            assert_eq!(hex(&hash.finish()), md5(&data), "split at {split}");
        }
    }

    #[test]
    fn rfc2104_test_vectors() {
        assert_eq!(
            hex(&hmac_md5(&[0x0b; 16], &[b"Hi There"])),
            "9294727a3638bb1c13f48ef8158bfc9d"
        );
        assert_eq!(
            hex(&hmac_md5(b"Jefe", &[b"what do ya want ", b"for nothing?"])),
            "750c783e6ab0b503eaa86e310a5db738"
        );
        assert_eq!(
            hex(&hmac_md5(&[0xaa; 16], &[&[0xdd; 50]])),
            "56be34521d144c88dbb8c733f0e8b3f6"
        );
    }

    #[test]
    fn keys_longer_than_a_block_are_hashed_first() {
        // RFC 2202 test case 6.
        let digest = hmac_md5(
            &[0xaa; 80],
            &[b"Test Using Larger Than Block-Size Key - Hash Key First"],
        );
        assert_eq!(hex(&digest), "6b1ab7fe4bd7bf8f0b62e6ce61b9d0cd");
    }
}
