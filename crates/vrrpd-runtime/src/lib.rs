//! The running `vrrpd`: keepalived 2.2.7's VRRP process as one single-threaded event loop.
//!
//! The protocol is the `vrrp` crate's (sans I/O); this crate gives it time, sockets and the kernel:
//!
//! | module | what |
//! |---|---|
//! | [`daemon`] | the event loop: poll over signals, rtnetlink events and VRRP sockets; timers; carrying out the protocol's actions; reload and stop |
//! | [`sockets`] | raw VRRP sockets (receive with the interface index, send per interface), the packet socket for gratuitous ARP / NA |
//! | [`firewall`] | the `no_accept` firewall: nftables tables and sets that drop traffic to and from a master's addresses, as keepalived's |
//! | [`netlink`] | rtnetlink: interfaces, addresses, adding and removing VIPs, routes and rules, link and address events |
//! | [`routing`] | `virtual_routes`/`virtual_rules`/`static_routes`/`static_rules` as keepalived's rtnetlink requests |
//! | [`interfaces`] | the interfaces as last reported: up or down, MAC, the advert source address |
//! | [`gratuitous`] | pacing of gratuitous ARPs / unsolicited NAs per interface (`vrrp_garp_interval`, `garp_group`) |
//! | [`instance_config`] | keepalived.conf model → protocol configuration and address requests |
//! | [`scripts`], [`trackers`] | child processes (notify scripts, `vrrp_script` checks) and what their results do |
//! | [`track_process`] | `vrrp_track_process`: matching, quorum and delays, the proc connector (or a `/proc` poll) |
//! | [`track_files`] | `track_file` files (also the checker process's `FILE_CHECK`): values, `init_file`, inotify |
//! | [`smtp_alert`] | mails on state changes (`smtp_alert`), keepalived's conversation and messages |
//! | [`vmac`] | `use_vmac`: the macvlan's name and MAC, the kernel parameters keepalived sets |
//! | [`logging`], [`process`] | keepalived's log lines, pid files, going into the background |
//! | [`notify`] | systemd's notify socket: readiness, reload, stop, watchdog |
//! | [`metrics`] | the opt-in Prometheus endpoint, served from the event loop |
//! | [`sync_daemon`] | `lvs_sync_daemon`: which IPVS sync daemon runs, following one instance's state |
//! | [`bfd_sessions`] | `bfd_instance` sessions on UDP 3784: sockets, TTL checks, keepalived's log lines, up/down reports |
//! | [`checker_child`] | the checker process as a child: started, watched, started again |

pub mod bfd_sessions;
pub mod checker_child;
pub mod daemon;
pub mod firewall;
pub mod gratuitous;
pub mod instance_config;
pub mod interfaces;
pub mod logging;
pub mod metrics;
pub mod netlink;
pub mod notify;
pub mod notify_fifo;
pub mod placement;
pub mod process;
pub mod reports;
pub mod routing;
pub mod scripts;
pub mod smtp_alert;
pub mod sockets;
pub mod sync_daemon;
pub mod track_files;
pub mod track_process;
pub mod trackers;
pub mod vmac;

pub use daemon::{DaemonOptions, run};
