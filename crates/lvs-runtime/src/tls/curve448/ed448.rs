//! Ed448 signatures verified (RFC 8032 §5.2), as a TLS server whose certificate's key is Ed448
//! signs its handshake: "pure" Ed448 with an empty context. Only verification, on public data,
//! so nothing here needs to run in constant time. ring has no Ed448, and the one maintained
//! crate of it is a pre-release that brings a second generation of RustCrypto's crates along;
//! this is RFC 8032's algorithm on the field X448 uses, checked against the RFC's test vectors
//! and against OpenSSL's server.

use std::sync::LazyLock;

use crypto_bigint::modular::constant_mod::ResidueParams;
use crypto_bigint::{Encoding, NonZero, U448, U1024};
use sha3::Shake256;
use sha3::digest::{ExtendableOutput, Update, XofReader};

use super::{Element, FieldPrime};

/// The length of a public key, and of each half of a signature (an encoded point R and the
/// scalar S).
pub const KEY_LEN: usize = 57;
const SIGNATURE_LEN: usize = 2 * KEY_LEN;

/// The order L of the base point: 2^446 − 13818066809895115352007386748515426880336692474882178609894547503885.
const ORDER: U448 = U448::from_be_hex(
    "3fffffffffffffffffffffffffffffffffffffffffffffffffffffff7cca23e9c44edb49aed63690216cc2728dc58f552378c292ab5844f3",
);

/// The base point B, encoded (RFC 8032 §5.2).
const BASE_POINT: [u8; KEY_LEN] = [
    0x14, 0xfa, 0x30, 0xf2, 0x5b, 0x79, 0x08, 0x98, 0xad, 0xc8, 0xd7, 0x4e, 0x2c, 0x13, 0xbd, 0xfd,
    0xc4, 0x39, 0x7c, 0xe6, 0x1c, 0xff, 0xd3, 0x3a, 0xd7, 0xc2, 0xa0, 0x05, 0x1e, 0x9c, 0x78, 0x87,
    0x40, 0x98, 0xa3, 0x6c, 0x73, 0x73, 0xea, 0x4b, 0x62, 0xc7, 0xc9, 0x56, 0x37, 0x20, 0x76, 0x88,
    0x24, 0xbc, 0xb6, 0x6e, 0x71, 0x46, 0x3f, 0x69, 0x00,
];

static BASE: LazyLock<Point> =
    LazyLock::new(|| Point::decode(&BASE_POINT).expect("RFC 8032's base point is on the curve"));

/// dom4(0, ""): what precedes the hashed data of Ed448 without prehash and context.
const DOM4: &[u8] = b"SigEd448\x00\x00";

/// Whether `signature` is the signature of `message` by the holder of `public_key` (RFC 8032
/// §5.2.7, the cofactored group equation).
pub fn verify(public_key: &[u8], message: &[u8], signature: &[u8]) -> bool {
    let (Ok(public_key), Ok(r_encoded), Ok(s_encoded)) = (
        <&[u8; KEY_LEN]>::try_from(public_key),
        <&[u8; KEY_LEN]>::try_from(signature.get(..KEY_LEN).unwrap_or_default()),
        <&[u8; KEY_LEN]>::try_from(signature.get(KEY_LEN..).unwrap_or_default()),
    ) else {
        return false;
    };
    let (Some(a), Some(r), Some(s)) = (
        Point::decode(public_key),
        Point::decode(r_encoded),
        scalar(s_encoded),
    ) else {
        return false;
    };
    let mut hasher = Shake256::default();
    hasher.update(DOM4);
    hasher.update(r_encoded);
    hasher.update(public_key);
    hasher.update(message);
    let mut digest = [0u8; SIGNATURE_LEN];
    hasher.finalize_xof().read(&mut digest);
    let k = reduced(&digest);
    // [4][S]B = [4]R + [4][k]A
    let left = BASE.times(&s.to_le_bytes()).double().double();
    let right = r.add(&a.times(&k.to_le_bytes())).double().double();
    left.equals(&right)
}

/// The scalar S of a signature, which must be below L (RFC 8032 §5.2.7 step 1).
fn scalar(encoded: &[u8; KEY_LEN]) -> Option<U448> {
    let (low, last) = encoded.split_first_chunk::<{ U448::BYTES }>()?;
    let s = U448::from_le_bytes(*low);
    (last == [0] && s < ORDER).then_some(s)
}

