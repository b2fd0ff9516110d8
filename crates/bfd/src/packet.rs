//! The BFD control packet (RFC 5880 4.1) without authentication: 24 bytes.
//!
//! ```text
//!  0                   1                   2                   3
//!  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//! |Vers |  Diag   |Sta|P|F|C|A|D|M|  Detect Mult  |    Length     |
//! |                       My Discriminator                        |
//! |                      Your Discriminator                       |
//! |                    Desired Min TX Interval                    |
//! |                   Required Min RX Interval                    |
//! |                 Required Min Echo RX Interval                 |
//! ```

use std::fmt;

use thiserror::Error;

/// The length of a control packet without an authentication section.
pub const CONTROL_LEN: usize = 24;
/// The only version (RFC 5880).
pub const VERSION: u8 = 1;

/// A session state, as carried in the `Sta` field.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum State {
    AdminDown,
    Down,
    Init,
    Up,
}

impl State {
    fn from_bits(bits: u8) -> State {
        match bits & 3 {
            0 => State::AdminDown,
            1 => State::Down,
            2 => State::Init,
            _ => State::Up,
        }
    }

    fn bits(self) -> u8 {
        match self {
            State::AdminDown => 0,
            State::Down => 1,
            State::Init => 2,
            State::Up => 3,
        }
    }
}

impl fmt::Display for State {
    /// keepalived's names (`BFD_STATE_STR`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            State::AdminDown => "AdminDown",
            State::Down => "Down",
            State::Init => "Init",
            State::Up => "Up",
        })
    }
}

/// The diagnostic code (RFC 5880 4.1); values above 8 are refused on receipt, as keepalived does.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Diagnostic(pub u8);

impl Diagnostic {
    pub const NONE: Diagnostic = Diagnostic(0);
    pub const EXPIRED: Diagnostic = Diagnostic(1);
    pub const NEIGHBOR_SIGNALED_DOWN: Diagnostic = Diagnostic(3);
    pub const ADMIN_DOWN: Diagnostic = Diagnostic(7);
    /// The highest code RFC 5880 defines.
    pub const MAX: u8 = 8;
}

impl fmt::Display for Diagnostic {
    /// keepalived's texts (`BFD_DIAG_STR`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self.0 {
            0 => "No Diagnostic",
            1 => "Control Detection Time Expired",
            2 => "Echo Function Failed",
            3 => "Neighbor Signaled Session Down",
            4 => "Forwarding Plane Reset",
            5 => "Path Down",
            6 => "Concatenated Path Down",
            7 => "Administratively Down",
            8 => "Reverse Concatenated Path Down",
            _ => "Unknown",
        })
    }
}

/// A control packet. Intervals are in microseconds, as on the wire.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Control {
    pub diagnostic: Diagnostic,
    pub state: State,
    pub poll: bool,
    pub final_: bool,
    pub control_plane_independent: bool,
    pub authentication: bool,
    pub demand: bool,
    pub multipoint: bool,
    pub detect_mult: u8,
    pub my_discriminator: u32,
    pub your_discriminator: u32,
    pub desired_min_tx: u32,
    pub required_min_rx: u32,
    pub required_min_echo_rx: u32,
}

/// Why a received packet is dropped (RFC 5880 6.8.6, and keepalived's `bfd_check_packet`).
#[derive(Clone, Copy, Debug, Error, PartialEq, Eq)]
pub enum DropReason {
    #[error("Packet is too small: {0} bytes")]
    TooShort(usize),
    #[error("Packet size mismatch: length field: {field} bytes, buffer size: {received} bytes")]
    LengthMismatch { field: u8, received: usize },
    #[error("Packet is of unsupported version: {0}")]
    Version(u8),
    #[error("Packet 'detection multiplier' field is zero")]
    ZeroDetectMult,
    #[error("Packet has 'multipoint' flag")]
    Multipoint,
    #[error("Packet 'my discriminator' field is zero")]
    ZeroMyDiscriminator,
    #[error("Packet 'your discriminator' field is zero and 'state' field is not Down or AdminDown")]
    ZeroYourDiscriminator,
    #[error("Packet has both poll and final flags set")]
    PollAndFinal,
    #[error("Packet has invalid 'diag' field: {0}")]
    Diagnostic(u8),
    #[error("auth bit is set, but no authentication is in use")]
    Authentication,
}

