//! The checker process's Prometheus metrics: per virtual server and real server the IPVS counters
//! and rates (read from the kernel when scraped), health, weight, quorum, checks by result and the
//! time successful checks took. The text joins the VRRP daemon's in one scrape (its child answers
//! over the metrics link) or is served alone with `-C --metrics-listen`. Labels name services and
//! servers as `ipvsadm -Ln` does: `virtual_server="TCP 10.0.0.1:80"` (`FWM 7`, `UDP [2001:db8::1]:53`),
//! `real_server="192.168.0.1:80"` (`[2001:db8::2]:53`).

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;
use std::net::IpAddr;
use std::time::Duration;

use ipvs::model::{Destination, ServiceKey, Stats};
use ipvs::table::VirtualService;
use keepalived_config::model::Config;
use lvs::mapping;
use lvs::pool::Pool;
use vrrpd_runtime::metrics::{Histogram, escape, header};

/// Buckets of the check duration histogram, in seconds: a local answer takes well under a
/// millisecond, a remote one milliseconds, a slow one up to `connect_timeout` (5 s by default).
pub const DURATION_BUCKETS: &[f64] = &[
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// What one checker has done since it started (carried over a reload when it stays).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct CheckCounts {
    pub successes: u64,
    pub failures: u64,
    /// Seconds the successful attempts took, added up.
    pub success_seconds: f64,
}

impl CheckCounts {
    pub fn record(&mut self, success: bool, took: Option<Duration>) {
        if success {
            self.successes += 1;
            self.success_seconds += took.map_or(0.0, |d| d.as_secs_f64());
        } else {
            self.failures += 1;
        }
    }

    fn add(&mut self, other: &CheckCounts) {
        self.successes += other.successes;
        self.failures += other.failures;
        self.success_seconds += other.success_seconds;
    }
}

/// One checker as the metrics see it.
pub struct CheckerView<'a> {
    pub service: usize,
    pub real_server: usize,
    pub keyword: &'a str,
    pub counts: CheckCounts,
}

/// Everything the text is made of.
pub struct LvsView<'a> {
    pub config: &'a Config,
    pub pool: &'a Pool,
    pub checkers: Vec<CheckerView<'a>>,
    /// What this process has programmed (the weights it gave).
    pub programmed: &'a [VirtualService],
    /// The kernel's table as read for this scrape (`None` when it could not be read).
    pub kernel: Option<&'a [VirtualService]>,
    /// Successful check durations per checker keyword.
    pub durations: &'a BTreeMap<&'static str, Histogram>,
}

/// A real server's address as `ipvsadm -Ln` prints it.
pub fn server_label(address: IpAddr, port: u16) -> String {
    match address {
        IpAddr::V4(address) => format!("{address}:{port}"),
        IpAddr::V6(address) => format!("[{address}]:{port}"),
    }
}

struct ServiceRow<'a> {
    labels: String,
    quorum_up: bool,
    stats: Option<&'a Stats>,
}

struct ServerRow<'a> {
    labels: String,
    up: bool,
    weight: i32,
    kernel: Option<&'a Destination>,
    /// Per checker keyword.
    checks: BTreeMap<&'a str, CheckCounts>,
}