/// The 114-byte digest, a little-endian number, modulo L: the same point once multiplied by the
/// cofactor, in half the doublings.
fn reduced(digest: &[u8; SIGNATURE_LEN]) -> U448 {
    let mut wide = [0u8; U1024::BYTES];
    wide[..SIGNATURE_LEN].copy_from_slice(digest);
    let (order, _) = NonZero::<U1024>::const_new(ORDER.resize());
    U1024::from_le_slice(&wide).rem(&order).resize()
}

/// The curve's d: x² + y² = 1 + d·x²·y².
fn curve_d() -> Element {
    Element::ZERO - Element::new(&U448::from_u32(39081))
}

/// A point of the curve in projective coordinates (X : Y : Z), x = X/Z and y = Y/Z.
#[derive(Clone, Copy, Debug)]
struct Point {
    x: Element,
    y: Element,
    z: Element,
}

impl Point {
    const IDENTITY: Point = Point {
        x: Element::ZERO,
        y: Element::ONE,
        z: Element::ONE,
    };

    /// RFC 8032 §5.2.3: y in the low 455 bits (below p), the parity of x in the top bit, x
    /// recovered from the curve's equation.
    fn decode(encoded: &[u8; KEY_LEN]) -> Option<Point> {
        let last = encoded[KEY_LEN - 1];
        if last & 0x7f != 0 {
            return None;
        }
        let x_odd = last >> 7 == 1;
        let y = U448::from_le_slice(&encoded[..KEY_LEN - 1]);
        if y >= FieldPrime::MODULUS {
            return None;
        }
        let y = Element::new(&y);
        let y2 = y.square();
        let u = y2 - Element::ONE;
        let v = curve_d() * y2 - Element::ONE;
        // x = u³v (u⁵v³)^((p−3)/4), a square root of u/v when there is one (p ≡ 3 mod 4).
        let u3v = u.square() * u * v;
        let u5v3 = u3v * u.square() * v.square();
        let exponent = FieldPrime::MODULUS
            .wrapping_sub(&U448::from_u8(3))
            .shr_vartime(2);
        let mut x = u3v * u5v3.pow(&exponent);
        if v * x.square() != u {
            return None;
        }
        let canonical = x.retrieve();
        if canonical == U448::ZERO && x_odd {
            return None;
        }
        if bool::from(canonical.bit(0)) != x_odd {
            x = Element::ZERO - x;
        }
        Some(Point {
            x,
            y,
            z: Element::ONE,
        })
    }

    /// RFC 8032 §5.2.4's addition.
    fn add(&self, other: &Point) -> Point {
        let a = self.z * other.z;
        let b = a.square();
        let c = self.x * other.x;
        let d = self.y * other.y;
        let e = curve_d() * c * d;
        let f = b - e;
        let g = b + e;
        let h = (self.x + self.y) * (other.x + other.y);
        Point {
            x: a * f * (h - c - d),
            y: a * g * (d - c),
            z: f * g,
        }
    }

    /// RFC 8032 §5.2.4's doubling.
    fn double(&self) -> Point {
        let b = (self.x + self.y).square();
        let c = self.x.square();
        let d = self.y.square();
        let e = c + d;
        let h = self.z.square();
        let j = e - h - h;
        Point {
            x: (b - e) * j,
            y: e * (c - d),
            z: e * j,
        }
    }

    /// The point times a little-endian scalar, double-and-add from its top bit.
    fn times(&self, scalar: &[u8]) -> Point {
        let mut sum = Point::IDENTITY;
        for byte in scalar.iter().rev() {
            for bit in (0..8).rev() {
                sum = sum.double();
                if byte >> bit & 1 == 1 {
                    sum = sum.add(self);
                }
            }
        }
        sum
    }

    fn equals(&self, other: &Point) -> bool {
        self.x * other.z == other.x * self.z && self.y * other.z == other.y * self.z
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bytes(hex: &str) -> Vec<u8> {
        (0..hex.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).expect("hex"))
            .collect()
    }