impl Control {
    /// The packet's bytes (no authentication section).
    pub fn encode(&self) -> [u8; CONTROL_LEN] {
        let mut out = [0u8; CONTROL_LEN];
        out[0] = (VERSION << 5) | (self.diagnostic.0 & 0x1f);
        out[1] = (self.state.bits() << 6)
            | (u8::from(self.poll) << 5)
            | (u8::from(self.final_) << 4)
            | (u8::from(self.control_plane_independent) << 3)
            | (u8::from(self.authentication) << 2)
            | (u8::from(self.demand) << 1)
            | u8::from(self.multipoint);
        out[2] = self.detect_mult;
        out[3] = CONTROL_LEN as u8;
        out[4..8].copy_from_slice(&self.my_discriminator.to_be_bytes());
        out[8..12].copy_from_slice(&self.your_discriminator.to_be_bytes());
        out[12..16].copy_from_slice(&self.desired_min_tx.to_be_bytes());
        out[16..20].copy_from_slice(&self.required_min_rx.to_be_bytes());
        out[20..24].copy_from_slice(&self.required_min_echo_rx.to_be_bytes());
        out
    }

    /// Takes a received UDP payload apart and validates it as RFC 5880 6.8.6 and keepalived 2.2.7
    /// do (keepalived wants the length field to equal the datagram's length, and a known diagnostic).
    /// Packets with the authentication bit are refused: no session here uses authentication.
    pub fn decode(bytes: &[u8]) -> Result<Control, DropReason> {
        if bytes.len() < CONTROL_LEN {
            return Err(DropReason::TooShort(bytes.len()));
        }
        let length = bytes[3];
        if usize::from(length) != bytes.len() {
            return Err(DropReason::LengthMismatch {
                field: length,
                received: bytes.len(),
            });
        }
        let version = bytes[0] >> 5;
        if version != VERSION {
            return Err(DropReason::Version(version));
        }
        let word = |at: usize| {
            u32::from_be_bytes([bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]])
        };
        let flags = bytes[1];
        let control = Control {
            diagnostic: Diagnostic(bytes[0] & 0x1f),
            state: State::from_bits(flags >> 6),
            poll: flags & 0x20 != 0,
            final_: flags & 0x10 != 0,
            control_plane_independent: flags & 0x08 != 0,
            authentication: flags & 0x04 != 0,
            demand: flags & 0x02 != 0,
            multipoint: flags & 0x01 != 0,
            detect_mult: bytes[2],
            my_discriminator: word(4),
            your_discriminator: word(8),
            desired_min_tx: word(12),
            required_min_rx: word(16),
            required_min_echo_rx: word(20),
        };
        if control.detect_mult == 0 {
            return Err(DropReason::ZeroDetectMult);
        }
        if control.multipoint {
            return Err(DropReason::Multipoint);
        }
        if control.my_discriminator == 0 {
            return Err(DropReason::ZeroMyDiscriminator);
        }
        if control.your_discriminator == 0
            && !matches!(control.state, State::Down | State::AdminDown)
        {
            return Err(DropReason::ZeroYourDiscriminator);
        }
        if control.poll && control.final_ {
            return Err(DropReason::PollAndFinal);
        }
        if control.diagnostic.0 > Diagnostic::MAX {
            return Err(DropReason::Diagnostic(control.diagnostic.0));
        }
        if control.authentication {
            return Err(DropReason::Authentication);
        }
        Ok(control)
    }
}