/// Renders the checker process's metrics.
pub fn render(view: &LvsView<'_>) -> String {
    let kernel: HashMap<ServiceKey, &VirtualService> = view
        .kernel
        .unwrap_or(&[])
        .iter()
        .map(|entry| (entry.service.key, entry))
        .collect();
    let programmed: HashMap<ServiceKey, &VirtualService> = view
        .programmed
        .iter()
        .map(|entry| (entry.service.key, entry))
        .collect();
    let mut checks: HashMap<(usize, usize), BTreeMap<&str, CheckCounts>> = HashMap::new();
    for checker in &view.checkers {
        checks
            .entry((checker.service, checker.real_server))
            .or_default()
            .entry(checker.keyword)
            .or_default()
            .add(&checker.counts);
    }
    let mut services = Vec::new();
    let mut servers = Vec::new();
    for (index, vs) in view.config.virtual_servers.iter().enumerate() {
        let Some(state) = view.pool.services.get(index) else {
            continue;
        };
        // A group's services each carry the group's health and checks.
        for key in mapping::service_keys(vs, &view.config.virtual_server_groups) {
            let vs_label = format!("virtual_server=\"{}\"", escape(&key.to_string()));
            let in_kernel = kernel.get(&key);
            services.push(ServiceRow {
                labels: vs_label.clone(),
                quorum_up: state.quorum_up,
                stats: in_kernel.and_then(|entry| entry.service.stats.as_ref()),
            });
            for (rs_index, rs) in vs.real_servers.iter().enumerate() {
                let Some(rs_state) = state.real_servers.get(rs_index) else {
                    continue;
                };
                let same = |d: &&Destination| d.address == rs.address && d.port == rs.port;
                let weight = programmed
                    .get(&key)
                    .and_then(|entry| entry.destinations.iter().find(same))
                    .map_or(0, |d| d.weight);
                servers.push(ServerRow {
                    labels: format!(
                        "{vs_label},real_server=\"{}\"",
                        server_label(rs.address, rs.port)
                    ),
                    up: rs_state.alive,
                    weight,
                    kernel: in_kernel.and_then(|entry| entry.destinations.iter().find(same)),
                    checks: checks.get(&(index, rs_index)).cloned().unwrap_or_default(),
                });
            }
        }
    }

    let mut out = String::new();
    header(
        &mut out,
        "lvs_ipvs_up",
        "gauge",
        "1 when the kernel's IPVS table could be read for this scrape.",
    );
    let _ = writeln!(out, "lvs_ipvs_up {}", u8::from(view.kernel.is_some()));

    header(
        &mut out,
        "lvs_virtual_server_quorum_up",
        "gauge",
        "1 while the virtual server has quorum (its live real servers' weights reach quorum).",
    );
    for row in &services {
        let _ = writeln!(
            out,
            "lvs_virtual_server_quorum_up{{{}}} {}",
            row.labels,
            u8::from(row.quorum_up)
        );
    }
    let service_stats: Vec<(&str, Option<&Stats>)> = services
        .iter()
        .map(|row| (row.labels.as_str(), row.stats))
        .collect();
    stats_families(&mut out, "lvs_virtual_server", &service_stats);

    header(
        &mut out,
        "lvs_real_server_up",
        "gauge",
        "1 while the real server's checkers all pass (it is in the pool), 0 when one fails.",
    );
    for row in &servers {
        let _ = writeln!(
            out,
            "lvs_real_server_up{{{}}} {}",
            row.labels,
            u8::from(row.up)
        );
    }
    header(
        &mut out,
        "lvs_real_server_weight",
        "gauge",
        "The weight this process gave the real server in IPVS (0 when it is out of the table).",
    );
    for row in &servers {
        let _ = writeln!(
            out,
            "lvs_real_server_weight{{{}}} {}",
            row.labels, row.weight
        );
    }
    type Connections = fn(&Destination) -> u32;
    let connections: [(&str, &str, Connections); 2] = [
        (
            "lvs_real_server_active_connections",
            "Active connections (IPVS ActiveConn).",
            |d| d.active_connections,
        ),
        (
            "lvs_real_server_inactive_connections",
            "Inactive connections (IPVS InActConn).",
            |d| d.inactive_connections,
        ),
    ];
    for (name, help, value) in connections {
        header(&mut out, name, "gauge", help);
        for row in &servers {
            if let Some(destination) = row.kernel {
                let _ = writeln!(out, "{name}{{{}}} {}", row.labels, value(destination));
            }
        }
    }
    let server_stats: Vec<(&str, Option<&Stats>)> = servers
        .iter()
        .map(|row| {
            (
                row.labels.as_str(),
                row.kernel.and_then(|d| d.stats.as_ref()),
            )
        })
        .collect();
    stats_families(&mut out, "lvs_real_server", &server_stats);

    header(
        &mut out,
        "lvs_real_server_checks_total",
        "counter",
        "Check attempts finished, by checker type and result.",
    );
    for row in &servers {
        for (checker, counts) in &row.checks {
            for (result, value) in [("success", counts.successes), ("failure", counts.failures)] {
                let _ = writeln!(
                    out,
                    "lvs_real_server_checks_total{{{},checker=\"{checker}\",result=\"{result}\"}} {value}",
                    row.labels
                );
            }
        }
    }
    header(
        &mut out,
        "lvs_real_server_check_duration_seconds",
        "summary",
        "Time the successful check attempts took, by checker type.",
    );
    for row in &servers {
        for (checker, counts) in &row.checks {
            let labels = format!("{},checker=\"{checker}\"", row.labels);
            let _ = writeln!(
                out,
                "lvs_real_server_check_duration_seconds_sum{{{labels}}} {}\n\
                 lvs_real_server_check_duration_seconds_count{{{labels}}} {}",
                counts.success_seconds, counts.successes
            );
        }
    }
    header(
        &mut out,
        "lvs_check_duration_seconds",
        "histogram",
        "Time the successful check attempts took, by checker type, over all real servers.",
    );
    for (checker, histogram) in view.durations {
        histogram.render(
            &mut out,
            "lvs_check_duration_seconds",
            &format!("checker=\"{checker}\""),
        );
    }
    out
}

