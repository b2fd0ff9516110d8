//! The nf_tables messages of the `no_accept` firewall and of the VMAC rules, as keepalived 2.2.7
//! sends them: the same tables, chains, sets and rules, expression for expression, so that
//! `nft list ruleset` shows the same text under either daemon. Bytes only; the socket is
//! [`super::Firewall`]'s.
//!
//! A batch (`NFNL_MSG_BATCH_BEGIN` … `NFNL_MSG_BATCH_END`) is applied whole or not at all; each
//! message in it asks for an acknowledgement, so that every failure is reported by sequence number
//! ([`Awaited`] reads the replies).

use ipvs::message::AttributeWriter;

/// `NFNL_SUBSYS_NFTABLES` (linux/netfilter/nfnetlink.h).
const SUBSYSTEM: u16 = 10;
const BATCH_BEGIN: u16 = 0x10;
const BATCH_END: u16 = 0x11;

/// `enum nf_tables_msg_types`.
const NEW_TABLE: u8 = 0;
const GET_TABLE: u8 = 1;
const DELETE_TABLE: u8 = 2;
const NEW_CHAIN: u8 = 3;
const NEW_RULE: u8 = 6;
const NEW_SET: u8 = 9;
const NEW_SET_ELEMENT: u8 = 12;
const DELETE_SET_ELEMENT: u8 = 14;

/// The message type of the kernel's reply describing a table (`NFT_MSG_NEWTABLE`).
pub const TABLE_REPLY: u16 = SUBSYSTEM << 8 | NEW_TABLE as u16;

const NLM_F_REQUEST: u16 = 0x1;
const NLM_F_ACK: u16 = 0x4;
const NLM_F_EXCL: u16 = 0x200;
const NLM_F_CREATE: u16 = 0x400;
const NLM_F_APPEND: u16 = 0x800;

/// Attributes (linux/netfilter/nf_tables.h), by the object they describe.
const TABLE_NAME: u16 = 1;
const CHAIN_TABLE: u16 = 1;
const CHAIN_NAME: u16 = 3;
const CHAIN_HOOK: u16 = 4;
const CHAIN_POLICY: u16 = 5;
const CHAIN_TYPE: u16 = 7;
const HOOK_NUMBER: u16 = 1;
const HOOK_PRIORITY: u16 = 2;
const SET_TABLE: u16 = 1;
const SET_NAME: u16 = 2;
const SET_FLAGS: u16 = 3;
const SET_KEY_TYPE: u16 = 4;
const SET_KEY_LENGTH: u16 = 5;
const SET_DATA_TYPE: u16 = 6;
const SET_DATA_LENGTH: u16 = 7;
const SET_ID: u16 = 10;
const SET_USER_DATA: u16 = 13;
const ELEMENTS_SET: u16 = 2;
const ELEMENTS_TABLE: u16 = 1;
const ELEMENTS_LIST: u16 = 3;
const ELEMENTS_SET_ID: u16 = 4;
const ELEMENT_KEY: u16 = 1;
const ELEMENT_DATA: u16 = 2;
const DATA_VALUE: u16 = 1;
const DATA_VERDICT: u16 = 2;
const VERDICT_CODE: u16 = 1;
const VERDICT_CHAIN: u16 = 2;
const RULE_TABLE: u16 = 1;
const RULE_CHAIN: u16 = 2;
const RULE_EXPRESSIONS: u16 = 4;
const LIST_ELEMENT: u16 = 1;
const EXPRESSION_NAME: u16 = 1;
const EXPRESSION_DATA: u16 = 2;

/// `NF_INET_LOCAL_IN`, `NF_INET_LOCAL_OUT`.
const HOOK_INPUT: u32 = 1;
const HOOK_OUTPUT: u32 = 3;
/// Verdicts: `NF_DROP`, `NF_ACCEPT`, `NFT_GOTO`.
const DROP: u32 = 0;
const ACCEPT: u32 = 1;
const GOTO: u32 = -4i32 as u32;
/// `NFT_SET_CONSTANT`, `NFT_SET_MAP`.
const CONSTANT: u32 = 2;
const MAP: u32 = 8;
/// The 16-byte registers keepalived loads (`NFT_REG_1`, `NFT_REG_2`): a key longer than 16 bytes
/// runs on from the first into the second.
const REGISTER_1: u32 = 1;
const REGISTER_2: u32 = 2;
const VERDICT_REGISTER: u32 = 0;
/// Payload bases.
const NETWORK_HEADER: u32 = 1;
const TRANSPORT_HEADER: u32 = 2;
/// `enum nft_meta_keys`.
const META_IIF: u32 = 4;
const META_OIF: u32 = 5;
const META_IIFNAME: u32 = 6;
const META_OIFNAME: u32 = 7;
const META_L4_PROTOCOL: u32 = 16;
const META_OIF_KIND: u32 = 27;

/// IGMP (IPv4 protocol 2) and ICMPv6 (next header 58), with the ICMPv6 types of an MLDv2 report
/// and a router solicitation.
const IGMP: u8 = 2;
const ICMPV6: u8 = 58;
const MLD2_REPORT: u8 = 143;
const ROUTER_SOLICITATION: u8 = 133;
/// The kind of link a VMAC is, as `meta oifkind` gives it (padded to `IFNAMSIZ`).
const MACVLAN: &[u8] = b"macvlan";