    /// RFC 8032 §7.4, "-----TEST 1" (blank) and "-----TEST 1" (1 octet), without context.
    const VECTORS: [(&str, &str, &str); 2] = [
        (
            "5fd7449b59b461fd2ce787ec616ad46a1da1342485a70e1f8a0ea75d80e96778edf124769b46c7061bd6783df1e50f6cd1fa1abeafe8256180",
            "",
            "533a37f6bbe457251f023c0d88f976ae2dfb504a843e34d2074fd823d41a591f2b233f034f628281f2fd7a22ddd47d7828c59bd0a21bfd3980ff0d2028d4b18a9df63e006c5d1c2d345b925d8dc00b4104852db99ac5c7cdda8530a113a0f4dbb61149f05a7363268c71d95808ff2e652600",
        ),
        (
            "43ba28f430cdff456ae531545f7ecd0ac834a55d9358c0372bfa0c6c6798c0866aea01eb00742802b8438ea4cb82169c235160627b4c3a9480",
            "03",
            "26b8f91727bd62897af15e41eb43c377efb9c610d48f2335cb0bd0087810f4352541b143c4b981b7e18f62de8ccdf633fc1bf037ab7cd779805e0dbcc0aae1cbcee1afb2e027df36bc04dcecbf154336c19f0af7e0a6472905e799f1953d2a0ff3348ab21aa4adafd1d234441cf807c03a00",
        ),
    ];

    #[test]
    fn rfc_8032_signatures_verify() {
        for (key, message, signature) in VECTORS {
            assert!(verify(&bytes(key), &bytes(message), &bytes(signature)));
        }
    }

    #[test]
    fn a_changed_message_key_or_signature_does_not_verify() {
        let (key, message, signature) = VECTORS[1];
        let (key, message, signature) = (bytes(key), bytes(message), bytes(signature));
        assert!(!verify(&key, b"\x04", &signature));
        assert!(!verify(&bytes(VECTORS[0].0), &message, &signature));
        for at in [0, 30, KEY_LEN, KEY_LEN + 30] {
            let mut changed = signature.clone();
            changed[at] ^= 1;
            assert!(!verify(&key, &message, &changed), "byte {at} changed");
        }
        assert!(!verify(&key[1..], &message, &signature));
        assert!(!verify(&key, &message, &signature[1..]));
    }

    #[test]
    fn a_scalar_of_l_or_more_is_refused() {
        let (key, message, signature) = VECTORS[1];
        let mut signature = bytes(signature);
        // S + L is the same scalar modulo L, and must be refused all the same.
        let s = U448::from_le_slice(&signature[KEY_LEN..SIGNATURE_LEN - 1]);
        let s_plus_l = s.wrapping_add(&ORDER);
        assert!(s_plus_l > s, "no carry out of 448 bits");
        signature[KEY_LEN..SIGNATURE_LEN - 1].copy_from_slice(&s_plus_l.to_le_bytes());
        assert!(!verify(&bytes(key), &bytes(message), &signature));
    }

    #[test]
    fn points_off_the_curve_or_out_of_the_field_are_not_decoded() {
        assert!(Point::decode(&BASE_POINT).is_some());
        // y = p: out of the field.
        let mut y_is_p = [0u8; KEY_LEN];
        y_is_p[..KEY_LEN - 1].copy_from_slice(&FieldPrime::MODULUS.to_le_bytes());
        assert!(Point::decode(&y_is_p).is_none());
        // A bit of the last byte's low seven set.
        let mut high = BASE_POINT;
        high[KEY_LEN - 1] |= 1;
        assert!(Point::decode(&high).is_none());
        // y = 1 makes x = 0, whose sign cannot be odd.
        let mut one = [0u8; KEY_LEN];
        one[0] = 1;
        assert!(Point::decode(&one).is_some());
        one[KEY_LEN - 1] = 0x80;
        assert!(Point::decode(&one).is_none());
        // y = 2: (y² − 1)/(d·y² − 1) = 3/(−4·39081 − 1) has no square root.
        let mut two = [0u8; KEY_LEN];
        two[0] = 2;
        assert!(Point::decode(&two).is_none());
    }

    #[test]
    fn the_base_point_has_order_l() {
        let identity = Point::IDENTITY;
        assert!(BASE.times(&ORDER.to_le_bytes()).equals(&identity));
        assert!(!BASE.times(&[1]).equals(&identity));
        // The addition and the doubling agree.
        assert!(BASE.add(&BASE).equals(&BASE.double()));
        assert!(BASE.times(&[3]).equals(&BASE.double().add(&BASE)));
    }
}
