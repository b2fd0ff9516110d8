//! A small definition of flag sets, so each kernel bit field gets named constants, set
//! operations and a readable `Debug` without repeating the plumbing.

/// Defines a `Copy` newtype over an unsigned integer with named flag constants.
///
/// Unknown bits are kept as they are: a value read from the kernel is written back unchanged.
macro_rules! flag_set {
    (
        $(#[$meta:meta])*
        pub struct $name:ident($bits:ty) {
            $( $(#[$flag_meta:meta])* const $flag:ident = $value:expr; )*
        }
    ) => {
        $(#[$meta])*
        #[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
        pub struct $name($bits);

        impl $name {
            $( $(#[$flag_meta])* pub const $flag: Self = Self($value); )*

            /// No flag set.
            pub const EMPTY: Self = Self(0);

            /// The set with exactly these bits, known or not.
            pub const fn from_bits(bits: $bits) -> Self {
                Self(bits)
            }

            /// The raw bits.
            pub const fn bits(self) -> $bits {
                self.0
            }

            /// Whether every flag of `other` is set in `self`.
            pub const fn contains(self, other: Self) -> bool {
                self.0 & other.0 == other.0
            }

            /// Whether no bit is set.
            pub const fn is_empty(self) -> bool {
                self.0 == 0
            }

            /// Sets the flags of `other`.
            pub fn insert(&mut self, other: Self) {
                self.0 |= other.0;
            }

            /// Clears the flags of `other`.
            pub fn remove(&mut self, other: Self) {
                self.0 &= !other.0;
            }

            /// `self` with the flags of `other` set or cleared.
            pub const fn with(self, other: Self, set: bool) -> Self {
                if set { Self(self.0 | other.0) } else { Self(self.0 & !other.0) }
            }
        }

        impl std::ops::BitOr for $name {
            type Output = Self;
            fn bitor(self, other: Self) -> Self {
                Self(self.0 | other.0)
            }
        }

        impl std::ops::BitOrAssign for $name {
            fn bitor_assign(&mut self, other: Self) {
                self.0 |= other.0;
            }
        }

        impl std::fmt::Debug for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                let mut rest = self.0;
                let mut set = f.debug_set();
                $(
                    if $value != 0 && rest & $value == $value {
                        set.entry(&format_args!(stringify!($flag)));
                        rest &= !$value;
                    }
                )*
                if rest != 0 {
                    set.entry(&format_args!("{:#x}", rest));
                }
                set.finish()
            }
        }
    };
}

pub(crate) use flag_set;
