//! The sockets of refused connections, kept for the next attempts.
//!
//! A connection the server refuses leaves a socket the kernel has dissolved: unconnected again,
//! it may connect anew, to any address, with the options it was opened with
//! ([`Probe::into_spare`](crate::probes::Probe::into_spare)). Such sockets are pooled by their
//! setup (address family, source address, interface, fwmark) and the next attempt of any checker
//! of that setup takes the one put back last. The pool so holds about as many sockets as attempts
//! were refused at once, and those stay warm in the caches; one socket kept per checker had the
//! kernel walk thousands of them, and held as many descriptors.

use std::net::SocketAddr;

use rustc_hash::FxHashMap;

use crate::probes::{SpareSocket, Target};

/// What a socket is before it connects: a spare socket serves any target of the same setup.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
struct SocketSetup {
    ipv6: bool,
    bind: Option<SocketAddr>,
    interface: Option<String>,
    fwmark: Option<u32>,
}

impl SocketSetup {
    fn of(target: &Target) -> Self {
        SocketSetup {
            ipv6: target.address.is_ipv6(),
            bind: target.bind,
            interface: target.interface.clone(),
            fwmark: target.fwmark,
        }
    }
}

/// A setup's number in its pool ([`SparePool::setup_of`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SetupId(usize);

/// The spare sockets, by setup, within a budget of descriptors.
pub struct SparePool {
    ids: FxHashMap<SocketSetup, SetupId>,
    /// Per setup, the sockets put back, the last put back last.
    free: Vec<Vec<SpareSocket>>,
    kept: usize,
    /// At most this many are kept: the rest of the descriptors the process may open are left
    /// to attempts in flight, scripts and the rest.
    limit: usize,
}

impl SparePool {
    /// A pool that may keep half the descriptors the process may open.
    pub fn new() -> Self {
        let open_files = nix::sys::resource::getrlimit(nix::sys::resource::Resource::RLIMIT_NOFILE)
            .map_or(1024, |(soft, _)| soft);
        Self::with_limit(usize::try_from(open_files / 2).unwrap_or(usize::MAX))
    }

    /// A pool that keeps at most `limit` sockets.
    pub fn with_limit(limit: usize) -> Self {
        SparePool {
            ids: FxHashMap::default(),
            free: Vec::new(),
            kept: 0,
            limit,
        }
    }

    /// The number of `target`'s setup, given once per checker so that attempts need no lookup.
    pub fn setup_of(&mut self, target: &Target) -> SetupId {
        let next = SetupId(self.free.len());
        let id = *self.ids.entry(SocketSetup::of(target)).or_insert(next);
        if id == next {
            self.free.push(Vec::new());
        }
        id
    }

    /// The socket of `setup` put back last, if there is one.
    pub fn take(&mut self, setup: SetupId) -> Option<SpareSocket> {
        let socket = self.free.get_mut(setup.0)?.pop()?;
        self.kept -= 1;
        Some(socket)
    }

    /// Keeps `socket` for the next attempt of `setup`; over the budget it is closed.
    pub fn put(&mut self, setup: SetupId, socket: SpareSocket) {
        if self.kept >= self.limit {
            return;
        }
        if let Some(free) = self.free.get_mut(setup.0) {
            free.push(socket);
            self.kept += 1;
        }
    }

    /// How many sockets are kept.
    pub fn kept(&self) -> usize {
        self.kept
    }

    /// Closes every socket and forgets the setups (a reload numbers them again).
    pub fn clear(&mut self) {
        *self = Self::with_limit(self.limit);
    }

    #[cfg(test)]
    pub fn set_limit(&mut self, limit: usize) {
        self.limit = limit;
    }
}

impl Default for SparePool {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use std::net::TcpListener;
    use std::path::PathBuf;
    use std::time::{Duration, Instant};

    use super::*;
    use crate::probes::test_support::{run_to_verdict, socket_identity};
    use crate::probes::{Exchange, Probe, Verdict};