/// RFC 5881 5 (GTSM), extended by keepalived with `max_hops`: a packet is dropped when it arrived with
/// a TTL / hop limit below `ttl - max_hops` (`max_hops` 255, keepalived's -1: never). A packet whose
/// TTL the kernel did not give (`None`) is not dropped, as in keepalived.
pub fn ttl_too_low(received: Option<u8>, ttl: u8, max_hops: u8) -> bool {
    if max_hops == u8::MAX {
        return false;
    }
    match received {
        Some(received) => u16::from(max_hops) + u16::from(received) < u16::from(ttl),
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Control {
        Control {
            diagnostic: Diagnostic::EXPIRED,
            state: State::Init,
            poll: true,
            final_: false,
            control_plane_independent: false,
            authentication: false,
            demand: false,
            multipoint: false,
            detect_mult: 5,
            my_discriminator: 0x0102_0304,
            your_discriminator: 0xa0b0_c0d0,
            desired_min_tx: 1_000_000,
            required_min_rx: 10_000,
            required_min_echo_rx: 0,
        }
    }

    #[test]
    fn encodes_the_rfc_layout() {
        let bytes = sample().encode();
        assert_eq!(
            bytes,
            [
                0x21, 0xa0, 5, 24, 1, 2, 3, 4, 0xa0, 0xb0, 0xc0, 0xd0, 0x00, 0x0f, 0x42, 0x40,
                0x00, 0x00, 0x27, 0x10, 0, 0, 0, 0
            ]
        );
        assert_eq!(Control::decode(&bytes), Ok(sample()));
    }

    #[test]
    fn decodes_a_packet_of_keepalived() {
        // A Down packet of keepalived 2.2.7 just after start (idle_tx 1 s, min_rx 10 ms, mult 5).
        let bytes = [
            0x20, 0x40, 5, 24, 0x5e, 0x11, 0x22, 0x33, 0, 0, 0, 0, 0x00, 0x0f, 0x42, 0x40, 0x00,
            0x00, 0x27, 0x10, 0, 0, 0, 0,
        ];
        let control = Control::decode(&bytes).expect("valid");
        assert_eq!(control.state, State::Down);
        assert_eq!(control.my_discriminator, 0x5e11_2233);
        assert_eq!(control.your_discriminator, 0);
        assert_eq!(control.desired_min_tx, 1_000_000);
        assert_eq!(control.required_min_rx, 10_000);
        assert_eq!(control.detect_mult, 5);
    }

    #[test]
    fn refuses_what_rfc_5880_and_keepalived_refuse() {
        let good = sample().encode();
        let with = |f: &dyn Fn(&mut [u8; 24])| {
            let mut b = good;
            f(&mut b);
            Control::decode(&b)
        };
        assert_eq!(Control::decode(&good[..23]), Err(DropReason::TooShort(23)));
        let mut long = good.to_vec();
        long.push(0);
        assert_eq!(
            Control::decode(&long),
            Err(DropReason::LengthMismatch {
                field: 24,
                received: 25
            })
        );
        assert_eq!(with(&|b| b[0] = 0x41), Err(DropReason::Version(2)));
        assert_eq!(with(&|b| b[2] = 0), Err(DropReason::ZeroDetectMult));
        assert_eq!(with(&|b| b[1] |= 1), Err(DropReason::Multipoint));
        assert_eq!(
            with(&|b| b[4..8].copy_from_slice(&[0; 4])),
            Err(DropReason::ZeroMyDiscriminator)
        );
        assert_eq!(
            with(&|b| b[8..12].copy_from_slice(&[0; 4])),
            Err(DropReason::ZeroYourDiscriminator)
        );
        // Down (and AdminDown) may have no "your discriminator".
        assert!(
            with(&|b| {
                b[8..12].copy_from_slice(&[0; 4]);
                b[1] = 0x40;
            })
            .is_ok()
        );
        assert_eq!(with(&|b| b[1] |= 0x10), Err(DropReason::PollAndFinal));
        assert_eq!(with(&|b| b[0] = 0x29), Err(DropReason::Diagnostic(9)));
        assert_eq!(with(&|b| b[1] |= 0x04), Err(DropReason::Authentication));
    }

    #[test]
    fn single_hop_wants_the_full_ttl() {
        assert!(!ttl_too_low(Some(255), 255, 0));
        assert!(ttl_too_low(Some(254), 255, 0));
        assert!(!ttl_too_low(Some(253), 255, 2));
        assert!(ttl_too_low(Some(252), 255, 2));
        assert!(!ttl_too_low(Some(1), 255, 255));
        assert!(!ttl_too_low(None, 255, 0));
        assert!(!ttl_too_low(Some(64), 64, 0));
    }
}
