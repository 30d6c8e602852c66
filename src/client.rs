//! Who the client is, as far as the network can tell: the address that
//! per-client limits, throttles, the anonymous meter and view counting key on.
//!
//! The address is the TCP peer's, unless the peer is one of
//! `TRUSTED_PROXIES`: then the forwarding header it sets
//! (`X-Forwarded-For` by default, or RFC 7239 `Forwarded`) is read from the
//! right, skipping hops that are themselves trusted proxies, and the first
//! untrusted hop is the client. Whatever a client writes into those headers
//! itself sits to the left of what our proxies add, so it is never reached
//! while an untrusted hop stands to its right; from an untrusted peer the
//! headers are not read at all.
//!
//! Keys group IPv6 addresses by their /64: one subscriber line or host gets
//! a whole /64, so counting single IPv6 addresses would count nothing.

use std::net::{IpAddr, Ipv6Addr};
use std::str::FromStr;

use actix_web::HttpMessage;
use actix_web::dev::ServiceRequest;
use actix_web::http::header::{HeaderMap, HeaderName};

/// A network in CIDR notation (`10.0.0.0/8`, `2001:db8::/32`) or a single address.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cidr {
    network: IpAddr,
    prefix: u8,
}

impl Cidr {
    /// Whether `ip` lies in this network. IPv4-mapped IPv6 addresses
    /// (`::ffff:10.0.0.1`) count as their IPv4 address.
    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.network, canonical(ip)) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                masked(u128::from(u32::from(net)), self.prefix, 32)
                    == masked(u128::from(u32::from(ip)), self.prefix, 32)
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                masked(u128::from(net), self.prefix, 128)
                    == masked(u128::from(ip), self.prefix, 128)
            }
            _ => false,
        }
    }
}

fn masked(bits: u128, prefix: u8, width: u8) -> u128 {
    if prefix == 0 {
        return 0;
    }
    let shift = u32::from(width - prefix);
    (bits >> shift) << shift
}

impl FromStr for Cidr {
    type Err = String;

    fn from_str(raw: &str) -> Result<Self, String> {
        let raw = raw.trim();
        let (address, prefix) = match raw.split_once('/') {
            Some((address, prefix)) => (address, Some(prefix)),
            None => (raw, None),
        };
        let network: IpAddr = address
            .parse()
            .map_err(|_| format!("`{raw}` is not an IP address or CIDR network"))?;
        let network = canonical(network);
        let width = if network.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            None => width,
            Some(p) => p
                .parse::<u8>()
                .ok()
                .filter(|p| *p <= width)
                .ok_or_else(|| format!("`{raw}` has a prefix length outside 0..={width}"))?,
        };
        Ok(Self { network, prefix })
    }
}

/// IPv4-mapped IPv6 addresses as the IPv4 address they carry.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

/// Which header trusted proxies put the client's address in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ForwardedHeader {
    /// `X-Forwarded-For: client, proxy1, proxy2` (nginx, HAProxy, most load balancers).
    XForwardedFor,
    /// RFC 7239 `Forwarded: for=client, for=proxy1`.
    Forwarded,
}

/// The proxies whose forwarding header is believed.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TrustedProxies {
    networks: Vec<Cidr>,
    header: Option<ForwardedHeader>,
}

impl TrustedProxies {
    /// Trusts `networks`, which write their client's address into `header`.
    pub fn new(networks: Vec<Cidr>, header: ForwardedHeader) -> Self {
        Self {
            networks,
            header: Some(header),
        }
    }

    /// Whether any proxy is trusted.
    pub fn is_empty(&self) -> bool {
        self.networks.is_empty()
    }

    fn trusts(&self, ip: IpAddr) -> bool {
        self.networks.iter().any(|net| net.contains(ip))
    }

    /// The client's address, given the TCP peer and the request's headers.
    pub fn client(&self, peer: IpAddr, headers: &HeaderMap) -> IpAddr {
        let peer = canonical(peer);
        let Some(header) = self.header.filter(|_| self.trusts(peer)) else {
            return peer;
        };
        let hops = match header {
            ForwardedHeader::XForwardedFor => {
                hops_of(headers, &HeaderName::from_static("x-forwarded-for"), |e| {
                    Some(e.trim())
                })
            }
            ForwardedHeader::Forwarded => {
                hops_of(headers, &actix_web::http::header::FORWARDED, forwarded_for)
            }
        };
        // From the right: the nearest hop first. A hop that cannot be read
        // (`unknown`, an obfuscated name, garbage) ends the walk: the last
        // address we could trust is then the best we know.
        let mut client = peer;
        for hop in hops.iter().rev() {
            match hop.and_then(parse_hop) {
                Some(ip) => {
                    client = canonical(ip);
                    if !self.trusts(client) {
                        break;
                    }
                }
                None => break,
            }
        }
        client
    }
}

