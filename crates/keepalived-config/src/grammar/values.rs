//! Value syntax: numbers, timers, booleans, addresses — read the way keepalived 2.2.7 reads
//! them, with its messages for bad values.
//!
//! Numbers follow C's `strtol`/`strtoul`: optional blanks and sign, decimal digits, nothing
//! after. Timers are decimal seconds with up to six decimals (no exponent, no unit).

use std::net::IpAddr;
use std::time::Duration;

use nom::bytes::complete::{tag, take_while, take_while1};
use nom::character::complete::{digit0, one_of};
use nom::combinator::opt;
use nom::sequence::{pair, preceded};
use nom::{IResult, Parser as _};

use crate::model::net::{AddressFamily, IpPrefix};

/// The result of reading a number: the value, or keepalived's message about it.
pub type NumberResult<T> = Result<T, String>;

/// Parses the text of a C integer: optional leading white space, sign, then digits. Returns the
/// sign, the digits and what follows.
fn c_integer(input: &str) -> IResult<&str, (Option<char>, &str)> {
    preceded(
        take_while(|c: char| " \t\n\r\x0b\x0c".contains(c)),
        pair(opt(one_of("+-")), digit0),
    )
    .parse(input)
}

/// C's `strtol(text, &end, 10)`: the value (saturated) and whether all of the text was used.
fn strtol(text: &str) -> (i128, bool, bool) {
    match c_integer(text) {
        Ok((rest, (sign, digits))) => {
            if digits.is_empty() {
                // No conversion: the end pointer stays at the start of the text.
                return (0, text.is_empty(), false);
            }
            let magnitude: i128 = digits.parse::<i128>().unwrap_or(i128::MAX);
            let value = if sign == Some('-') {
                -magnitude
            } else {
                magnitude
            };
            (value, rest.is_empty(), true)
        }
        Err(_) => (0, text.is_empty(), false),
    }
}

/// The value C's `strtol` reads from `text` (0 without digits), saturated.
pub fn strtol_value(text: &str) -> i64 {
    strtol(text)
        .0
        .clamp(i128::from(i64::MIN), i128::from(i64::MAX)) as i64
}

/// keepalived's `read_int`: a signed number in `[min, max]`.
pub fn read_int(text: &str, min: i64, max: i64) -> NumberResult<i64> {
    let (value, complete, _) = strtol(text);
    if !complete {
        Err(format!("invalid number '{text}'"))
    } else if value < i128::from(i32::MIN) || value > i128::from(i32::MAX) {
        Err(format!("number '{text}' outside integer range"))
    } else if value < i128::from(min) || value > i128::from(max) {
        Err(format!("number '{text}' outside range [{min}, {max}]"))
    } else {
        Ok(value as i64)
    }
}

/// keepalived's `read_unsigned`: an unsigned number in `[min, max]`.
pub fn read_unsigned(text: &str, min: u64, max: u64) -> NumberResult<u64> {
    let trimmed = text.trim_start_matches([' ', '\t', '\n', '\r', '\x0b', '\x0c']);
    let (value, complete, _) = strtol(trimmed);
    if trimmed.starts_with('-') {
        Err(format!("negative number '{text}'"))
    } else if !complete {
        Err(format!("invalid number '{text}'"))
    } else if value > i128::from(u32::MAX) {
        Err(format!("number '{text}' outside unsigned integer range"))
    } else if value < i128::from(min) || value > i128::from(max) {
        Err(format!("number '{text}' outside range [{min}, {max}]"))
    } else {
        Ok(value as u64)
    }
}

/// keepalived's `read_unsigned64`.
pub fn read_unsigned64(text: &str, min: u64, max: u64) -> NumberResult<u64> {
    let trimmed = text.trim_start_matches([' ', '\t', '\n', '\r', '\x0b', '\x0c']);
    let (value, complete, _) = strtol(trimmed);
    if trimmed.starts_with('-') {
        Err(format!("negative number '{text}'"))
    } else if !complete {
        Err(format!("invalid number '{text}'"))
    } else if value > i128::from(u64::MAX) {
        Err(format!("number '{text}' outside unsigned 64 bit range"))
    } else if value < i128::from(min) || value > i128::from(max) {
        Err(format!("number '{text}' outside range [{min}, {max}]"))
    } else {
        Ok(value as u64)
    }
}

