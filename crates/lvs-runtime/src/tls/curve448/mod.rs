//! Curve448's field, 2^448 − 2^224 − 1, and what keepalived's OpenSSL does on it that ring does
//! not: X448 key exchange and Ed448 signatures.

pub mod ed448;
pub mod x448;

use crypto_bigint::{U448, impl_modulus};

impl_modulus!(
    FieldPrime,
    U448,
    "fffffffffffffffffffffffffffffffffffffffffffffffffffffffeffffffffffffffffffffffffffffffffffffffffffffffffffffffff"
);

/// An element of the field, in Montgomery form (crypto-bigint's residues: always reduced, so
/// equal elements compare equal).
type Element = crypto_bigint::modular::constant_mod::Residue<FieldPrime, { U448::LIMBS }>;
