package sender

import (
	"net/netip"
	"testing"
)

// TestPublicAddr covers each IANA special-purpose range (IPv4 and IPv6
// registries) that is not globally reachable, the IPv6 forms that embed an
// IPv4 address, and addresses just outside each range. It only classifies:
// nothing is dialled.
func TestPublicAddr(t *testing.T) {
	for _, tt := range []struct {
		addr string
		want bool
	}{
		// Plainly public.
		{"8.8.8.8", true},
		{"1.1.1.1", true},
		{"2001:4860:4860::8888", true},

		// 0.0.0.0/8 "this network".
		{"0.0.0.0", false},
		{"0.1.2.3", false},
		{"0.255.255.255", false},
		{"1.0.0.0", true},
		// 10.0.0.0/8 private.
		{"10.0.0.1", false},
		{"10.255.255.255", false},
		{"9.255.255.255", true},
		{"11.0.0.0", true},
		// 100.64.0.0/10 shared address space (carrier-grade NAT).
		{"100.64.0.0", false},
		{"100.127.255.255", false},
		{"100.63.255.255", true},
		{"100.128.0.0", true},
		// 127.0.0.0/8 loopback.
		{"127.0.0.1", false},
		{"127.255.255.254", false},
		{"128.0.0.0", true},
		// 169.254.0.0/16 link-local, the metadata server included.
		{"169.254.169.254", false},
		{"169.254.0.1", false},
		{"169.253.255.255", true},
		{"169.255.0.0", true},
		// 172.16.0.0/12 private.
		{"172.16.0.1", false},
		{"172.31.255.255", false},
		{"172.15.255.255", true},
		{"172.32.0.0", true},
		// 192.0.0.0/24 IETF protocol assignments (DS-Lite, NAT64 discovery,
		// and the two anycast addresses: no webhook receiver lives there).
		{"192.0.0.1", false},
		{"192.0.0.9", false},
		{"192.0.0.170", false},
		{"192.0.1.0", true},
		// 192.0.2.0/24 TEST-NET-1.
		{"192.0.2.1", false},
		{"192.0.3.0", true},
		// 192.88.99.0/24 deprecated 6to4 relay anycast.
		{"192.88.99.1", false},
		{"192.88.100.0", true},
		// 192.168.0.0/16 private.
		{"192.168.1.1", false},
		{"192.167.255.255", true},
		{"192.169.0.0", true},
		// 198.18.0.0/15 benchmarking.
		{"198.18.0.1", false},
		{"198.19.255.255", false},
		{"198.17.255.255", true},
		{"198.20.0.0", true},
		// 198.51.100.0/24 TEST-NET-2.
		{"198.51.100.7", false},
		{"198.51.101.0", true},
		// 203.0.113.0/24 TEST-NET-3.
		{"203.0.113.9", false},
		{"203.0.112.255", true},
		{"203.0.114.0", true},
		// 224.0.0.0/4 multicast.
		{"224.0.0.1", false},
		{"239.255.255.255", false},
		{"223.255.255.255", true},
		// 240.0.0.0/4 reserved, limited broadcast included.
		{"240.0.0.1", false},
		{"255.255.255.255", false},
		// Globally reachable special-purpose IPv4 ranges stay allowed.
		{"192.31.196.1", true}, // AS112-v4
		{"192.52.193.1", true}, // AMT

		// IPv6 outside global unicast 2000::/3.
		{"::", false},
		{"::1", false},
		{"::8.8.8.8", false},          // IPv4-compatible (deprecated)
		{"::ffff:0:8.8.8.8", false},   // IPv4-translated (SIIT)
		{"100::1", false},             // discard-only 100::/64
		{"100:0:0:1::1", false},       // dummy prefix 100:0:0:1::/64
		{"5f00::1", false},            // SRv6 SIDs 5f00::/16
		{"fc00::1", false},            // unique local fc00::/7
		{"fdff:ffff::1", false},       // unique local fc00::/7
		{"fe80::1", false},            // link-local fe80::/10
		{"fe80::1%eth0", false},       // link-local with a zone
		{"febf:ffff::1", false},       // link-local fe80::/10
		{"fec0::1", false},            // site-local fec0::/10 (deprecated)
		{"ff02::1", false},            // multicast
		{"ff0e::1", false},            // global-scope multicast
		{"1fff:ffff:ffff::1", false},  // just below 2000::/3
		{"4000::1", false},            // just above 2000::/3
		{"64:ff9b::1:0:0", false},     // just outside 64:ff9b::/96
		{"64:ff9b:1::808:808", false}, // NAT64 local-use 64:ff9b:1::/48
		{"64:ff9b:1:ffff::1", false},  // NAT64 local-use 64:ff9b:1::/48
		// IPv4-mapped: the IPv4 rules decide.
		{"::ffff:8.8.8.8", true},
		{"::ffff:10.0.0.1", false},
		{"::ffff:127.0.0.1", false},
		{"::ffff:169.254.169.254", false},
		// NAT64 well-known prefix 64:ff9b::/96: the IPv4 rules decide.
		{"64:ff9b::8.8.8.8", true},
		{"64:ff9b::10.0.0.1", false},
		{"64:ff9b::169.254.169.254", false},
		{"64:ff9b::127.0.0.1", false},
		// 6to4 2002::/16: the IPv4 in bits 16–47 decides.
		{"2002:808:808::1", true},
		{"2002:a00:1::1", false},     // 10.0.0.1
		{"2002:a9fe:a9fe::1", false}, // 169.254.169.254
		{"2002:7f00:1::1", false},    // 127.0.0.1
		{"2001:ffff::1", true},       // just below 2002::/16
		{"2003::1", true},
		// Teredo 2001::/32: server IPv4 in bits 32–63, client IPv4
		// bit-inverted in the last 32 bits; both must be public.
		{"2001:0:4136:e378:8000:63bf:f7f7:f7f7", true},  // server 65.54.227.120, client 8.8.8.8
		{"2001:0:4136:e378:8000:63bf:f5ff:fffe", false}, // client 10.0.0.1
		{"2001:0:4136:e378:8000:63bf:5601:5601", false}, // client 169.254.169.254
		{"2001:0:4136:e378:8000:63bf:80ff:fffe", false}, // client 127.0.0.1
		{"2001:0:a00:1:8000:63bf:f7f7:f7f7", false},     // server 10.0.0.1
		// 2001::/23 IETF protocol assignments, benchmarking 2001:2::/48
		// included, and what lies just outside.
		{"2001:1::1", false},
		{"2001:2::1", false},
		{"2001:1ff:ffff::1", false},
		{"2001:200::1", true},
		// 2001:db8::/32 and 3fff::/20 documentation.
		{"2001:db8::1", false},
		{"2001:db8:ffff::1", false},
		{"2001:db7:ffff::1", true},
		{"2001:db9::1", true},
		{"3fff::1", false},
		{"3fff:fff:ffff::1", false},
		{"3fff:1000::1", true},
		{"3ffe:ffff::1", true},
		// Globally reachable special-purpose IPv6 stays allowed.
		{"2620:4f:8000::1", true}, // AS112 direct delegation
	} {
		t.Run(tt.addr, func(t *testing.T) {
			if got := publicAddr(netip.MustParseAddr(tt.addr)); got != tt.want {
				t.Errorf("publicAddr(%s) = %v, want %v", tt.addr, got, tt.want)
			}
		})
	}
	if publicAddr(netip.Addr{}) {
		t.Error("publicAddr(zero Addr) = true, want false")
	}
}