/// C's `strtoull(text, &end, 10)`: the value (saturated, with an overflow flag) and whether all
/// of the text was used.
fn strtoull(text: impl Iterator<Item = u8>) -> (u128, bool, bool) {
    let mut bytes = text.peekable();
    let empty = bytes.peek().is_none();
    while bytes
        .next_if(|b| matches!(b, b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c))
        .is_some()
    {}
    let _ = bytes.next_if_eq(&b'+');
    let mut value: u128 = 0;
    let mut digits = 0usize;
    while let Some(digit) = bytes.next_if(u8::is_ascii_digit) {
        value = value
            .saturating_mul(10)
            .saturating_add(u128::from(digit - b'0'));
        digits += 1;
    }
    let complete = if digits == 0 {
        empty
    } else {
        bytes.peek().is_none()
    };
    (value, complete, value > u128::from(u64::MAX))
}

/// keepalived's `read_decimal_unsigned_long`: a decimal number with at most `shift` decimals,
/// returned multiplied by 10^shift. Returns keepalived's messages and the value it uses.
///
/// Like keepalived (which reads these with `ignore_error`), a number followed by junk is
/// reported as invalid but its numeric prefix is still used when in range; more decimals than
/// `shift` are rounded with a message.
pub fn read_decimal(text: &str, shift: u32, min: u64, max: u64) -> (Vec<String>, Option<u64>) {
    let mut messages = Vec::new();
    if text.starts_with('-') {
        messages.push(format!("negative number '{text}'"));
        return (messages, None);
    }
    let bytes = text.as_bytes();
    let shift = shift as usize;
    let dot = bytes.iter().position(|&b| b == b'.');
    let mut decimals = dot.map_or(0, |d| bytes.len() - d - 1);
    let mut round_up = false;
    if decimals > shift {
        messages.push(format!("number '{text}' has too many decimal places"));
        round_up = dot
            .and_then(|d| bytes.get(d + shift + 1))
            .is_some_and(|&b| b >= b'5');
        decimals = shift;
    }
    // The number without its dot, padded to `shift` decimals.
    let (whole, fraction) = match dot {
        Some(d) => (&bytes[..d], &bytes[d + 1..d + 1 + decimals]),
        None => (bytes, &[][..]),
    };
    let digits = whole
        .iter()
        .chain(fraction)
        .copied()
        .chain(std::iter::repeat_n(b'0', shift - decimals));
    let (mut value, complete, overflow) = strtoull(digits);
    if round_up {
        value += 1;
    }
    if !complete {
        messages.push(format!("invalid number '{text}'"));
    } else if overflow {
        messages.push(format!("number '{text}' outside unsigned decimal range"));
        return (messages, None);
    } else if value < u128::from(min) || value > u128::from(max) {
        // keepalived writes the bounds with `shift` decimals: none at all for 0 ("5.").
        let scale = 10u64.pow(shift as u32);
        let bound = |n: u64| match shift {
            0 => format!("{n}."),
            _ => format!("{}.{:0shift$}", n / scale, n % scale),
        };
        messages.push(format!(
            "number '{text}' outside range [{}, {}]",
            bound(min),
            bound(max)
        ));
    } else {
        return (messages, Some(value as u64));
    }
    let usable = value >= u128::from(min) && value <= u128::from(max);
    (messages, usable.then_some(value as u64))
}

/// The largest timer keepalived accepts (`TIMER_MAXIMUM`), in microseconds.
pub const TIMER_MAXIMUM_US: u64 = u64::MAX / 2;

/// keepalived's `read_timer`: seconds with up to six decimals, in `[min_us, max_us]`
/// microseconds (`max_us == 0` means no upper bound).
pub fn read_timer(text: &str, min_us: u64, max_us: u64) -> (Vec<String>, Option<Duration>) {
    let max = if max_us == 0 {
        TIMER_MAXIMUM_US
    } else {
        max_us
    };
    let (messages, value) = read_decimal(text, 6, min_us, max);
    (messages, value.map(Duration::from_micros))
}

/// keepalived's `check_true_false`: `true on yes` / `false off no`.
pub fn read_bool(text: &str) -> Option<bool> {
    match text {
        "true" | "on" | "yes" => Some(true),
        "false" | "off" | "no" => Some(false),
        _ => None,
    }
}

/// An address as `inet_pton` reads it (IPv4 dotted quad, or IPv6).
pub fn parse_address(text: &str) -> Option<IpAddr> {
    text.parse().ok()
}

