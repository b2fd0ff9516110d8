//! `DNS_CHECK` as keepalived 2.2.7's `check_dns.c`: one query (recursion desired, class IN) for
//! `name` of `type` over UDP; the answer that counts is the first response with the query's id,
//! and it is good when its rcode is 0. Datagrams with another id, too short or not responses are
//! ignored (the wait goes on until the timeout).

/// The types keepalived knows; anything else is SOA (its configuration layer says so).
pub fn type_code(name: &str) -> u16 {
    match name.to_ascii_uppercase().as_str() {
        "A" => 1,
        "NS" => 2,
        "CNAME" => 5,
        "MX" => 15,
        "TXT" => 16,
        "AAAA" => 28,
        _ => 6,
    }
}

/// The query datagram: header, QNAME (labels of `name`; `.` is the root), QTYPE, QCLASS IN.
pub fn query(id: u16, name: &str, qtype: u16) -> Vec<u8> {
    let mut out = Vec::with_capacity(18 + name.len());
    out.extend_from_slice(&id.to_be_bytes());
    // Flags: RD only.
    out.extend_from_slice(&0x0100u16.to_be_bytes());
    out.extend_from_slice(&1u16.to_be_bytes());
    out.extend_from_slice(&[0; 6]);
    for label in name.split('.').filter(|l| !l.is_empty()) {
        // A label is at most 63 bytes on the wire; longer ones are cut as no server would
        // take them anyway.
        let bytes = &label.as_bytes()[..label.len().min(63)];
        out.push(bytes.len() as u8);
        out.extend_from_slice(bytes);
    }
    out.push(0);
    out.extend_from_slice(&qtype.to_be_bytes());
    out.extend_from_slice(&1u16.to_be_bytes());
    out
}

/// What a received datagram means for a query with `id`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Answer {
    /// Not the answer: keep waiting.
    Ignore,
    /// A response with rcode 0.
    Good,
    /// A response with this rcode.
    Error(u8),
}

/// The shortest datagram judged: keepalived 2.2.7 compares the length with the size of a pointer
/// to the header (8 bytes on 64-bit machines), not of the header (12), and reads the id and flags
/// of anything at least that long.
const SHORTEST_JUDGED: usize = 8;

/// Judges a datagram.
pub fn judge(id: u16, reply: &[u8]) -> Answer {
    if reply.len() < SHORTEST_JUDGED || u16::from_be_bytes([reply[0], reply[1]]) != id {
        return Answer::Ignore;
    }
    let flags = u16::from_be_bytes([reply[2], reply[3]]);
    if flags & 0x8000 == 0 {
        return Answer::Ignore;
    }
    match (flags & 0x000f) as u8 {
        0 => Answer::Good,
        rcode => Answer::Error(rcode),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn types_and_their_default() {
        assert_eq!(type_code("A"), 1);
        assert_eq!(type_code("aaaa"), 28);
        assert_eq!(type_code("SOA"), 6);
        assert_eq!(type_code("PTR"), 6);
    }

    #[test]
    fn the_root_soa_query() {
        assert_eq!(
            query(0x1234, ".", 6),
            [
                0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0, // header
                0, // root
                0, 6, 0, 1
            ]
        );
    }

    #[test]
    fn names_become_labels() {
        let q = query(1, "www.example.com", 1);
        assert_eq!(&q[12..], b"\x03www\x07example\x03com\x00\x00\x01\x00\x01");
        assert_eq!(query(1, "www.example.com.", 1), q);
    }

    #[test]
    fn answers() {
        let mut reply = query(7, ".", 6);
        assert_eq!(judge(7, &reply), Answer::Ignore, "a query is not an answer");
        reply[2] |= 0x80;
        assert_eq!(judge(7, &reply), Answer::Good);
        assert_eq!(judge(8, &reply), Answer::Ignore);
        reply[3] |= 3;
        assert_eq!(judge(7, &reply), Answer::Error(3));
        // keepalived judges datagrams down to 8 bytes (see SHORTEST_JUDGED).
        assert_eq!(judge(7, &reply[..8]), Answer::Error(3));
        assert_eq!(judge(7, &reply[..7]), Answer::Ignore);
    }
}
