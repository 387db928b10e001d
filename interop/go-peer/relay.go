package main

// relay.go: circuit relay v2 for the interop tests.
//
//	--relay-server  serve the hop protocol (go's relay service, default limits; it offers
//	                loopback and private addresses in reservations too, which go leaves
//	                out by default, because the tests run on 127.0.0.1)
//	--relay MA      reserve on the relay at MA (ends in /p2p/<relay>) before "ready"; the
//	                ready addrs then include MA/p2p-circuit/p2p/<us>. One reservation, not
//	                refreshed: the tests take less than its hour.
//
// The relay transport is always on, so circuit addresses can be dialed; dial and echo allow
// limited (relayed) connections.

import (
	"context"
	"flag"
	"fmt"
	"log"
	"time"

	"github.com/libp2p/go-libp2p"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/p2p/protocol/circuitv2/client"
	relayv2 "github.com/libp2p/go-libp2p/p2p/protocol/circuitv2/relay"
	ma "github.com/multiformats/go-multiaddr"
)

var (
	relayServer bool
	relayAddrs  stringList
	// circuitAddrs are our addresses through the relays we reserved on (with /p2p/<us>).
	circuitAddrs []string
)

func init() {
	registerFlags(func(fs *flag.FlagSet) {
		fs.BoolVar(&relayServer, "relay-server", false, "serve the circuit relay v2 hop protocol")
		fs.Var(&relayAddrs, "relay", "reserve on the relay at this multiaddr (ends in /p2p/<relay>), repeatable")
	})
	registerOption(func(cfg *Config) ([]libp2p.Option, error) {
		// After node.go's DisableRelay, so these win.
		opts := []libp2p.Option{libp2p.EnableRelay()}
		if relayServer {
			opts = append(opts,
				libp2p.EnableRelayService(relayv2.WithReservationAddressFilter(func(ma.Multiaddr) bool { return true })),
				// go starts its relay service only once it believes it is public
				libp2p.ForceReachabilityPublic())
		}
		return opts, nil
	})
	registerSetup(func(n *Node) error {
		for _, text := range relayAddrs {
			addr, err := ma.NewMultiaddr(text)
			if err != nil {
				return fmt.Errorf("--relay %q: %w", text, err)
			}
			info, err := peer.AddrInfoFromP2pAddr(addr)
			if err != nil {
				return fmt.Errorf("--relay %q must end in /p2p/<relay>: %w", text, err)
			}
			ctx, cancel := context.WithTimeout(n.ctx, 30*time.Second)
			rsvp, err := client.Reserve(ctx, n.host, *info)
			cancel()
			if err != nil {
				return fmt.Errorf("reservation on %s: %w", text, err)
			}
			log.Printf("reserved on %s until %s", info.ID, rsvp.Expiration)
			circuitAddrs = append(circuitAddrs, text+"/p2p-circuit/p2p/"+n.host.ID().String())
		}
		return nil
	})
}