/// An IPv4 address as the C library's `inet_aton` reads it: one to four parts separated by
/// dots, each decimal, octal (leading `0`) or hex (`0x`); the last part fills the remaining
/// bytes (`10.1` is 10.0.0.1, `24` is 0.0.0.24).
pub fn parse_inet_aton(text: &str) -> Option<std::net::Ipv4Addr> {
    let parts: Vec<u32> = text
        .split('.')
        .map(|part| {
            let (digits, radix) =
                if let Some(hex) = part.strip_prefix("0x").or_else(|| part.strip_prefix("0X")) {
                    (hex, 16)
                } else if part.len() > 1 && part.starts_with('0') {
                    (&part[1..], 8)
                } else {
                    (part, 10)
                };
            if digits.is_empty() || !digits.chars().all(|c| c.is_digit(radix)) {
                return None;
            }
            u32::from_str_radix(digits, radix).ok()
        })
        .collect::<Option<_>>()?;
    let (last, leading) = parts.split_last()?;
    if leading.len() > 3 || leading.iter().any(|&p| p > 0xff) {
        return None;
    }
    let room = 32 - 8 * leading.len() as u32;
    if room < 32 && *last >> room != 0 {
        return None;
    }
    let value = leading
        .iter()
        .enumerate()
        .fold(*last, |acc, (i, &p)| acc | (p << (24 - 8 * i as u32)));
    Some(std::net::Ipv4Addr::from(value))
}

/// An address with an optional `/len` prefix, as `inet_stor`/`parse_ipaddress` read it.
/// Returns the address and the prefix text (if any).
pub fn split_prefix(text: &str) -> (&str, Option<&str>) {
    match text.split_once('/') {
        Some((address, len)) => (address, Some(len)),
        None => (text, None),
    }
}

/// A prefix `ADDR/LEN` where `LEN` must be valid for the family.
pub fn parse_prefix(text: &str) -> Option<IpPrefix> {
    let (address, len) = split_prefix(text);
    let address = parse_address(address)?;
    let max = AddressFamily::of(&address).max_prefix_len();
    let len = match len {
        Some(l) => l.parse::<u8>().ok().filter(|&l| l <= max)?,
        None => max,
    };
    Some(IpPrefix { address, len })
}

/// A MAC address `xx:xx:xx:xx:xx:xx` (or with 5 octets when `allow_short`).
pub fn parse_mac(text: &str) -> Option<Vec<u8>> {
    fn octet(input: &str) -> IResult<&str, &str> {
        take_while1(|c: char| c.is_ascii_hexdigit()).parse(input)
    }
    let mut out = Vec::new();
    let mut rest = text;
    loop {
        let (r, digits) = octet(rest).ok()?;
        if digits.len() > 2 {
            return None;
        }
        out.push(u8::from_str_radix(digits, 16).ok()?);
        if r.is_empty() {
            return Some(out);
        }
        let (r, _) = tag::<_, _, nom::error::Error<&str>>(":").parse(r).ok()?;
        rest = r;
    }
}

/// A port number in `[1, 65535]` given as text; `0` allowed when `allow_zero`.
pub fn parse_port(text: &str, allow_zero: bool) -> Option<u16> {
    let (value, complete, digits) = strtol(text);
    if !complete || !digits || value < i128::from(!allow_zero as u8) || value > 65535 {
        return None;
    }
    Some(value as u16)
}

