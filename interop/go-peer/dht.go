package main

// Kademlia DHT (go-libp2p-kad-dht) for the interop tests. Off unless the
// peer is started with --dht server|client. Protocol /ipfs/kad/1.0.0 with
// go's default validators (pk, ipns). Commands (interop/README.md):
//
//	dht.findPeer {peer}          -> {peerId, addrs}
//	dht.getClosestPeers {key}    -> {peers}          (key: base64)
//	dht.put {key, value}         -> {}               (base64 both)
//	dht.get {key}                -> {value}          (base64)
//	dht.provide {cid}            -> {}
//	dht.findProviders {cid, count} -> {providers: [{peerId, addrs}]}
//	dht.bootstrap {}             -> {size}           (refreshes the routing table)
//	dht.routingTable {}          -> {peers}

import (
	"context"
	"encoding/base64"
	"errors"
	"flag"
	"fmt"
	"time"

	"github.com/ipfs/go-cid"
	dht "github.com/libp2p/go-libp2p-kad-dht"
	"github.com/libp2p/go-libp2p/core/peer"
)

var (
	dhtMode string
	kad     *dht.IpfsDHT
)

func init() {
	registerFlags(func(fs *flag.FlagSet) {
		fs.StringVar(&dhtMode, "dht", "", "run the Kademlia DHT: server or client")
	})
	registerSetup(func(n *Node) error {
		if dhtMode == "" {
			return nil
		}
		var mode dht.ModeOpt
		switch dhtMode {
		case "server":
			mode = dht.ModeServer
		case "client":
			mode = dht.ModeClient
		default:
			return fmt.Errorf("--dht must be server or client, got %q", dhtMode)
		}
		d, err := dht.New(n.ctx, n.host, dht.Mode(mode))
		if err != nil {
			return fmt.Errorf("dht: %w", err)
		}
		kad = d
		return nil
	})
	registerCloser(func(n *Node) error {
		if kad != nil {
			return kad.Close()
		}
		return nil
	})
	registerCommand("dht.findPeer", 60*time.Second, cmdDhtFindPeer)
	registerCommand("dht.getClosestPeers", 60*time.Second, cmdDhtClosest)
	registerCommand("dht.put", 60*time.Second, cmdDhtPut)
	registerCommand("dht.get", 60*time.Second, cmdDhtGet)
	registerCommand("dht.provide", 60*time.Second, cmdDhtProvide)
	registerCommand("dht.findProviders", 60*time.Second, cmdDhtFindProviders)
	registerCommand("dht.bootstrap", 60*time.Second, cmdDhtBootstrap)
	registerCommand("dht.routingTable", 5*time.Second, cmdDhtRoutingTable)
}

func requireDht() error {
	if kad == nil {
		return errors.New("the DHT is not running (start the peer with --dht server|client)")
	}
	return nil
}

func addrInfoJSON(ai peer.AddrInfo) map[string]any {
	addrs := make([]string, 0, len(ai.Addrs))
	for _, a := range ai.Addrs {
		addrs = append(addrs, a.String())
	}
	return map[string]any{"peerId": ai.ID.String(), "addrs": addrs}
}

func b64Arg(req *Request, field string, out *[]byte) error {
	var a map[string]any
	if err := req.decode(&a); err != nil {
		return err
	}
	s, ok := a[field].(string)
	if !ok {
		return fmt.Errorf("missing %q (base64)", field)
	}
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		return fmt.Errorf("%q is not base64: %w", field, err)
	}
	*out = b
	return nil
}

func cidArg(req *Request) (cid.Cid, int, error) {
	var a struct {
		Cid   string `json:"cid"`
		Count int    `json:"count"`
	}
	if err := req.decode(&a); err != nil {
		return cid.Undef, 0, err
	}
	c, err := cid.Decode(a.Cid)
	if err != nil {
		return cid.Undef, 0, fmt.Errorf("bad cid %q: %w", a.Cid, err)
	}
	return c, a.Count, nil
}

func cmdDhtFindPeer(ctx context.Context, n *Node, req *Request) (map[string]any, error) {
	if err := requireDht(); err != nil {
		return nil, err
	}
	p, err := peerArg(req)
	if err != nil {
		return nil, err
	}
	ai, err := kad.FindPeer(ctx, p)
	if err != nil {
		return nil, err
	}
	return addrInfoJSON(ai), nil
}

func cmdDhtClosest(ctx context.Context, n *Node, req *Request) (map[string]any, error) {
	if err := requireDht(); err != nil {
		return nil, err
	}
	var key []byte
	if err := b64Arg(req, "key", &key); err != nil {
		return nil, err
	}
	peers, err := kad.GetClosestPeers(ctx, string(key))
	if err != nil {
		return nil, err
	}
	out := make([]string, 0, len(peers))
	for _, p := range peers {
		out = append(out, p.String())
	}
	return map[string]any{"peers": out}, nil
}

func cmdDhtPut(ctx context.Context, n *Node, req *Request) (map[string]any, error) {
	if err := requireDht(); err != nil {
		return nil, err
	}
	var key, value []byte
	if err := b64Arg(req, "key", &key); err != nil {
		return nil, err
	}
	if err := b64Arg(req, "value", &value); err != nil {
		return nil, err
	}
	if err := kad.PutValue(ctx, string(key), value); err != nil {
		return nil, err
	}
	return map[string]any{}, nil
}

func cmdDhtGet(ctx context.Context, n *Node, req *Request) (map[string]any, error) {
	if err := requireDht(); err != nil {
		return nil, err
	}
	var key []byte
	if err := b64Arg(req, "key", &key); err != nil {
		return nil, err
	}
	value, err := kad.GetValue(ctx, string(key))
	if err != nil {
		return nil, err
	}
	return map[string]any{"value": base64.StdEncoding.EncodeToString(value)}, nil
}

func cmdDhtProvide(ctx context.Context, n *Node, req *Request) (map[string]any, error) {
	if err := requireDht(); err != nil {
		return nil, err
	}
	c, _, err := cidArg(req)
	if err != nil {
		return nil, err
	}
	if err := kad.Provide(ctx, c, true); err != nil {
		return nil, err
	}
	return map[string]any{}, nil
}

func cmdDhtFindProviders(ctx context.Context, n *Node, req *Request) (map[string]any, error) {
	if err := requireDht(); err != nil {
		return nil, err
	}
	c, count, err := cidArg(req)
	if err != nil {
		return nil, err
	}
	if count <= 0 {
		count = 20
	}
	out := []map[string]any{}
	for ai := range kad.FindProvidersAsync(ctx, c, count) {
		out = append(out, addrInfoJSON(ai))
	}
	return map[string]any{"providers": out}, nil
}

func cmdDhtBootstrap(ctx context.Context, n *Node, req *Request) (map[string]any, error) {
	if err := requireDht(); err != nil {
		return nil, err
	}
	if err := <-kad.RefreshRoutingTable(); err != nil {
		return nil, err
	}
	return map[string]any{"size": kad.RoutingTable().Size()}, nil
}

func cmdDhtRoutingTable(ctx context.Context, n *Node, req *Request) (map[string]any, error) {
	if err := requireDht(); err != nil {
		return nil, err
	}
	out := []string{}
	for _, p := range kad.RoutingTable().ListPeers() {
		out = append(out, p.String())
	}
	return map[string]any{"peers": out}, nil
}