/// Every comma-separated element of every line of `name`, in order, as
/// `element` reads it (`None` when it names no address field).
fn hops_of<'a>(
    headers: &'a HeaderMap,
    name: &HeaderName,
    element: fn(&'a str) -> Option<&'a str>,
) -> Vec<Option<&'a str>> {
    headers
        .get_all(name)
        .flat_map(|value| match value.to_str() {
            Ok(text) => text.split(',').map(element).collect::<Vec<_>>(),
            Err(_) => vec![None],
        })
        .collect()
}

/// The `for=` parameter of one `Forwarded` element.
fn forwarded_for(element: &str) -> Option<&str> {
    element.split(';').find_map(|pair| {
        let (name, value) = pair.trim().split_once('=')?;
        name.trim()
            .eq_ignore_ascii_case("for")
            .then(|| value.trim().trim_matches('"'))
    })
}

/// An address as proxies write it: `192.0.2.1`, `192.0.2.1:4711`,
/// `2001:db8::1`, `[2001:db8::1]:4711`.
fn parse_hop(hop: &str) -> Option<IpAddr> {
    let hop = hop.trim();
    if let Ok(ip) = hop.parse() {
        return Some(ip);
    }
    if let Some(rest) = hop.strip_prefix('[') {
        let (inside, _) = rest.split_once(']')?;
        return inside.parse::<Ipv6Addr>().ok().map(IpAddr::V6);
    }
    let (host, port) = hop.rsplit_once(':')?;
    port.parse::<u16>().ok()?;
    host.parse::<std::net::Ipv4Addr>().ok().map(IpAddr::V4)
}

/// The client of one request, worked out once by the first middleware.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct ClientAddr(pub IpAddr);

impl ClientAddr {
    /// The key per-client counters use: the address, or its /64 for IPv6.
    pub fn key(&self) -> String {
        match self.0 {
            IpAddr::V4(v4) => v4.to_string(),
            IpAddr::V6(_) => format!("{}/64", Ipv6Addr::from(self.bucket())),
        }
    }

    /// The same key as a number, for the counters every request touches:
    /// an IPv4 address as its IPv4-mapped IPv6 form, an IPv6 one as its /64.
    pub fn bucket(&self) -> u128 {
        match self.0 {
            IpAddr::V4(v4) => u128::from(v4.to_ipv6_mapped()),
            IpAddr::V6(v6) => u128::from(v6) >> 64 << 64,
        }
    }

