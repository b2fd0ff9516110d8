//! VRRP v2 (RFC 3768) and v3 (RFC 9568) without I/O: packet codec and a state machine with time passed in.
