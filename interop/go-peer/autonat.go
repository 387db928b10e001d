package main

// --autonat-v2 runs go-libp2p's AutoNAT v2 client and server (p2p/protocol/autonatv2) on the
// host, with private addresses allowed (the interop tests run on loopback). The server's
// dial-backs leave from a second, listen-less host with its own identity, as go-libp2p does
// in production. The "autonat.check" command asks a connected AutoNAT v2 server (go picks
// one among the peers that advertise /libp2p/autonat/2/dial-request) about the given
// addresses:
//
//	{"cmd":"autonat.check","addrs":["/ip4/127.0.0.1/tcp/4001"],"dialData":true}
//	-> {"ok":true,"addr":"...","index":0,"reachability":"public"|"private"|"unknown","allRefused":false}

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"time"

	"github.com/libp2p/go-libp2p"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/p2p/muxer/yamux"
	"github.com/libp2p/go-libp2p/p2p/protocol/autonatv2"
	"github.com/libp2p/go-libp2p/p2p/transport/tcp"
	"github.com/libp2p/go-libp2p/p2p/transport/websocket"
	ma "github.com/multiformats/go-multiaddr"
)

var (
	autonatV2Flag bool
	autonatV2     *autonatv2.AutoNAT
)

func init() {
	registerFlags(func(fs *flag.FlagSet) {
		fs.BoolVar(&autonatV2Flag, "autonat-v2", false, "run the AutoNAT v2 client and server (private addresses allowed)")
	})
	registerSetup(setupAutoNATv2)
	registerCloser(func(n *Node) error {
		if autonatV2 != nil {
			autonatV2.Close()
		}
		return nil
	})
	registerCommand("autonat.check", 60*time.Second, cmdAutoNATCheck)
}

func setupAutoNATv2(n *Node) error {
	if !autonatV2Flag {
		return nil
	}
	security, err := securityOptions()
	if err != nil {
		return err
	}
	opts := append([]libp2p.Option{
		libp2p.NoListenAddrs,
		libp2p.Transport(tcp.NewTCPTransport),
		libp2p.Transport(websocket.New),
		libp2p.Muxer(yamux.ID, yamux.DefaultTransport),
		libp2p.DisableRelay(),
	}, security...)
	dialer, err := libp2p.New(opts...)
	if err != nil {
		return fmt.Errorf("autonat v2 dialer host: %w", err)
	}
	an, err := autonatv2.New(dialer, autonatv2.AllowPrivateAddrs)
	if err != nil {
		_ = dialer.Close()
		return fmt.Errorf("autonat v2: %w", err)
	}
	if err := an.Start(n.host); err != nil {
		_ = dialer.Close()
		return fmt.Errorf("autonat v2 start: %w", err)
	}
	autonatV2 = an
	return nil
}

func cmdAutoNATCheck(ctx context.Context, n *Node, req *Request) (map[string]any, error) {
	if autonatV2 == nil {
		return nil, errors.New("start the peer with --autonat-v2")
	}
	var a struct {
		Addrs    []string `json:"addrs"`
		DialData bool     `json:"dialData"`
	}
	if err := req.decode(&a); err != nil {
		return nil, err
	}
	if len(a.Addrs) == 0 {
		return nil, errors.New(`missing "addrs"`)
	}
	reqs := make([]autonatv2.Request, 0, len(a.Addrs))
	for _, s := range a.Addrs {
		m, err := ma.NewMultiaddr(s)
		if err != nil {
			return nil, fmt.Errorf("bad multiaddr %q: %w", s, err)
		}
		reqs = append(reqs, autonatv2.Request{Addr: m, SendDialData: a.DialData})
	}
	// go learns which peers serve AutoNAT from identify events, handled on another goroutine:
	// right after a connection the server may not be known yet, so wait for it (bounded by ctx).
	var res autonatv2.Result
	var err error
	for {
		res, err = autonatV2.GetReachability(ctx, reqs)
		if !errors.Is(err, autonatv2.ErrNoPeers) {
			break
		}
		select {
		case <-ctx.Done():
			return nil, err
		case <-time.After(50 * time.Millisecond):
		}
	}
	if err != nil {
		return nil, err
	}
	reachability := "unknown"
	switch res.Reachability {
	case network.ReachabilityPublic:
		reachability = "public"
	case network.ReachabilityPrivate:
		reachability = "private"
	}
	addr := ""
	if res.Addr != nil {
		addr = res.Addr.String()
	}
	return map[string]any{"addr": addr, "index": res.Idx, "reachability": reachability, "allRefused": res.AllAddrsRefused}, nil
}