/// Hexadecimal octets written freely (`Ab12f 3 456`), as keepalived's `read_hex_str`:
/// pairs of hex digits, a lone digit before a blank being one octet. With `wildcards`, `x`/`X`
/// stands for any nibble; the second vector is the mask of nibbles to compare.
pub fn read_hex_str(text: &str, wildcards: bool) -> Option<(Vec<u8>, Vec<u8>)> {
    let nibble = |c: u8| -> Option<(u8, u8)> {
        match c {
            b'0'..=b'9' => Some((c - b'0', 0xf)),
            b'a'..=b'f' => Some((c - b'a' + 10, 0xf)),
            b'A'..=b'F' => Some((c - b'A' + 10, 0xf)),
            b'x' | b'X' if wildcards => Some((0, 0)),
            _ => None,
        }
    };
    let bytes = text.as_bytes();
    let mut data = Vec::new();
    let mut mask = Vec::new();
    let mut i = 0;
    loop {
        while i < bytes.len() && (bytes[i] == b' ' || bytes[i] == b'\t') {
            i += 1;
        }
        if i >= bytes.len() {
            break;
        }
        let (mut value, mut m) = nibble(bytes[i])?;
        i += 1;
        if i < bytes.len() && bytes[i] != b' ' {
            let (v2, m2) = nibble(bytes[i])?;
            i += 1;
            value = value << 4 | v2;
            m = m << 4 | m2;
        }
        data.push(value);
        mask.push(m);
    }
    if data.is_empty() {
        return None;
    }
    Some((data, mask))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inet_aton_forms() {
        let v4 = |t: &str| parse_inet_aton(t).map(|a| a.to_string());
        assert_eq!(v4("255.255.0.0").as_deref(), Some("255.255.0.0"));
        assert_eq!(v4("24").as_deref(), Some("0.0.0.24"));
        assert_eq!(v4("10.1").as_deref(), Some("10.0.0.1"));
        assert_eq!(v4("0x7f.1").as_deref(), Some("127.0.0.1"));
        assert_eq!(v4("010.0.0.1").as_deref(), Some("8.0.0.1"));
        assert_eq!(v4("1.2.3.256"), None);
        assert_eq!(v4("1.256.3"), None);
        assert_eq!(v4("99999999999"), None);
        assert_eq!(v4("-1"), None);
        assert_eq!(v4("1.2.3.4.5"), None);
        assert_eq!(v4("08"), None);
    }

    #[test]
    fn integers_follow_strtol() {
        assert_eq!(read_int("100", 1, 255), Ok(100));
        assert_eq!(read_int(" +7", 1, 255), Ok(7));
        assert_eq!(
            read_int("100.5", 1, 255),
            Err("invalid number '100.5'".into())
        );
        assert_eq!(
            read_int("300", 1, 255),
            Err("number '300' outside range [1, 255]".into())
        );
        assert_eq!(
            read_int("99999999999", 1, 255),
            Err("number '99999999999' outside integer range".into())
        );
        assert_eq!(
            read_unsigned("-1", 0, 10),
            Err("negative number '-1'".into())
        );
        assert_eq!(
            read_unsigned("abc", 0, 10),
            Err("invalid number 'abc'".into())
        );
        // No digits at all: strtol converts nothing and stops at the end of an empty string.
        assert_eq!(read_unsigned("", 0, 10), Ok(0));
    }

    #[test]
    fn timers_are_decimal_seconds() {
        assert_eq!(
            read_timer("2.25", 0, 0),
            (vec![], Some(Duration::from_micros(2_250_000)))
        );
        let (messages, value) = read_timer("0.0000015", 0, 0);
        assert_eq!(
            messages,
            vec!["number '0.0000015' has too many decimal places".to_owned()]
        );
        assert_eq!(value, Some(Duration::from_micros(2)));
        assert_eq!(
            read_decimal("0", 2, 1, 25500),
            (
                vec!["number '0' outside range [0.01, 255.00]".to_owned()],
                None
            )
        );
        assert_eq!(
            read_decimal("-1", 2, 0, 25500),
            (vec!["negative number '-1'".to_owned()], None)
        );
        // Junk after a number is reported, yet the number is used when in range (keepalived
        // reads timers with ignore_error).
        assert_eq!(
            read_timer("1e2", 0, 0),
            (
                vec!["invalid number '1e2'".to_owned()],
                Some(Duration::from_micros(1))
            )
        );
        assert_eq!(
            read_timer("1e2", 2, 0),
            (vec!["invalid number '1e2'".to_owned()], None)
        );
    }

    #[test]
    fn booleans_are_lower_case_words() {
        assert_eq!(read_bool("yes"), Some(true));
        assert_eq!(read_bool("off"), Some(false));
        assert_eq!(read_bool("Yes"), None);
    }

    #[test]
    fn addresses_prefixes_macs_and_hex() {
        assert_eq!(parse_prefix("10.0.0.0/8").map(|p| p.len), Some(8));
        assert_eq!(parse_prefix("10.0.0.1").map(|p| p.len), Some(32));
        assert_eq!(parse_prefix("10.0.0.0/33"), None);
        assert!(parse_address("10.0.0.300").is_none());
        assert_eq!(
            parse_mac("00:00:5e:00:01:33"),
            Some(vec![0, 0, 0x5e, 0, 1, 0x33])
        );
        assert_eq!(parse_port("0", false), None);
        assert_eq!(parse_port("80", false), Some(80));
        assert_eq!(
            read_hex_str("Ab12f 3 456", false).map(|d| d.0),
            Some(vec![0xab, 0x12, 0x0f, 0x03, 0x45, 0x06])
        );
        assert_eq!(read_hex_str("1X", true).map(|d| d.1), Some(vec![0xf0]));
    }
}
