//! What SIGUSR1 and SIGUSR2 write, where keepalived writes it: `/tmp/keepalived.data` (the running
//! instances) and `/tmp/keepalived.stats` (keepalived's per-instance counters, in its layout).

use std::fmt::Write;

use vrrp::Instance;

pub const DATA_FILE: &str = "/tmp/keepalived.data";
pub const STATS_FILE: &str = "/tmp/keepalived.stats";

/// One instance as the reports show it.
pub struct InstanceReport<'a> {
    pub instance: &'a Instance,
    pub interface: &'a str,
    pub virtual_addresses: Vec<String>,
}

pub fn data(instances: &[InstanceReport<'_>]) -> String {
    let mut text = String::from("------< VRRP Topology >------\n");
    for report in instances {
        let vi = report.instance;
        let config = vi.config();
        let _ = writeln!(text, " VRRP Instance = {}", config.name);
        let _ = writeln!(text, "   State = {}", vi.state());
        let _ = writeln!(text, "   Interface = {}", report.interface);
        let _ = writeln!(text, "   Virtual Router ID = {}", config.vrid);
        let _ = writeln!(text, "   Priority = {}", config.priority);
        let _ = writeln!(text, "   Effective priority = {}", vi.effective_priority());
        let _ = writeln!(
            text,
            "   Advert interval = {} milli-sec",
            config.advert_interval.as_duration().as_millis()
        );
        let _ = writeln!(text, "   VRRP Version = {}", config.version.number());
        let _ = writeln!(
            text,
            "   Preempt = {}",
            if config.preempt {
                "enabled"
            } else {
                "disabled"
            }
        );
        if let Some(source) = vi.source_address() {
            let _ = writeln!(text, "   Using src_ip = {source}");
        }
        let _ = writeln!(text, "   Virtual IP ({}):", report.virtual_addresses.len());
        for address in &report.virtual_addresses {
            let _ = writeln!(text, "     {address}");
        }
    }
    text
}

pub fn stats(instances: &[InstanceReport<'_>]) -> String {
    let mut text = String::new();
    for report in instances {
        let s = report.instance.statistics();
        let _ = write!(
            text,
            "VRRP Instance: {}\n  Advertisements:\n    Received: {}\n    Sent: {}\n  Became master: {}\n  \
             Released master: {}\n  Packet Errors:\n    Length: {}\n    TTL: {}\n    Invalid Type: {}\n    \
             Advertisement Interval: {}\n    Address List: {}\n  Authentication Errors:\n    Invalid Type: {}\n    \
             Type Mismatch: {}\n    Failure: {}\n  Priority Zero:\n    Received: {}\n    Sent: {}\n",
            report.instance.config().name,
            s.advert_rcvd,
            s.advert_sent,
            s.become_master,
            s.release_master,
            s.packet_len_err,
            s.ip_ttl_err,
            s.invalid_type_rcvd,
            s.advert_interval_err,
            s.addr_list_err,
            s.invalid_authtype,
            s.authtype_mismatch,
            s.auth_failure,
            s.pri_zero_rcvd,
            s.pri_zero_sent,
        );
    }
    text
}