/// nft's data types, which `nft list` names the set's key by (concatenations shift by 6 bits).
const TYPE_IPV4_ADDRESS: u32 = 7;
const TYPE_IPV6_ADDRESS: u32 = 8;
const TYPE_INTERFACE_INDEX: u32 = 20;
const TYPE_ICMPV6_TYPE: u32 = 29;
const TYPE_INTERFACE_NAME: u32 = 41;
/// `NFTNL_UDATA_SET_KEYBYTEORDER` with the byte order nft shows a key in.
/// `NFTNL_UDATA_SET_DATABYTEORDER` follows it for a map.
const BIG_ENDIAN_KEY: [u8; 6] = [0, 4, 2, 0, 0, 0];
const HOST_ENDIAN_KEY: [u8; 6] = [0, 4, 1, 0, 0, 0];
const HOST_ENDIAN_KEY_AND_DATA: [u8; 12] = [0, 4, 1, 0, 0, 0, 1, 4, 1, 0, 0, 0];

/// The neighbour solicitations and advertisements a firewall must let through (ICMPv6 types 135
/// and 136).
const NEIGHBOUR_DISCOVERY: [u8; 2] = [135, 136];
/// `IFNAMSIZ`: an interface name in a set's key, padded with zeros.
pub const INTERFACE_NAME_SIZE: usize = 16;

/// An address family's table (`NFPROTO_IPV4`, `NFPROTO_IPV6`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Family {
    Ipv4,
    Ipv6,
}

impl Family {
    fn code(self) -> u8 {
        match self {
            Family::Ipv4 => 2,
            Family::Ipv6 => 10,
        }
    }

    /// `ip` or `ip6`, as nft and keepalived's messages name the table's family.
    pub fn word(self) -> &'static str {
        match self {
            Family::Ipv4 => "ip",
            Family::Ipv6 => "ip6",
        }
    }
}

/// The sets the addresses go in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SetName {
    /// `ip vips`: IPv4 addresses.
    Ipv4,
    /// `ip6 vips`: IPv6 addresses but link-local ones.
    Ipv6,
    /// `ip6 vips_link_local`: a link-local address and its interface's index.
    LinkLocal,
    /// `ip6 vips_link_local_name`: a link-local address and its interface's name.
    LinkLocalName,
}

impl SetName {
    pub fn family(self) -> Family {
        match self {
            SetName::Ipv4 => Family::Ipv4,
            _ => Family::Ipv6,
        }
    }

    fn name(self) -> &'static str {
        match self {
            SetName::Ipv4 | SetName::Ipv6 => "vips",
            SetName::LinkLocal => "vips_link_local",
            SetName::LinkLocalName => "vips_link_local_name",
        }
    }
}

/// The firewall's settings: `nftables`, `nftables_priority`, `nftables_counters`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rules {
    pub table: String,
    pub priority: i32,
    pub counters: bool,
}

/// The VMAC map and set's names.
const VMAC_MAP: &str = "vmac_map";
const VMAC_SET: &str = "vmac_set";

/// The batch-local ids of a family's VMAC map and (IPv6) VMAC set, by which elements added in
/// the batch that makes them find them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct VmacSetIds {
    pub map: u32,
    pub set: Option<u32>,
}

/// A set as it is made: its key, and its data when it is a map.
struct SetShape<'a> {
    name: &'a str,
    flags: u32,
    key_type: u32,
    key_length: u32,
    data: Option<(u32, u32)>,
    id: u32,
}

impl<'a> SetShape<'a> {
    fn keys(name: &'a str, key_type: u32, key_length: u32, id: u32) -> Self {
        SetShape {
            name,
            flags: 0,
            key_type,
            key_length,
            data: None,
            id,
        }
    }
}

/// Messages of one batch, numbered from a first sequence number.
pub struct Batch {
    bytes: Vec<u8>,
    next_sequence: u32,
    /// The batch's first message, which the kernel answers only to refuse the whole batch.
    begin: u32,
    acknowledged: Vec<u32>,
}

impl Batch {
    pub fn new(first_sequence: u32) -> Self {
        let mut batch = Batch {
            bytes: Vec::with_capacity(4096),
            next_sequence: first_sequence,
            begin: first_sequence,
            acknowledged: Vec::new(),
        };
        batch.header(BATCH_BEGIN, NLM_F_REQUEST, 0, SUBSYSTEM, |_| {});
        batch
    }

    /// Whether anything but the batch's frame was written.
    pub fn is_empty(&self) -> bool {
        self.acknowledged.is_empty()
    }

    /// The batch's bytes, closed, the replies it awaits, and the next free sequence number.
    pub fn finish(mut self) -> (Vec<u8>, Awaited, u32) {
        self.header(BATCH_END, NLM_F_REQUEST, 0, SUBSYSTEM, |_| {});
        let awaited = Awaited::new(self.acknowledged, Some(self.begin));
        (self.bytes, awaited, self.next_sequence)
    }

