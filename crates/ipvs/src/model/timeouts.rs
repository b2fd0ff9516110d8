/// The kernel's connection timeouts, in seconds (`ipvsadm --set tcp tcpfin udp`).
///
/// When setting, 0 leaves a value unchanged.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Timeouts {
    /// Established TCP connections.
    pub tcp: u32,
    /// TCP connections after a FIN.
    pub tcp_fin: u32,
    /// UDP "connections".
    pub udp: u32,
}
