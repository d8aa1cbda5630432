//! IP address spaces (CIDR blocks, v4 or v6) and the addresses endpoints get from them
//! (spec/emnify-endpoints.md §1.2). An address is kept as its host number: its offset from the
//! block's network address, so that "the lowest free host" is a question about integers.
use super::error::DomainError;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// A CIDR block, its network address normalised (host bits zero).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Space {
    network: IpAddr,
    prefix: u8,
}

impl Space {
    /// `10.191.216.64/28`, `2001:db8::/64`. Host bits must be zero (a typo otherwise names another
    /// block than meant). IPv6 blocks of at least /64.
    pub fn parse(raw: &str) -> Result<Space, DomainError> {
        let field = "ip_address_space";
        let bad = |why: &str| DomainError::invalid(field, format!("{raw:?} {why}"));
        let (addr, prefix) = raw
            .trim()
            .split_once('/')
            .ok_or_else(|| bad("must be a CIDR block such as 10.192.0.0/16"))?;
        let network: IpAddr = addr
            .parse()
            .map_err(|_| bad("must be a CIDR block such as 10.192.0.0/16"))?;
        let prefix: u8 = prefix
            .parse()
            .map_err(|_| bad("has no valid prefix length"))?;
        let (bits, min) = match network {
            IpAddr::V4(_) => (32, 8),
            IpAddr::V6(_) => (128, 64),
        };
        if prefix > bits || prefix < min {
            return Err(bad(&format!("prefix must be /{min} to /{bits}")));
        }
        let space = Space { network, prefix };
        let host_mask = (1u128 << space.host_bits().min(127)) - 1;
        if as_int(network) & host_mask != 0 {
            return Err(bad("has host bits set: give the block's network address"));
        }
        Ok(space)
    }

    pub fn version(&self) -> i16 {
        match self.network {
            IpAddr::V4(_) => 4,
            IpAddr::V6(_) => 6,
        }
    }

    fn bits(&self) -> u32 {
        match self.network {
            IpAddr::V4(_) => 32,
            IpAddr::V6(_) => 128,
        }
    }

    fn host_bits(&self) -> u32 {
        self.bits() - u32::from(self.prefix)
    }

    fn base(&self) -> u128 {
        as_int(self.network)
    }

    /// IPv4 blocks below /31 lose their network and broadcast addresses.
    fn reserves_ends(&self) -> bool {
        self.version() == 4 && self.prefix < 31
    }

    /// The first and last host numbers an endpoint may get. Host numbers are stored as i64: a larger
    /// IPv6 block is used up to 2^63 hosts, far more than any fleet.
    pub fn hosts(&self) -> (i64, i64) {
        let count = 1u128 << self.host_bits().min(127);
        let (first, last) = if self.reserves_ends() {
            (1, count - 2)
        } else {
            (0, count - 1)
        };
        (first, last.min(i64::MAX as u128) as i64)
    }

    /// How many addresses endpoints may get.
    pub fn size(&self) -> i64 {
        let (first, last) = self.hosts();
        last - first + 1
    }

    /// The host number of `addr` in this block; None outside it (or another IP version).
    pub fn host_of(&self, addr: IpAddr) -> Option<i64> {
        if addr.is_ipv4() != self.network.is_ipv4() {
            return None;
        }
        let offset = as_int(addr).checked_sub(self.base())?;
        if self.host_bits() < 128 && offset >> self.host_bits() != 0 {
            return None;
        }
        i64::try_from(offset).ok()
    }

    /// Whether `addr` may be given to an endpoint: in the block, not a reserved end.
    pub fn usable_host(&self, addr: IpAddr) -> Option<i64> {
        let host = self.host_of(addr)?;
        let (first, last) = self.hosts();
        (first..=last).contains(&host).then_some(host)
    }