    fn header(
        &mut self,
        kind: u16,
        flags: u16,
        family: u8,
        resource: u16,
        write: impl FnOnce(&mut AttributeWriter<'_>),
    ) -> u32 {
        let sequence = self.next_sequence;
        self.next_sequence = self.next_sequence.wrapping_add(1);
        let start = self.bytes.len();
        // nlmsghdr (its length written last), then nfgenmsg.
        self.bytes.extend_from_slice(&[0; 4]);
        self.bytes.extend_from_slice(&kind.to_ne_bytes());
        self.bytes.extend_from_slice(&flags.to_ne_bytes());
        self.bytes.extend_from_slice(&sequence.to_ne_bytes());
        self.bytes.extend_from_slice(&0u32.to_ne_bytes());
        self.bytes.extend_from_slice(&[family, 0]);
        self.bytes.extend_from_slice(&resource.to_be_bytes());
        write(&mut AttributeWriter::new(&mut self.bytes));
        let length = u32::try_from(self.bytes.len() - start).unwrap_or(u32::MAX);
        self.bytes[start..start + 4].copy_from_slice(&length.to_ne_bytes());
        sequence
    }

    fn message(
        &mut self,
        kind: u8,
        flags: u16,
        family: Family,
        write: impl FnOnce(&mut AttributeWriter<'_>),
    ) {
        let sequence = self.header(
            SUBSYSTEM << 8 | u16::from(kind),
            NLM_F_REQUEST | NLM_F_ACK | flags,
            family.code(),
            0,
            write,
        );
        self.acknowledged.push(sequence);
    }

    pub fn delete_table(&mut self, family: Family, table: &str) {
        self.message(DELETE_TABLE, 0, family, |w| w.string(TABLE_NAME, table));
    }

    /// A family's table with its `out` chain, which the VMAC rules need alone.
    pub fn table(&mut self, family: Family, rules: &Rules) {
        self.message(NEW_TABLE, NLM_F_CREATE, family, |w| {
            w.string(TABLE_NAME, &rules.table)
        });
        self.base_chain(family, rules, "out", HOOK_OUTPUT);
    }

    /// In the IPv4 table: the `in` chain, the set `vips`, and a rule in each chain that drops
    /// what is addressed to or sent from the set's addresses.
    pub fn ipv4_addresses(&mut self, rules: &Rules, set_id: u32) {
        let family = Family::Ipv4;
        self.base_chain(family, rules, "in", HOOK_INPUT);
        self.set(
            family,
            rules,
            &SetShape::keys("vips", TYPE_IPV4_ADDRESS, 4, set_id),
        );
        // The addresses: the destination at byte 16 of the header, the source at byte 12.
        self.rule(family, rules, "in", |e| {
            e.payload(NETWORK_HEADER, 16, 4);
            e.lookup("vips");
            e.verdict(DROP, None);
        });
        self.rule(family, rules, "out", |e| {
            e.payload(NETWORK_HEADER, 12, 4);
            e.lookup("vips");
            e.verdict(DROP, None);
        });
    }

    /// In the IPv6 table: besides the chain and set of IPv4, neighbour discovery let through,
    /// and link-local addresses sent to chains of their own (which hold rules once such an
    /// address is added, [`Batch::link_local_rules`]).
    pub fn ipv6_addresses(&mut self, rules: &Rules, vips_id: u32, discovery_id: u32) {
        let family = Family::Ipv6;
        self.base_chain(family, rules, "in", HOOK_INPUT);
        for chain in ["in_link_local", "out_link_local"] {
            self.message(NEW_CHAIN, NLM_F_CREATE, family, |w| {
                w.string(CHAIN_TABLE, &rules.table);
                w.string(CHAIN_NAME, chain);
            });
        }
        self.set(
            family,
            rules,
            &SetShape::keys("vips", TYPE_IPV6_ADDRESS, 16, vips_id),
        );
        let discovery = "neighbor-discovery";
        self.set(
            family,
            rules,
            &SetShape {
                flags: CONSTANT,
                ..SetShape::keys(discovery, TYPE_ICMPV6_TYPE, 1, discovery_id)
            },
        );
        // A constant set takes its elements before a rule is bound to it.
        let keys = NEIGHBOUR_DISCOVERY.map(|kind| vec![kind]);
        self.message(NEW_SET_ELEMENT, NLM_F_CREATE, family, |w| {
            w.string(ELEMENTS_SET, discovery);
            w.be32(ELEMENTS_SET_ID, discovery_id);
            w.string(ELEMENTS_TABLE, &rules.table);
            write_elements(w, &keys);
        });
        // Destination at byte 24 of the header, source at byte 8.
        for (chain, offset) in [("in", 24), ("out", 8)] {
            self.rule(family, rules, chain, |e| {
                // Next header ICMPv6 (58), then its type.
                e.payload(NETWORK_HEADER, 6, 1);
                e.compare(&[ICMPV6]);
                e.payload(TRANSPORT_HEADER, 0, 1);
                e.lookup(discovery);
                e.verdict(ACCEPT, None);
            });
            let link_local = format!("{chain}_link_local");
            self.rule(family, rules, chain, |e| {
                e.payload(NETWORK_HEADER, offset, 16);
                let mut mask = [0; 16];
                mask[..2].copy_from_slice(&[0xff, 0xc0]);
                e.bitwise(&mask, &[0; 16]);
                let mut prefix = [0; 16];
                prefix[..2].copy_from_slice(&[0xfe, 0x80]);
                e.compare(&prefix);
                e.verdict(GOTO, Some(&link_local));
            });
        }
        for (chain, offset) in [("in", 24), ("out", 8)] {
            self.rule(family, rules, chain, |e| {
                e.payload(NETWORK_HEADER, offset, 16);
                e.lookup("vips");
                e.verdict(DROP, None);
            });
        }
    }

    /// A link-local set (by interface index or by name) and the rules of the link-local chains
    /// that look it up with the packet's interface.
    pub fn link_local_rules(&mut self, rules: &Rules, set: SetName, set_id: u32) {
        let family = Family::Ipv6;
        let by_name = set == SetName::LinkLocalName;
        let (key_type, length) = if by_name {
            (TYPE_INTERFACE_NAME, 16 + INTERFACE_NAME_SIZE as u32)
        } else {
            (TYPE_INTERFACE_INDEX, 16 + 4)
        };
        self.set(
            family,
            rules,
            &SetShape::keys(
                set.name(),
                TYPE_IPV6_ADDRESS << 6 | key_type,
                length,
                set_id,
            ),
        );
        let keys = if by_name {
            [("in", 24, META_IIFNAME), ("out", 8, META_OIFNAME)]
        } else {
            [("in", 24, META_IIF), ("out", 8, META_OIF)]
        };
        for (chain, offset, interface) in keys {
            self.rule(family, rules, &format!("{chain}_link_local"), |e| {
                e.payload(NETWORK_HEADER, offset, 16);
                e.meta(interface, REGISTER_2);
                e.lookup(set.name());
                e.verdict(DROP, None);
            });
        }
    }

    /// Adds (`add`) or removes the elements with these keys.
    pub fn elements(&mut self, rules: &Rules, set: SetName, keys: &[Vec<u8>], add: bool) {
        let (kind, flags) = if add {
            (NEW_SET_ELEMENT, NLM_F_CREATE | NLM_F_EXCL)
        } else {
            (DELETE_SET_ELEMENT, 0)
        };
        self.message(kind, flags, set.family(), |w| {
            w.string(ELEMENTS_SET, set.name());
            w.string(ELEMENTS_TABLE, &rules.table);
            write_elements(w, keys);
        });
    }

    /// In a family's table: the map from a VMAC's index to its base interface's, and the rules
    /// that send the multicast reports a VMAC would send (IGMP, MLDv2) from its base interface
    /// instead, so that switches never learn the virtual router's MAC from a backup; IPv6 also
    /// drops a VMAC's router solicitations (`vmac_set`).
    pub fn vmac_rules(&mut self, family: Family, rules: &Rules, ids: VmacSetIds) {
        self.set(
            family,
            rules,
            &SetShape {
                flags: MAP,
                data: Some((TYPE_INTERFACE_INDEX, 4)),
                ..SetShape::keys(VMAC_MAP, TYPE_INTERFACE_INDEX, 4, ids.map)
            },
        );
        if let Some(set_id) = ids.set {
            self.set(
                family,
                rules,
                &SetShape::keys(VMAC_SET, TYPE_INTERFACE_INDEX, 4, set_id),
            );
        }
        self.rule(family, rules, "out", |e| {
            match family {
                Family::Ipv4 => {
                    e.payload(NETWORK_HEADER, 9, 1);
                    e.compare(&[IGMP]);
                    e.payload(NETWORK_HEADER, 16, 4);
                }
                Family::Ipv6 => {
                    e.icmpv6_type(MLD2_REPORT);
                    e.payload(NETWORK_HEADER, 24, 16);
                }
            }
            e.leaving_a_vmac();
            e.lookup_in(VMAC_MAP, REGISTER_2, Some(REGISTER_2), Some(ids.map));
            // To the same destination, through the base interface the map gave.
            e.expression("dup", |w| {
                w.be32(1, REGISTER_1); // NFTA_DUP_SREG_ADDR
                w.be32(2, REGISTER_2); // NFTA_DUP_SREG_DEV
            });
            e.verdict(DROP, None);
        });
        if let Some(set_id) = ids.set {
            self.rule(family, rules, "out", |e| {
                e.icmpv6_type(ROUTER_SOLICITATION);
                e.leaving_a_vmac();
                e.lookup_in(VMAC_SET, REGISTER_2, None, Some(set_id));
                e.verdict(DROP, None);
            });
        }
    }

    /// Adds (`add`) or removes a VMAC (by index) and its base interface in the family's VMAC
    /// map, and in IPv6 the VMAC in `vmac_set`; `ids` when the sets are made in this batch.
    pub fn vmac_elements(
        &mut self,
        family: Family,
        rules: &Rules,
        vmac: u32,
        base: u32,
        ids: Option<VmacSetIds>,
        add: bool,
    ) {
        let (kind, flags) = if add {
            (NEW_SET_ELEMENT, NLM_F_CREATE)
        } else {
            (DELETE_SET_ELEMENT, 0)
        };
        let key = vmac.to_ne_bytes();
        self.message(kind, flags, family, |w| {
            w.string(ELEMENTS_SET, VMAC_MAP);
            if let Some(ids) = ids {
                w.be32(ELEMENTS_SET_ID, ids.map);
            }
            w.string(ELEMENTS_TABLE, &rules.table);
            w.nest(ELEMENTS_LIST, |w| {
                w.nest(1, |w| {
                    w.nest(ELEMENT_KEY, |w| w.slice(DATA_VALUE, &key));
                    w.nest(ELEMENT_DATA, |w| w.slice(DATA_VALUE, &base.to_ne_bytes()));
                });
            });
        });
        if family == Family::Ipv6 {
            self.message(kind, flags, family, |w| {
                w.string(ELEMENTS_SET, VMAC_SET);
                if let Some(id) = ids.and_then(|ids| ids.set) {
                    w.be32(ELEMENTS_SET_ID, id);
                }
                w.string(ELEMENTS_TABLE, &rules.table);
                write_elements(w, &[key.to_vec()]);
            });
        }
    }

    fn base_chain(&mut self, family: Family, rules: &Rules, name: &str, hook: u32) {
        self.message(NEW_CHAIN, NLM_F_CREATE, family, |w| {
            w.string(CHAIN_TABLE, &rules.table);
            w.string(CHAIN_NAME, name);
            w.nest(CHAIN_HOOK, |w| {
                w.be32(HOOK_NUMBER, hook);
                w.be32(HOOK_PRIORITY, rules.priority as u32);
            });
            w.be32(CHAIN_POLICY, ACCEPT);
            w.string(CHAIN_TYPE, "filter");
        });
    }

    fn set(&mut self, family: Family, rules: &Rules, shape: &SetShape<'_>) {
        let user_data: &[u8] = if shape.data.is_some() {
            &HOST_ENDIAN_KEY_AND_DATA
        } else if matches!(shape.key_type, TYPE_IPV4_ADDRESS | TYPE_IPV6_ADDRESS) {
            &BIG_ENDIAN_KEY
        } else {
            &HOST_ENDIAN_KEY
        };
        self.message(NEW_SET, NLM_F_CREATE, family, |w| {
            w.string(SET_TABLE, &rules.table);
            w.string(SET_NAME, shape.name);
            if shape.flags != 0 {
                w.be32(SET_FLAGS, shape.flags);
            }
            w.be32(SET_KEY_TYPE, shape.key_type);
            w.be32(SET_KEY_LENGTH, shape.key_length);
            if let Some((data_type, data_length)) = shape.data {
                w.be32(SET_DATA_TYPE, data_type);
                w.be32(SET_DATA_LENGTH, data_length);
            }
            w.be32(SET_ID, shape.id);
            w.slice(SET_USER_DATA, user_data);
        });
    }

    /// A rule appended to `chain`: the expressions `write` gives, with a counter before the
    /// verdict when `nftables_counters` asks for one.
    fn rule(
        &mut self,
        family: Family,
        rules: &Rules,
        chain: &str,
        write: impl FnOnce(&mut Expressions<'_, '_>),
    ) {
        self.message(NEW_RULE, NLM_F_CREATE | NLM_F_APPEND, family, |w| {
            w.string(RULE_TABLE, &rules.table);
            w.string(RULE_CHAIN, chain);
            w.nest(RULE_EXPRESSIONS, |w| {
                write(&mut Expressions {
                    writer: w,
                    counters: rules.counters,
                })
            });
        });
    }
}

/// A single `NFT_MSG_GETTABLE`, outside any batch: whether a table of that name is left from a
/// run before.
pub fn get_table(sequence: u32, family: Family, table: &str) -> Vec<u8> {
    let mut batch = Batch {
        bytes: Vec::new(),
        next_sequence: sequence,
        begin: sequence,
        acknowledged: Vec::new(),
    };
    batch.header(
        SUBSYSTEM << 8 | u16::from(GET_TABLE),
        NLM_F_REQUEST | NLM_F_ACK,
        family.code(),
        0,
        |w| w.string(TABLE_NAME, table),
    );
    batch.bytes
}

/// `NLMSG_ERROR`: an acknowledgement (error 0) or an error.
const NLMSG_ERROR: u16 = 2;
const NETLINK_HEADER: usize = 16;

/// A reply the kernel sent back that cannot be read.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
#[error("undecodable nftables reply: {0}")]
pub struct BadReply(String);

/// The replies a request waits for: an acknowledgement or error for each of its messages, and
/// the first error, if any. An error to the batch's frame (no right to change the firewall, no
/// nf_tables in the kernel) refuses the whole batch, and no other reply follows it.
#[derive(Debug)]
pub struct Awaited {
    sequences: Vec<u32>,
    frame: Option<u32>,
    answered: usize,
    first_error: Option<i32>,
    refused: bool,
}

impl Awaited {
    pub fn new(sequences: Vec<u32>, frame: Option<u32>) -> Self {
        Awaited {
            sequences,
            frame,
            answered: 0,
            first_error: None,
            refused: false,
        }
    }

    /// Whether every reply came, or the batch was refused.
    pub fn is_complete(&self) -> bool {
        self.refused || self.answered >= self.sequences.len()
    }

    /// The first error the kernel gave (a negative errno), if any.
    pub fn first_error(&self) -> Option<i32> {
        self.first_error
    }

    /// Takes a datagram of replies; messages that are not acknowledgements but answer an awaited
    /// request (a table described) go to `seen` by type.
    pub fn take(&mut self, mut datagram: &[u8], mut seen: impl FnMut(u16)) -> Result<(), BadReply> {
        while !datagram.is_empty() {
            let (kind, sequence, code, length) = reply(datagram)?;
            datagram = datagram.get(length..).unwrap_or_default();
            match code {
                Some(code) if code != 0 && self.frame == Some(sequence) => {
                    self.first_error.get_or_insert(code);
                    self.refused = true;
                }
                Some(code) if self.sequences.contains(&sequence) => {
                    self.answered += 1;
                    if code != 0 {
                        self.first_error.get_or_insert(code);
                    }
                }
                None if self.sequences.contains(&sequence) => seen(kind),
                // A late reply to an earlier request.
                _ => {}
            }
        }
        Ok(())
    }
}

/// One netlink message of a reply: its type, sequence number, error code (for an
/// acknowledgement or error) and aligned length.
fn reply(bytes: &[u8]) -> Result<(u16, u32, Option<i32>, usize), BadReply> {
    let field = |at: usize| -> Result<[u8; 4], BadReply> {
        bytes
            .get(at..at + 4)
            .and_then(|b| b.try_into().ok())
            .ok_or_else(|| BadReply(format!("a message cut at {} bytes", bytes.len())))
    };
    let length = u32::from_ne_bytes(field(0)?) as usize;
    if length < NETLINK_HEADER || length > bytes.len() {
        return Err(BadReply(format!("message length {length}")));
    }
    let head = field(4)?;
    let kind = u16::from_ne_bytes([head[0], head[1]]);
    let sequence = u32::from_ne_bytes(field(8)?);
    let code = if kind == NLMSG_ERROR {
        Some(i32::from_ne_bytes(field(NETLINK_HEADER)?))
    } else {
        None
    };
    Ok((
        kind,
        sequence,
        code,
        length.next_multiple_of(4).min(bytes.len()),
    ))
}

/// The elements' nests, numbered from 1 as libnftnl numbers them (the kernel reads any number).
fn write_elements(w: &mut AttributeWriter<'_>, keys: &[Vec<u8>]) {
    w.nest(ELEMENTS_LIST, |w| {
        for (number, key) in (1u16..).zip(keys) {
            w.nest(number, |w| {
                w.nest(ELEMENT_KEY, |w| w.slice(DATA_VALUE, key));
            });
        }
    });
}

/// The expressions of a rule, each a list element with its name and data.
struct Expressions<'w, 'b> {
    writer: &'w mut AttributeWriter<'b>,
    counters: bool,
}

impl Expressions<'_, '_> {
    fn expression(&mut self, name: &str, write: impl FnOnce(&mut AttributeWriter<'_>)) {
        self.writer.nest(LIST_ELEMENT, |w| {
            w.string(EXPRESSION_NAME, name);
            w.nest(EXPRESSION_DATA, write);
        });
    }

    /// `length` bytes at `offset` of a header into the first register.
    fn payload(&mut self, base: u32, offset: u32, length: u32) {
        self.expression("payload", |w| {
            w.be32(1, REGISTER_1); // NFTA_PAYLOAD_DREG
            w.be32(2, base); // NFTA_PAYLOAD_BASE
            w.be32(3, offset); // NFTA_PAYLOAD_OFFSET
            w.be32(4, length); // NFTA_PAYLOAD_LEN
        });
    }

    /// A property of the packet (its interface's index, name or kind, its transport protocol)
    /// into `register`.
    fn meta(&mut self, key: u32, register: u32) {
        self.expression("meta", |w| {
            w.be32(2, key); // NFTA_META_KEY
            w.be32(1, register); // NFTA_META_DREG
        });
    }

    /// Whether the first register's key is in `set`.
    fn lookup(&mut self, set: &str) {
        self.lookup_in(set, REGISTER_1, None, None);
    }

    /// Whether the key in `source` is in `set` (made in the batch as `id`); a map's value goes to
    /// `destination`.
    fn lookup_in(&mut self, set: &str, source: u32, destination: Option<u32>, id: Option<u32>) {
        self.expression("lookup", |w| {
            w.be32(2, source); // NFTA_LOOKUP_SREG
            if let Some(destination) = destination {
                w.be32(3, destination); // NFTA_LOOKUP_DREG
            }
            w.string(1, set); // NFTA_LOOKUP_SET
            if let Some(id) = id {
                w.be32(4, id); // NFTA_LOOKUP_SET_ID
            }
        });
    }

    /// Whether the first register equals `value`.
    fn compare(&mut self, value: &[u8]) {
        self.compare_in(REGISTER_1, value);
    }

    fn compare_in(&mut self, register: u32, value: &[u8]) {
        self.expression("cmp", |w| {
            w.be32(1, register); // NFTA_CMP_SREG
            w.be32(2, 0); // NFTA_CMP_OP: NFT_CMP_EQ
            w.nest(3, |w| w.slice(DATA_VALUE, value)); // NFTA_CMP_DATA
        });
    }

    /// Whether the packet is ICMPv6 of this type (`icmpv6 type`).
    fn icmpv6_type(&mut self, kind: u8) {
        self.meta(META_L4_PROTOCOL, REGISTER_1);
        self.compare(&[ICMPV6]);
        self.payload(TRANSPORT_HEADER, 0, 1);
        self.compare(&[kind]);
    }

    /// Whether the packet leaves through a macvlan, with that interface's index then in the
    /// second register.
    fn leaving_a_vmac(&mut self) {
        self.meta(META_OIF_KIND, REGISTER_2);
        let mut kind = [0; INTERFACE_NAME_SIZE];
        kind[..MACVLAN.len()].copy_from_slice(MACVLAN);
        self.compare_in(REGISTER_2, &kind);
        self.meta(META_OIF, REGISTER_2);
    }

    /// The first register masked with `mask`, then xored with `xor`.
    fn bitwise(&mut self, mask: &[u8], xor: &[u8]) {
        let length = u32::try_from(mask.len()).unwrap_or(u32::MAX);
        self.expression("bitwise", |w| {
            w.be32(1, REGISTER_1); // NFTA_BITWISE_SREG
            w.be32(2, REGISTER_1); // NFTA_BITWISE_DREG
            w.be32(3, length); // NFTA_BITWISE_LEN
            w.nest(4, |w| w.slice(DATA_VALUE, mask)); // NFTA_BITWISE_MASK
            w.nest(5, |w| w.slice(DATA_VALUE, xor)); // NFTA_BITWISE_XOR
        });
    }

    /// The verdict, after a counter when the settings ask for one.
    fn verdict(&mut self, code: u32, chain: Option<&str>) {
        if self.counters {
            self.expression("counter", |_| {});
        }
        self.expression("immediate", |w| {
            w.be32(1, VERDICT_REGISTER); // NFTA_IMMEDIATE_DREG
            w.nest(2, |w| {
                // NFTA_IMMEDIATE_DATA
                w.nest(DATA_VERDICT, |w| {
                    w.be32(VERDICT_CODE, code);
                    if let Some(chain) = chain {
                        w.string(VERDICT_CHAIN, chain);
                    }
                });
            });
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules() -> Rules {
        Rules {
            table: "keepalived".to_string(),
            priority: -1,
            counters: false,
        }
    }

    /// The messages of a batch: (type, flags, sequence, family).
    fn headers(bytes: &[u8]) -> Vec<(u16, u16, u32, u8)> {
        let mut found = Vec::new();
        let mut rest = bytes;
        while rest.len() >= 20 {
            let length = u32::from_ne_bytes([rest[0], rest[1], rest[2], rest[3]]) as usize;
            assert!(
                length >= 20 && length <= rest.len() && length % 4 == 0,
                "{length}"
            );
            found.push((
                u16::from_ne_bytes([rest[4], rest[5]]),
                u16::from_ne_bytes([rest[6], rest[7]]),
                u32::from_ne_bytes([rest[8], rest[9], rest[10], rest[11]]),
                rest[16],
            ));
            rest = &rest[length..];
        }
        assert!(rest.is_empty());
        found
    }

    fn message(kind: u16, sequence: u32, payload: &[u8]) -> Vec<u8> {
        let length = u32::try_from(NETLINK_HEADER + payload.len()).unwrap_or(u32::MAX);
        let mut bytes = Vec::new();
        bytes.extend_from_slice(&length.to_ne_bytes());
        bytes.extend_from_slice(&kind.to_ne_bytes());
        bytes.extend_from_slice(&0u16.to_ne_bytes());
        bytes.extend_from_slice(&sequence.to_ne_bytes());
        bytes.extend_from_slice(&0u32.to_ne_bytes());
        bytes.extend_from_slice(payload);
        bytes
    }

    #[test]
    fn a_reply_gives_its_sequence_and_error_or_is_refused_when_cut() {
        let error = message(NLMSG_ERROR, 7, &(-libc::EEXIST).to_ne_bytes());
        assert_eq!(
            reply(&error).ok(),
            Some((NLMSG_ERROR, 7, Some(-libc::EEXIST), 20))
        );
        let table = message(TABLE_REPLY, 8, &[0; 6]);
        // The last message of a datagram needs no padding.
        assert_eq!(reply(&table).ok(), Some((TABLE_REPLY, 8, None, 22)));
        // An error without its code, a length beyond the bytes, a header cut short.
        assert!(reply(&message(NLMSG_ERROR, 7, &[])).is_err());
        assert!(reply(&error[..18]).is_err());
        assert!(reply(&error[..10]).is_err());
        let mut short = error.clone();
        short[0] = 8;
        assert!(reply(&short).is_err());
    }

    fn ack(sequence: u32, code: i32) -> Vec<u8> {
        message(NLMSG_ERROR, sequence, &code.to_ne_bytes())
    }

    #[test]
    fn a_batch_is_answered_once_every_message_is() {
        let mut batch = Batch::new(10);
        batch.delete_table(Family::Ipv4, "keepalived");
        batch.delete_table(Family::Ipv6, "keepalived");
        let (_, mut awaited, _) = batch.finish();
        // A late reply to an earlier request counts for nothing.
        let first = [ack(3, -libc::ENOENT), ack(11, 0)].concat();
        assert_eq!(awaited.take(&first, |_| {}), Ok(()));
        assert!(!awaited.is_complete());
        assert_eq!(awaited.take(&ack(12, -libc::ENOENT), |_| {}), Ok(()));
        assert!(awaited.is_complete());
        assert_eq!(awaited.first_error(), Some(-libc::ENOENT));
    }

    #[test]
    fn a_batch_refused_whole_ends_at_its_frame_error() {
        let mut batch = Batch::new(20);
        batch.delete_table(Family::Ipv4, "keepalived");
        let (_, mut awaited, _) = batch.finish();
        assert_eq!(awaited.take(&ack(20, -libc::EPERM), |_| {}), Ok(()));
        assert!(awaited.is_complete());
        assert_eq!(awaited.first_error(), Some(-libc::EPERM));
    }

    #[test]
    fn a_described_table_is_seen_before_its_acknowledgement() {
        let mut awaited = Awaited::new(vec![5], None);
        let mut seen = Vec::new();
        let replies = [message(TABLE_REPLY, 5, &[0; 8]), ack(5, 0)].concat();
        assert_eq!(awaited.take(&replies, |kind| seen.push(kind)), Ok(()));
        assert_eq!(seen, [TABLE_REPLY]);
        assert!(awaited.is_complete());
        assert_eq!(awaited.first_error(), None);
        assert!(
            Awaited::new(vec![5], None)
                .take(&replies[..30], |_| {})
                .is_err()
        );
    }

    #[test]
    fn a_batch_is_framed_and_numbered_and_awaits_each_message() {
        let mut batch = Batch::new(100);
        assert!(batch.is_empty());
        batch.table(Family::Ipv4, &rules());
        batch.ipv4_addresses(&rules(), 1);
        batch.elements(&rules(), SetName::Ipv4, &[vec![10, 9, 0, 100]], true);
        let (bytes, awaited, next) = batch.finish();
        let found = headers(&bytes);
        // Begin, table, two chains, set, two rules, elements, end.
        assert_eq!(found.len(), 9);
        assert_eq!(found[0], (BATCH_BEGIN, NLM_F_REQUEST, 100, 0));
        assert_eq!(found[8], (BATCH_END, NLM_F_REQUEST, 108, 0));
        assert_eq!(awaited.sequences, (101..108).collect::<Vec<_>>());
        assert_eq!(awaited.frame, Some(100));
        assert_eq!(next, 109);
        let kinds: Vec<u16> = found[1..8].iter().map(|m| m.0 & 0xff).collect();
        assert_eq!(kinds, [0u16, 3, 3, 9, 6, 6, 12]);
        assert!(
            found[1..8]
                .iter()
                .all(|m| m.0 >> 8 == SUBSYSTEM && m.3 == 2)
        );
        // Rules are appended; VIPs must not be there already (EXCL).
        assert_eq!(
            found[5].1,
            NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_APPEND
        );
        assert_eq!(
            found[7].1,
            NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL
        );
    }

    #[test]
    fn counters_come_before_every_verdict() {
        let count = |counters: bool| {
            let mut batch = Batch::new(1);
            batch.ipv6_addresses(
                &Rules {
                    counters,
                    ..rules()
                },
                1,
                2,
            );
            let (bytes, _, _) = batch.finish();
            bytes.windows(8).filter(|w| w == b"counter\0").count()
        };
        assert_eq!(count(false), 0);
        // Two neighbour-discovery accepts, two link-local gotos, two drops.
        assert_eq!(count(true), 6);
    }

    fn vmac_rules(family: Family, counters: bool) -> Vec<u8> {
        let mut batch = Batch::new(1);
        let ids = VmacSetIds {
            map: 1,
            set: (family == Family::Ipv6).then_some(2),
        };
        batch.vmac_rules(
            family,
            &Rules {
                counters,
                ..rules()
            },
            ids,
        );
        batch.finish().0
    }

    fn count(bytes: &[u8], word: &[u8]) -> usize {
        bytes.windows(word.len()).filter(|w| w == &word).count()
    }

    #[test]
    fn the_vmac_rules_dup_reports_to_the_base_interface_and_drop_them() {
        let ipv4 = vmac_rules(Family::Ipv4, false);
        let kinds: Vec<u16> = headers(&ipv4)[1..3].iter().map(|m| m.0 & 0xff).collect();
        // The map, then the rule.
        assert_eq!(kinds, [9, 6]);
        assert_eq!(count(&ipv4, b"vmac_map\0"), 2);
        assert_eq!(count(&ipv4, b"dup\0"), 1);
        assert_eq!(count(&ipv4, b"macvlan\0"), 1);
        assert_eq!(count(&ipv4, b"vmac_set\0"), 0);
        // IPv6: the map and the set of VMACs, the MLD rule and the router solicitation rule.
        let ipv6 = vmac_rules(Family::Ipv6, false);
        let kinds: Vec<u16> = headers(&ipv6)[1..5].iter().map(|m| m.0 & 0xff).collect();
        assert_eq!(kinds, [9, 9, 6, 6]);
        assert_eq!(count(&ipv6, b"dup\0"), 1);
        assert_eq!(count(&ipv6, b"macvlan\0"), 2);
        assert_eq!(count(&ipv6, b"vmac_set\0"), 2);
        assert_eq!(count(&vmac_rules(Family::Ipv4, true), b"counter\0"), 1);
        assert_eq!(count(&vmac_rules(Family::Ipv6, true), b"counter\0"), 2);
    }

    #[test]
    fn a_vmac_element_maps_its_index_to_its_base_interface() {
        let mut batch = Batch::new(1);
        let ids = VmacSetIds {
            map: 4,
            set: Some(5),
        };
        batch.vmac_elements(Family::Ipv6, &rules(), 7, 3, Some(ids), true);
        batch.vmac_elements(Family::Ipv4, &rules(), 7, 3, None, false);
        let (bytes, awaited, _) = batch.finish();
        let found = headers(&bytes);
        // Not exclusive: a VMAC taken over from an earlier run may be there already.
        let add = NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE;
        assert_eq!(found[1], (SUBSYSTEM << 8 | 12, add, 2, 10));
        assert_eq!(found[2], (SUBSYSTEM << 8 | 12, add, 3, 10));
        assert_eq!(
            found[3],
            (SUBSYSTEM << 8 | 14, NLM_F_REQUEST | NLM_F_ACK, 4, 2)
        );
        assert_eq!(awaited.sequences, [2, 3, 4]);
        // Key 7 (in the map and the set) and data 3 (in the map), host order.
        let value = |index: u32| [&[8u8, 0, 1, 0][..], &index.to_ne_bytes()].concat();
        assert_eq!(count(&bytes, &value(7)), 3);
        assert_eq!(count(&bytes, &value(3)), 2);
        // The sets' ids of this batch, then none.
        assert_eq!(count(&bytes, &[8, 0, 4, 0, 0, 0, 0, 4]), 1);
        assert_eq!(count(&bytes, &[8, 0, 4, 0, 0, 0, 0, 5]), 1);
    }

    #[test]
    fn removing_elements_is_one_message_without_create() {
        let mut batch = Batch::new(7);
        let keys = [vec![0xfe, 0x80], vec![0xfd, 0]];
        batch.elements(&rules(), SetName::Ipv6, &keys, false);
        let (bytes, awaited, _) = batch.finish();
        let found = headers(&bytes);
        assert_eq!(
            found[1],
            (SUBSYSTEM << 8 | 14, NLM_F_REQUEST | NLM_F_ACK, 8, 10)
        );
        assert_eq!(awaited.sequences, [8]);
    }
}
