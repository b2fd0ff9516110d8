//! X448 (RFC 7748 §5): the Montgomery ladder, in constant time on the field's Montgomery-form
//! residues. ring has no X448 and the only crate of it on crates.io is unmaintained; the ladder
//! is RFC 7748's pseudocode line for line, checked against its test vectors and against OpenSSL's
//! server.

use crypto_bigint::modular::constant_mod::ResidueParams;
use crypto_bigint::subtle::{Choice, ConditionallySelectable};
use crypto_bigint::{Encoding, U448};

use super::{Element, FieldPrime};

/// The length of scalars, coordinates and shared secrets.
pub const LEN: usize = 56;

/// The u-coordinate of the base point.
const BASE_POINT: u8 = 5;

/// X448(`scalar`, `u`): both little-endian as RFC 7748 encodes them.
pub fn x448(scalar: &[u8; LEN], u: &[u8; LEN]) -> [u8; LEN] {
    let mut k = *scalar;
    k[0] &= 252;
    k[LEN - 1] |= 128;
    let k = U448::from_le_bytes(k);
    // A u-coordinate of p or more is taken modulo p (RFC 7748 §5).
    let x_1 = Element::new(&U448::from_le_bytes(*u).add_mod(&U448::ZERO, &FieldPrime::MODULUS));
    let a24 = Element::new(&U448::from_u32(39081));
    let (mut x_2, mut z_2) = (Element::ONE, Element::ZERO);
    let (mut x_3, mut z_3) = (x_1, Element::ONE);
    let mut swap = Choice::from(0);
    for t in (0..448).rev() {
        let k_t = Choice::from(k.bit(t));
        swap ^= k_t;
        Element::conditional_swap(&mut x_2, &mut x_3, swap);
        Element::conditional_swap(&mut z_2, &mut z_3, swap);
        swap = k_t;
        let a = x_2 + z_2;
        let aa = a.square();
        let b = x_2 - z_2;
        let bb = b.square();
        let e = aa - bb;
        let c = x_3 + z_3;
        let d = x_3 - z_3;
        let da = d * a;
        let cb = c * b;
        x_3 = (da + cb).square();
        z_3 = x_1 * (da - cb).square();
        x_2 = aa * bb;
        z_2 = e * (aa + a24 * e);
    }
    Element::conditional_swap(&mut x_2, &mut x_3, swap);
    Element::conditional_swap(&mut z_2, &mut z_3, swap);
    // z_2 to the power p − 2 is its inverse (and zero stays zero, as RFC 7748 wants).
    let p_minus_2 = FieldPrime::MODULUS.wrapping_sub(&U448::from_u8(2));
    (x_2 * z_2.pow(&p_minus_2)).retrieve().to_le_bytes()
}

/// The public key of `secret`: X448 of the base point.
pub fn public_key(secret: &[u8; LEN]) -> [u8; LEN] {
    let mut base = [0u8; LEN];
    base[0] = BASE_POINT;
    x448(secret, &base)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bytes(hex: &str) -> [u8; LEN] {
        let bytes: Vec<u8> = (0..hex.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).expect("hex"))
            .collect();
        bytes.try_into().expect("56 bytes")
    }

    #[test]
    fn rfc_7748_function_vectors() {
        let cases = [
            (
                "3d262fddf9ec8e88495266fea19a34d28882acef045104d0d1aae121700a779c984c24f8cdd78fbff44943eba368f54b29259a4f1c600ad3",
                "06fce640fa3487bfda5f6cf2d5263f8aad88334cbd07437f020f08f9814dc031ddbdc38c19c6da2583fa5429db94ada18aa7a7fb4ef8a086",
                "ce3e4ff95a60dc6697da1db1d85e6afbdf79b50a2412d7546d5f239fe14fbaadeb445fc66a01b0779d98223961111e21766282f73dd96b6f",
            ),
            (
                "203d494428b8399352665ddca42f9de8fef600908e0d461cb021f8c538345dd77c3e4806e25f46d3315c44e0a5b4371282dd2c8d5be3095f",
                "0fbcc2f993cd56d3305b0b7d9e55d4c1a8fb5dbb52f8e9a1e9b6201b165d015894e56c4d3570bee52fe205e28a78b91cdfbde71ce8d157db",
                "884a02576239ff7a2f2f63b2db6a9ff37047ac13568e1e30fe63c4a7ad1b3ee3a5700df34321d62077e63633c575c1c954514e99da7c179d",
            ),
        ];
        for (scalar, u, expected) in cases {
            assert_eq!(x448(&bytes(scalar), &bytes(u)), bytes(expected));
        }
    }

    #[test]
    fn rfc_7748_diffie_hellman() {
        let alice = bytes(
            "9a8f4925d1519f5775cf46b04b5800d4ee9ee8bae8bc5565d498c28dd9c9baf574a9419744897391006382a6f127ab1d9ac2d8c0a598726b",
        );
        let bob = bytes(
            "1c306a7ac2a0e2e0990b294470cba339e6453772b075811d8fad0d1d6927c120bb5ee8972b0d3e21374c9c921b09d1b0366f10b65173992d",
        );
        let alice_public = public_key(&alice);
        let bob_public = public_key(&bob);
        assert_eq!(
            alice_public,
            bytes(
                "9b08f7cc31b7e3e67d22d5aea121074a273bd2b83de09c63faa73d2c22c5d9bbc836647241d953d40c5b12da88120d53177f80e532c41fa0"
            )
        );
        assert_eq!(
            bob_public,
            bytes(
                "3eb7a829b0cd20f5bcfc0b599b6feccf6da4627107bdb0d4f345b43027d8b972fc3e34fb4232a13ca706dcb57aec3dae07bdc1c67bf33609"
            )
        );
        let shared = bytes(
            "07fff4181ac6cc95ec1c16a94a0f74d12da232ce40a77552281d282bb60c0b56fd2464c335543936521c24403085d59a449a5037514a879d",
        );
        assert_eq!(x448(&alice, &bob_public), shared);
        assert_eq!(x448(&bob, &alice_public), shared);
    }

    #[test]
    fn a_point_of_small_order_gives_zero() {
        assert_eq!(x448(&[7; LEN], &[0; LEN]), [0; LEN]);
        let mut one = [0; LEN];
        one[0] = 1;
        assert_eq!(x448(&[7; LEN], &one), [0; LEN]);
    }
}