/// The IPVS counters and rates of services or destinations: `PREFIX_connections_total`,
/// `PREFIX_packets_total{direction}`, `PREFIX_bytes_total{direction}` and their `_per_second`
/// rates (the kernel's estimates). Rows without statistics (not in the kernel) are left out.
fn stats_families(out: &mut String, prefix: &str, rows: &[(&str, Option<&Stats>)]) {
    type Value = fn(&Stats) -> u64;
    let single: [(&str, &str, &str, Value); 2] = [
        (
            "connections_total",
            "counter",
            "Connections scheduled (IPVS Conns).",
            |s| s.connections,
        ),
        (
            "connections_per_second",
            "gauge",
            "Connections per second (IPVS CPS, the kernel's estimate).",
            |s| s.cps,
        ),
    ];
    for (suffix, kind, help, value) in single {
        let name = format!("{prefix}_{suffix}");
        header(out, &name, kind, help);
        for (labels, stats) in rows {
            if let Some(stats) = stats {
                let _ = writeln!(out, "{name}{{{labels}}} {}", value(stats));
            }
        }
    }
    let directed: [(&str, &str, &str, Value, Value); 4] = [
        (
            "packets_total",
            "counter",
            "Packets, in (client to server) and out.",
            |s| s.in_packets,
            |s| s.out_packets,
        ),
        (
            "bytes_total",
            "counter",
            "Bytes, in (client to server) and out.",
            |s| s.in_bytes,
            |s| s.out_bytes,
        ),
        (
            "packets_per_second",
            "gauge",
            "Packets per second, in and out (the kernel's estimate).",
            |s| s.in_pps,
            |s| s.out_pps,
        ),
        (
            "bytes_per_second",
            "gauge",
            "Bytes per second, in and out (the kernel's estimate).",
            |s| s.in_bps,
            |s| s.out_bps,
        ),
    ];
    for (suffix, kind, help, inbound, outbound) in directed {
        let name = format!("{prefix}_{suffix}");
        header(out, &name, kind, help);
        for (labels, stats) in rows {
            if let Some(stats) = stats {
                let _ = writeln!(
                    out,
                    "{name}{{{labels},direction=\"in\"}} {}\n{name}{{{labels},direction=\"out\"}} {}",
                    inbound(stats),
                    outbound(stats)
                );
            }
        }
    }
}