    /// Works out the client of `req` and remembers it on the request.
    pub(crate) fn identify(req: &ServiceRequest, proxies: &TrustedProxies) -> Self {
        let peer = req
            .peer_addr()
            .map_or(IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED), |a| a.ip());
        let client = Self(proxies.client(peer, req.headers()));
        req.extensions_mut().insert(client);
        client
    }

    /// The client of a request that went through [`ClientAddr::identify`];
    /// the TCP peer otherwise.
    pub fn of(req: &actix_web::HttpRequest) -> Self {
        if let Some(client) = req.extensions().get::<Self>() {
            return *client;
        }
        Self(
            req.peer_addr()
                .map_or(IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED), |a| {
                    canonical(a.ip())
                }),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::http::header::HeaderValue;

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(
                HeaderName::from_static(name),
                HeaderValue::from_static(value),
            );
        }
        map
    }

    fn proxies(list: &[&str], header: ForwardedHeader) -> TrustedProxies {
        TrustedProxies::new(list.iter().map(|c| c.parse().unwrap()).collect(), header)
    }

    #[test]
    fn networks_contain_their_addresses_only() {
        let net: Cidr = "10.1.0.0/16".parse().unwrap();
        assert!(net.contains(ip("10.1.200.3")));
        assert!(!net.contains(ip("10.2.0.1")));
        assert!(net.contains(ip("::ffff:10.1.0.9")), "IPv4-mapped");
        let single: Cidr = "192.0.2.7".parse().unwrap();
        assert!(single.contains(ip("192.0.2.7")));
        assert!(!single.contains(ip("192.0.2.8")));
        let v6: Cidr = "2001:db8::/32".parse().unwrap();
        assert!(v6.contains(ip("2001:db8:1::5")));
        assert!(!v6.contains(ip("2001:db9::5")));
        assert!(!v6.contains(ip("10.1.0.1")));
        let everything: Cidr = "0.0.0.0/0".parse().unwrap();
        assert!(everything.contains(ip("203.0.113.9")));
        for bad in ["10.0.0.0/33", "nonsense", "::1/129", "10.0.0.0/x"] {
            assert!(bad.parse::<Cidr>().is_err(), "{bad}");
        }
    }

    #[test]
    fn an_untrusted_peer_is_the_client_whatever_it_forwards() {
        let trusted = proxies(&["10.0.0.0/8"], ForwardedHeader::XForwardedFor);
        let forged = headers(&[("x-forwarded-for", "198.51.100.1")]);
        assert_eq!(
            trusted.client(ip("203.0.113.5"), &forged),
            ip("203.0.113.5")
        );
        let nobody = TrustedProxies::default();
        assert_eq!(nobody.client(ip("10.0.0.1"), &forged), ip("10.0.0.1"));
    }

    #[test]
    fn the_rightmost_untrusted_hop_is_the_client() {
        let trusted = proxies(&["10.0.0.0/8"], ForwardedHeader::XForwardedFor);
        // The client forged the first entry; our proxies appended the rest.
        let h = headers(&[("x-forwarded-for", "1.2.3.4, 203.0.113.9, 10.0.0.2")]);
        assert_eq!(trusted.client(ip("10.0.0.1"), &h), ip("203.0.113.9"));
        // Two header lines read as one list.
        let h = headers(&[
            ("x-forwarded-for", "1.2.3.4"),
            ("x-forwarded-for", "203.0.113.9"),
        ]);
        assert_eq!(trusted.client(ip("10.0.0.1"), &h), ip("203.0.113.9"));
        // Only trusted hops: the leftmost of them.
        let h = headers(&[("x-forwarded-for", "10.9.9.9, 10.0.0.2")]);
        assert_eq!(trusted.client(ip("10.0.0.1"), &h), ip("10.9.9.9"));
        // Garbage stops the walk at the last address we could read.
        let h = headers(&[("x-forwarded-for", "203.0.113.9, unknown, 10.0.0.2")]);
        assert_eq!(trusted.client(ip("10.0.0.1"), &h), ip("10.0.0.2"));
        // No header: the proxy itself.
        assert_eq!(
            trusted.client(ip("10.0.0.1"), &HeaderMap::new()),
            ip("10.0.0.1")
        );
    }

    #[test]
    fn rfc_7239_forwarded_is_read_when_chosen() {
        let trusted = proxies(&["10.0.0.0/8"], ForwardedHeader::Forwarded);
        let h = headers(&[(
            "forwarded",
            "for=1.2.3.4, for=\"[2001:db8::7]:4711\";proto=https, for=10.0.0.3",
        )]);
        assert_eq!(trusted.client(ip("10.0.0.1"), &h), ip("2001:db8::7"));
        let h = headers(&[("forwarded", "for=192.0.2.60:8080;by=10.0.0.1")]);
        assert_eq!(trusted.client(ip("10.0.0.1"), &h), ip("192.0.2.60"));
        // X-Forwarded-For is not read when Forwarded is the chosen header.
        let h = headers(&[("x-forwarded-for", "198.51.100.1")]);
        assert_eq!(trusted.client(ip("10.0.0.1"), &h), ip("10.0.0.1"));
    }

    #[test]
    fn ipv6_clients_are_keyed_by_their_64() {
        let a = ClientAddr(ip("2001:db8:1:2:aaaa::1"));
        let b = ClientAddr(ip("2001:db8:1:2:bbbb::9"));
        let c = ClientAddr(ip("2001:db8:1:3::1"));
        assert_eq!(a.key(), b.key());
        assert_ne!(a.key(), c.key());
        assert_eq!(a.key(), "2001:db8:1:2::/64");
        assert_eq!(ClientAddr(ip("192.0.2.1")).key(), "192.0.2.1");
        assert_eq!(a.bucket(), b.bucket());
        assert_ne!(a.bucket(), c.bucket());
        assert_ne!(
            ClientAddr(ip("192.0.2.1")).bucket(),
            ClientAddr(ip("192.0.2.2")).bucket()
        );
    }
}
