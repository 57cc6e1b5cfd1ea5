package sender

import "net/netip"

// The SSRF guard: which resolved addresses a delivery may connect to. It
// follows IANA's IPv4 and IPv6 special-purpose address registries: a range
// they mark not globally reachable is refused, and an IPv6 address that
// carries an IPv4 address (mapped, NAT64, 6to4, Teredo) is judged by the
// IPv4 address it carries, since a translator or relay would deliver there.

// refusedIPv4 are the IPv4 ranges a delivery must not reach.
var refusedIPv4 = prefixes(
	"0.0.0.0/8",       // "this network"
	"10.0.0.0/8",      // private
	"100.64.0.0/10",   // shared address space (carrier-grade NAT)
	"127.0.0.0/8",     // loopback
	"169.254.0.0/16",  // link-local, the metadata server 169.254.169.254 included
	"172.16.0.0/12",   // private
	"192.0.0.0/24",    // IETF protocol assignments; its two anycast addresses (.9, .10) are no webhook receiver either
	"192.0.2.0/24",    // documentation (TEST-NET-1)
	"192.88.99.0/24",  // deprecated 6to4 relay anycast
	"192.168.0.0/16",  // private
	"198.18.0.0/15",   // benchmarking
	"198.51.100.0/24", // documentation (TEST-NET-2)
	"203.0.113.0/24",  // documentation (TEST-NET-3)
	"224.0.0.0/4",     // multicast
	"240.0.0.0/4",     // reserved, limited broadcast 255.255.255.255 included
)

// globalUnicast (2000::/3) is the only IPv6 space IANA hands to the
// regional registries; everything outside it is refused: unspecified,
// loopback, IPv4-compatible and IPv4-translated forms (::/8), discard-only
// 100::/64 and the dummy prefix 100:0:0:1::/64, SRv6 SIDs 5f00::/16, unique
// local fc00::/7, link-local fe80::/10, site-local fec0::/10, multicast
// ff00::/8, the NAT64 local-use prefix 64:ff9b:1::/48 (whose IPv4 position
// depends on the operator's prefix length), and what is still unassigned.
// The exceptions, which carry an IPv4 address, are in embeddedIPv4.
var globalUnicast = netip.MustParsePrefix("2000::/3")

// refusedIPv6 are the ranges inside 2000::/3 a delivery must not reach.
var refusedIPv6 = prefixes(
	"2001::/23",     // IETF protocol assignments, benchmarking 2001:2::/48 included (Teredo is judged before)
	"2001:db8::/32", // documentation
	"3fff::/20",     // documentation
)

var (
	nat64  = netip.MustParsePrefix("64:ff9b::/96") // well-known prefix, IPv4 in the last 32 bits
	sixTo4 = netip.MustParsePrefix("2002::/16")    // IPv4 in bits 16–47
	teredo = netip.MustParsePrefix("2001::/32")    // server IPv4 in bits 32–63, client IPv4 inverted in the last 32
)

// publicAddr reports whether a delivery may connect to a.
func publicAddr(a netip.Addr) bool {
	a = a.WithZone("").Unmap() // an IPv4-mapped address is its IPv4 address
	if a.Is4() {
		return !containsAny(refusedIPv4, a)
	}
	if embedded, ok := embeddedIPv4(a); ok {
		for _, v4 := range embedded {
			if !publicAddr(v4) {
				return false
			}
		}
		return true
	}
	return a.Is6() && globalUnicast.Contains(a) && !containsAny(refusedIPv6, a)
}

// embeddedIPv4 returns the IPv4 addresses that a NAT64, 6to4 or Teredo
// address leads to, and whether a is one.
func embeddedIPv4(a netip.Addr) ([]netip.Addr, bool) {
	b := a.As16()
	switch {
	case nat64.Contains(a):
		return []netip.Addr{netip.AddrFrom4([4]byte(b[12:16]))}, true
	case sixTo4.Contains(a):
		return []netip.Addr{netip.AddrFrom4([4]byte(b[2:6]))}, true
	case teredo.Contains(a):
		server := netip.AddrFrom4([4]byte(b[4:8]))
		client := netip.AddrFrom4([4]byte{^b[12], ^b[13], ^b[14], ^b[15]})
		return []netip.Addr{server, client}, true
	}
	return nil, false
}

func containsAny(ps []netip.Prefix, a netip.Addr) bool {
	for _, p := range ps {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

func prefixes(ss ...string) []netip.Prefix {
	ps := make([]netip.Prefix, len(ss))
	for i, s := range ss {
		ps[i] = netip.MustParsePrefix(s)
	}
	return ps
}