    fn target(address: &str, fwmark: Option<u32>) -> Target {
        Target {
            address: address.parse().expect("an address"),
            bind: None,
            interface: None,
            fwmark,
        }
    }

    fn closed(fwmark: Option<u32>) -> Target {
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        target(&format!("127.0.0.1:{port}"), fwmark)
    }

    /// A connection to `target`, refused, on `spare` if given: its socket, dissolved, and the
    /// socket's identity (inode).
    fn refused(target: &Target, spare: Option<SpareSocket>) -> (SpareSocket, PathBuf) {
        let timeout = Duration::from_secs(2);
        let mut probe = Probe::start_with(
            target.clone(),
            Exchange::Connect,
            timeout,
            Instant::now(),
            spare,
        )
        .expect("a connection under way");
        let identity = socket_identity(&probe);
        let verdict = run_to_verdict(&mut probe);
        assert!(matches!(verdict, Verdict::Failure { .. }), "{verdict:?}");
        let spare = probe.into_spare().expect("a socket the kernel dissolved");
        (spare, identity)
    }

    #[test]
    fn the_same_setup_has_one_number_and_another_its_own() {
        let mut pool = SparePool::with_limit(10);
        let plain = pool.setup_of(&target("127.0.0.1:80", None));
        assert_eq!(pool.setup_of(&target("10.0.0.1:443", None)), plain);
        let marked = pool.setup_of(&target("127.0.0.1:80", Some(7)));
        let v6 = pool.setup_of(&target("[::1]:80", None));
        assert_ne!(marked, plain);
        assert_ne!(v6, plain);
        assert_ne!(v6, marked);
        let bound = Target {
            bind: Some("127.0.0.1:0".parse().expect("an address")),
            ..target("127.0.0.1:80", None)
        };
        assert_ne!(pool.setup_of(&bound), plain);
        let on_lo = Target {
            interface: Some("lo".into()),
            ..target("127.0.0.1:80", None)
        };
        assert_ne!(pool.setup_of(&on_lo), plain);
        assert_eq!(pool.setup_of(&target("127.0.0.1:8080", Some(7))), marked);
    }

    #[test]
    fn a_refused_socket_serves_the_next_attempt_of_its_setup_at_another_address() {
        let mut pool = SparePool::with_limit(10);
        let (first, second) = (closed(None), closed(None));
        let setup = pool.setup_of(&first);
        assert_eq!(pool.setup_of(&second), setup);
        let (spare, identity) = refused(&first, None);
        pool.put(setup, spare);
        assert_eq!(pool.kept(), 1);
        let other = pool.setup_of(&target("127.0.0.1:80", Some(1)));
        assert!(pool.take(other).is_none(), "not for another setup");
        let spare = pool.take(setup).expect("the spare socket");
        assert_eq!(pool.kept(), 0);
        let (_, again) = refused(&second, Some(spare));
        assert_eq!(again, identity, "the same socket connected again");
    }

    #[test]
    fn the_last_put_back_is_taken_first_and_the_budget_closes_the_rest() {
        let mut pool = SparePool::with_limit(2);
        let target = closed(None);
        let setup = pool.setup_of(&target);
        let (a, identity_a) = refused(&target, None);
        let (b, identity_b) = refused(&target, None);
        let (c, _) = refused(&target, None);
        pool.put(setup, a);
        pool.put(setup, b);
        pool.put(setup, c);
        assert_eq!(pool.kept(), 2, "the third is over the budget");
        let (b, used) = refused(&target, pool.take(setup));
        assert_eq!(used, identity_b);
        let (_, used) = refused(&target, pool.take(setup));
        assert_eq!(used, identity_a);
        assert!(pool.take(setup).is_none());
        pool.put(setup, b);
        pool.clear();
        assert_eq!(pool.kept(), 0);
        let setup = pool.setup_of(&target);
        assert!(pool.take(setup).is_none(), "cleared");
    }
}
