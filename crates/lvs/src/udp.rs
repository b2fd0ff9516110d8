//! The verdict of `UDP_CHECK` on a reply, as keepalived 2.2.7's `check_udp.c`: with
//! `require_reply DATA` the reply must be `min_reply_length`..=`max_reply_length` bytes long and
//! its first bytes (as many as both have) must equal the data where the mask says so (`X`
//! nibbles match anything). Without data any reply will do; without `require_reply` no reply is
//! needed at all (silence until the timeout is success, an ICMP unreachable is failure).

use keepalived_config::model::lvs::UdpCheck;

/// keepalived's filler when no `payload` is given: "keepalived check - " repeated.
pub fn default_payload() -> Vec<u8> {
    crate::ping::filler(32)
}

/// What is sent.
pub fn payload(check: &UdpCheck) -> Vec<u8> {
    check.payload.clone().unwrap_or_else(default_payload)
}

/// Whether silence until the timeout counts as success.
pub fn silence_is_success(check: &UdpCheck) -> bool {
    check.require_reply.is_none()
}

/// The largest datagram worth reading: one byte more than the longest reply accepted.
pub fn receive_size(check: &UdpCheck) -> usize {
    check.max_reply_length as usize + 1
}

/// Whether a reply is good.
pub fn reply_ok(check: &UdpCheck, reply: &[u8]) -> bool {
    let Some((data, mask)) = &check.require_reply else {
        return true;
    };
    if data.is_empty() {
        return true;
    }
    let length = reply.len() as u64;
    if length < u64::from(check.min_reply_length) || length > u64::from(check.max_reply_length) {
        return false;
    }
    reply
        .iter()
        .zip(data)
        .zip(mask.iter().chain(std::iter::repeat(&0xff)))
        .all(|((got, want), mask)| (got ^ want) & mask == 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(reply: Option<(&[u8], &[u8])>, min: u32, max: u32) -> UdpCheck {
        UdpCheck {
            payload: None,
            require_reply: reply.map(|(d, m)| (d.to_vec(), m.to_vec())),
            min_reply_length: min,
            max_reply_length: max,
        }
    }

    #[test]
    fn without_require_reply_anything_and_silence_will_do() {
        let c = check(None, 0, 255);
        assert!(silence_is_success(&c));
        assert!(reply_ok(&c, b"whatever"));
        assert_eq!(payload(&c).len(), 32);
        assert!(payload(&c).starts_with(b"keepalived check - keep"));
    }

    #[test]
    fn data_and_mask_are_compared_over_the_shorter_length() {
        // "require_reply 41 4X 43": the second byte's low nibble is free.
        let c = check(Some((&[0x41, 0x40, 0x43], &[0xff, 0xf0, 0xff])), 0, 255);
        assert!(!silence_is_success(&c));
        assert!(reply_ok(&c, b"ABC"));
        assert!(reply_ok(&c, b"AOC"));
        assert!(!reply_ok(&c, b"APC"));
        assert!(!reply_ok(&c, b"ABD"));
        assert!(reply_ok(&c, b"AB"), "only the bytes both have are compared");
        assert!(reply_ok(&c, b"ABCDEF"));
    }

    #[test]
    fn lengths_bound_the_reply() {
        let c = check(Some((b"A", &[0xff])), 2, 4);
        assert!(!reply_ok(&c, b"A"));
        assert!(reply_ok(&c, b"AB"));
        assert!(reply_ok(&c, b"ABCD"));
        assert!(!reply_ok(&c, b"ABCDE"));
        assert_eq!(receive_size(&c), 5);
        // Without data the lengths are not looked at (keepalived checks them with the data).
        let c = check(Some((b"", b"")), 2, 4);
        assert!(reply_ok(&c, b"A"));
    }
}
