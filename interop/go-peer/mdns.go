package main

// --mdns runs go-libp2p's mDNS discovery (p2p/discovery/mdns, zeroconf underneath) on the
// host: it answers `_p2p._udp.local` queries with the host's addresses and reports every peer
// it finds as {"event":"peer:discovery","peer":"<id>","addrs":["..."]}. The tests run it only
// inside network namespaces.

import (
	"flag"

	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/p2p/discovery/mdns"
)

var (
	mdnsFlag    bool
	mdnsService mdns.Service
)

type mdnsNotifee struct{}

func (mdnsNotifee) HandlePeerFound(info peer.AddrInfo) {
	addrs := make([]string, 0, len(info.Addrs))
	for _, a := range info.Addrs {
		addrs = append(addrs, a.String())
	}
	emitEvent("peer:discovery", map[string]any{"peer": info.ID.String(), "addrs": addrs})
}

func init() {
	registerFlags(func(fs *flag.FlagSet) {
		fs.BoolVar(&mdnsFlag, "mdns", false, "run mDNS peer discovery (report peers as peer:discovery events)")
	})
	registerSetup(func(n *Node) error {
		if !mdnsFlag {
			return nil
		}
		mdnsService = mdns.NewMdnsService(n.host, "", mdnsNotifee{})
		return mdnsService.Start()
	})
	registerCloser(func(n *Node) error {
		if mdnsService != nil {
			return mdnsService.Close()
		}
		return nil
	})
}
