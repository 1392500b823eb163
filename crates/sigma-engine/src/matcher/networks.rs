//! The networks of one `cidr` list as sorted, merged address ranges: an
//! address is looked up with one binary search, not compared with each
//! network in turn (an IP blocklist of 50,000 networks took 2 ms per event).

use ipnet::IpNet;
use std::net::IpAddr;

/// Networks, IPv4 and IPv6 apart: as with one network, an IPv4 network
/// holds no IPv6 address (not even `::ffff:10.0.0.1`) and the reverse.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NetworkSet {
    /// Inclusive ranges, sorted, none touching another.
    v4: Vec<(u32, u32)>,
    v6: Vec<(u128, u128)>,
}

impl NetworkSet {
    pub fn new(nets: impl IntoIterator<Item = IpNet>) -> NetworkSet {
        let (mut v4, mut v6) = (Vec::new(), Vec::new());
        for net in nets {
            match net {
                IpNet::V4(n) => v4.push((n.network().into(), n.broadcast().into())),
                IpNet::V6(n) => v6.push((n.network().into(), n.broadcast().into())),
            }
        }
        NetworkSet {
            v4: merged(v4),
            v6: merged(v6),
        }
    }

    pub fn contains(&self, ip: IpAddr) -> bool {
        match ip {
            IpAddr::V4(a) => holds(&self.v4, a.into()),
            IpAddr::V6(a) => holds(&self.v6, a.into()),
        }
    }
}

/// Sorted ranges, those that overlap or touch made one.
fn merged<T: Ord + Copy + Successor>(mut ranges: Vec<(T, T)>) -> Vec<(T, T)> {
    ranges.sort_unstable();
    let mut out: Vec<(T, T)> = Vec::with_capacity(ranges.len());
    for (start, end) in ranges {
        match out.last_mut() {
            Some(last) if last.1.successor().is_none_or(|next| start <= next) => {
                last.1 = last.1.max(end);
            }
            _ => out.push((start, end)),
        }
    }
    out.shrink_to_fit();
    out
}

fn holds<T: Ord + Copy>(ranges: &[(T, T)], x: T) -> bool {
    let after = ranges.partition_point(|&(start, _)| start <= x);
    after > 0 && x <= ranges[after - 1].1
}

/// The next address, if there is one.
trait Successor: Sized {
    fn successor(self) -> Option<Self>;
}

impl Successor for u32 {
    fn successor(self) -> Option<u32> {
        self.checked_add(1)
    }
}

impl Successor for u128 {
    fn successor(self) -> Option<u128> {
        self.checked_add(1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nets(list: &[&str]) -> Vec<IpNet> {
        list.iter().map(|n| n.parse().unwrap()).collect()
    }

    #[test]
    fn an_address_is_in_the_set_when_it_is_in_one_of_its_networks() {
        let list = nets(&[
            "10.0.0.0/8",
            "10.1.0.0/16",
            "192.168.1.0/24",
            "192.168.2.0/24",
            "0.0.0.0/32",
            "255.255.255.255/32",
            "172.16.5.4/30",
            "2001:db8::/32",
            "::/128",
            "ffff:ffff:ffff:ffff:ffff:ffff:ffff:fff0/124",
        ]);
        let set = NetworkSet::new(list.clone());
        let addresses = [
            "10.0.0.0",
            "10.255.255.255",
            "11.0.0.0",
            "9.255.255.255",
            "192.168.1.77",
            "192.168.2.255",
            "192.168.3.0",
            "192.168.0.255",
            "0.0.0.0",
            "0.0.0.1",
            "255.255.255.255",
            "255.255.255.254",
            "172.16.5.3",
            "172.16.5.4",
            "172.16.5.7",
            "172.16.5.8",
            "2001:db8::1",
            "2001:db9::",
            "::",
            "::1",
            "::ffff:10.0.0.1",
            "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
            "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffef",
        ];
        for a in addresses {
            let ip: IpAddr = a.parse().unwrap();
            let one_by_one = list.iter().any(|n| n.contains(&ip));
            assert_eq!(set.contains(ip), one_by_one, "{a}");
        }
        // Touching and overlapping networks are one range.
        assert_eq!(set.v4.len(), 5, "{:?}", set.v4);
    }

    #[test]
    fn many_random_networks_hold_what_each_holds() {
        let mut x = 0x9e37_79b9_7f4a_7c15_u64;
        let mut next = || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        let list: Vec<IpNet> = (0..2000)
            .map(|_| {
                let (a, len) = (next() as u32 & 0x0fff_ffff, 8 + (next() % 25) as u8);
                IpNet::V4(ipnet::Ipv4Net::new(a.into(), len).unwrap().trunc())
            })
            .collect();
        let set = NetworkSet::new(list.clone());
        for _ in 0..20_000 {
            let ip = IpAddr::V4((next() as u32 & 0x0fff_ffff).into());
            assert_eq!(
                set.contains(ip),
                list.iter().any(|n| n.contains(&ip)),
                "{ip}"
            );
        }
    }
}