    pub fn address(&self, host: i64) -> IpAddr {
        let n = self.base() + host as u128;
        match self.network {
            IpAddr::V4(_) => IpAddr::V4(Ipv4Addr::from(n as u32)),
            IpAddr::V6(_) => IpAddr::V6(Ipv6Addr::from(n)),
        }
    }

    /// Whether two blocks share any address.
    pub fn overlaps(&self, other: &Space) -> bool {
        if self.version() != other.version() {
            return false;
        }
        // Two CIDR blocks overlap exactly when the wider one holds the other's network address.
        let (wide, narrow) = if self.prefix <= other.prefix {
            (self, other)
        } else {
            (other, self)
        };
        wide.host_of(narrow.network).is_some()
    }
}

impl std::fmt::Display for Space {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.network, self.prefix)
    }
}

fn as_int(addr: IpAddr) -> u128 {
    match addr {
        IpAddr::V4(a) => u128::from(u32::from(a)),
        IpAddr::V6(a) => u128::from(a),
    }
}

/// An `ip_address` as a body gives it.
pub fn address(raw: &str) -> Result<IpAddr, DomainError> {
    raw.trim()
        .parse()
        .map_err(|_| DomainError::invalid("ip_address", format!("{raw:?} is not an IP address")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn blocks_parse_normalised_or_not_at_all() {
        let s = Space::parse("10.191.216.64/28").unwrap();
        assert_eq!(s.to_string(), "10.191.216.64/28");
        assert_eq!(s.version(), 4);
        assert_eq!(Space::parse("2001:db8::/64").unwrap().version(), 6);
        for bad in [
            "10.191.216.65/28", // host bits
            "10.0.0.0",
            "10.0.0.0/33",
            "10.0.0.0/7",
            "10.0.0/8",
            "2001:db8::/65x",
            "2001:db8::/48",
            "",
        ] {
            assert!(Space::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn ipv4_blocks_keep_their_ends_below_31() {
        let s = Space::parse("10.191.216.64/28").unwrap();
        assert_eq!(s.hosts(), (1, 14));
        assert_eq!(s.size(), 14);
        assert_eq!(s.address(1), ip("10.191.216.65"));
        assert_eq!(s.usable_host(ip("10.191.216.68")), Some(4));
        assert_eq!(s.usable_host(ip("10.191.216.64")), None);
        assert_eq!(s.usable_host(ip("10.191.216.79")), None);
        assert_eq!(s.usable_host(ip("10.191.216.80")), None);
        assert_eq!(s.usable_host(ip("10.191.216.63")), None);
        assert_eq!(s.usable_host(ip("::1")), None);
        assert_eq!(Space::parse("10.0.0.0/31").unwrap().hosts(), (0, 1));
        assert_eq!(Space::parse("10.0.0.1/32").unwrap().size(), 1);
        assert_eq!(Space::parse("10.192.0.0/16").unwrap().size(), 65534);
    }

    #[test]
    fn ipv6_blocks_count_to_i64() {
        let s = Space::parse("2001:db8::/64").unwrap();
        assert_eq!(s.hosts(), (0, i64::MAX));
        assert_eq!(s.address(5), ip("2001:db8::5"));
        assert_eq!(s.usable_host(ip("2001:db8::5")), Some(5));
        assert_eq!(s.usable_host(ip("2001:db8:0:1::5")), None);
        let small = Space::parse("2001:db8::/120").unwrap();
        assert_eq!(small.hosts(), (0, 255));
    }

    #[test]
    fn overlap_is_shared_addresses() {
        let a = Space::parse("10.0.0.0/16").unwrap();
        assert!(a.overlaps(&Space::parse("10.0.5.0/24").unwrap()));
        assert!(Space::parse("10.0.5.0/24").unwrap().overlaps(&a));
        assert!(a.overlaps(&a));
        assert!(!a.overlaps(&Space::parse("10.1.0.0/16").unwrap()));
        assert!(!a.overlaps(&Space::parse("2001:db8::/64").unwrap()));
    }
}
