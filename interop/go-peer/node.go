package main

import (
	"context"
	"crypto/ed25519"
	"fmt"
	"log"
	"runtime/debug"
	"sync"

	"github.com/libp2p/go-libp2p"
	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/event"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	rcmgr "github.com/libp2p/go-libp2p/p2p/host/resource-manager"
	"github.com/libp2p/go-libp2p/p2p/muxer/yamux"
	"github.com/libp2p/go-libp2p/p2p/transport/tcp"
	"github.com/libp2p/go-libp2p/p2p/transport/websocket"
	ma "github.com/multiformats/go-multiaddr"
)

// Node is the running peer. Feature files keep their own state in their own
// package-level variables or add fields here.
type Node struct {
	host   host.Host
	cfg    *Config
	ctx    context.Context // cancelled when the node stops
	cancel context.CancelFunc

	idMu      sync.Mutex
	idResults map[peer.ID]*identifyResult
	idChanged chan struct{} // closed and replaced whenever idResults changes

	subs []event.Subscription
}

type identifyResult struct {
	ok  bool
	err error
	evt event.EvtPeerIdentificationCompleted
}

// Extension points for feature files (DHT, pubsub, ...):
//
//   - registerOption adds libp2p options before the host is built
//     (e.g. libp2p.Routing for a DHT).
//   - registerSetup runs after the host is built and before "ready" is
//     printed (stream handlers, services).
//   - registerCloser runs at shutdown, before the host is closed.
var (
	optionHooks []func(cfg *Config) ([]libp2p.Option, error)
	setupHooks  []func(n *Node) error
	closeHooks  []func(n *Node) error
)

func registerOption(f func(cfg *Config) ([]libp2p.Option, error)) {
	optionHooks = append(optionHooks, f)
}
func registerSetup(f func(n *Node) error)  { setupHooks = append(setupHooks, f) }
func registerCloser(f func(n *Node) error) { closeHooks = append(closeHooks, f) }

// defaultAgent is "go-libp2p/<version> interop-go-peer".
func defaultAgent() string {
	version := "unknown"
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, dep := range bi.Deps {
			if dep.Path == "github.com/libp2p/go-libp2p" {
				version = dep.Version
			}
		}
	}
	return "go-libp2p/" + version + " interop-go-peer"
}

func newNode(cfg *Config) (*Node, error) {
	var priv crypto.PrivKey
	var err error
	if cfg.KeySeed != nil {
		priv, err = crypto.UnmarshalEd25519PrivateKey(ed25519.NewKeyFromSeed(cfg.KeySeed))
	} else {
		priv, _, err = crypto.GenerateEd25519Key(nil)
	}
	if err != nil {
		return nil, fmt.Errorf("identity: %w", err)
	}

	// Interop tests open many concurrent streams; the default resource
	// manager limits would get in the way, so run without limits.
	rm, err := rcmgr.NewResourceManager(rcmgr.NewFixedLimiter(rcmgr.InfiniteLimits))
	if err != nil {
		return nil, fmt.Errorf("resource manager: %w", err)
	}

	opts := []libp2p.Option{
		libp2p.Identity(priv),
		libp2p.ListenAddrStrings(cfg.Listen...),
		libp2p.Transport(tcp.NewTCPTransport),
		// /ws listen addresses (--listen /ip4/127.0.0.1/tcp/0/ws)
		libp2p.Transport(websocket.New),
		libp2p.Muxer(yamux.ID, yamux.DefaultTransport),
		libp2p.DisableRelay(),
		libp2p.Ping(true),
	}
	if !defaultLimits {
		opts = append(opts, libp2p.ResourceManager(rm))
	}
	security, err := securityOptions()
	if err != nil {
		return nil, err
	}
	opts = append(opts, security...)
	agent := cfg.Agent
	if agent == "" {
		agent = defaultAgent()
	}
	opts = append(opts, libp2p.UserAgent(agent))
	for _, hook := range optionHooks {
		extra, err := hook(cfg)
		if err != nil {
			return nil, err
		}
		opts = append(opts, extra...)
	}

	ctx, cancel := context.WithCancel(context.Background())
	n := &Node{
		cfg:       cfg,
		ctx:       ctx,
		cancel:    cancel,
		idResults: map[peer.ID]*identifyResult{},
		idChanged: make(chan struct{}),
	}

	h, err := libp2p.New(opts...)
	if err != nil {
		cancel()
		return nil, err
	}
	n.host = h

	// Subscribe before anything can connect so no event is missed.
	if err := n.watchEvents(); err != nil {
		_ = h.Close()
		cancel()
		return nil, err
	}
	for _, hook := range setupHooks {
		if err := hook(n); err != nil {
			_ = n.close()
			return nil, err
		}
	}
	return n, nil
}

func (n *Node) watchEvents() error {
	bus := n.host.EventBus()
	connSub, err := bus.Subscribe(new(event.EvtPeerConnectednessChanged))
	if err != nil {
		return err
	}
	idSub, err := bus.Subscribe([]any{
		new(event.EvtPeerIdentificationCompleted),
		new(event.EvtPeerIdentificationFailed),
	})
	if err != nil {
		connSub.Close()
		return err
	}
	n.subs = append(n.subs, connSub, idSub)

	go func() {
		for e := range connSub.Out() {
			ev := e.(event.EvtPeerConnectednessChanged)
			switch ev.Connectedness {
			case network.Connected, network.Limited:
				emitEvent("peer:connect", map[string]any{"peerId": ev.Peer.String()})
			case network.NotConnected:
				emitEvent("peer:disconnect", map[string]any{"peerId": ev.Peer.String()})
			}
		}
	}()
	go func() {
		for e := range idSub.Out() {
			switch ev := e.(type) {
			case event.EvtPeerIdentificationCompleted:
				n.setIdentify(ev.Peer, &identifyResult{ok: true, evt: ev})
			case event.EvtPeerIdentificationFailed:
				log.Printf("identify with %s failed: %v", ev.Peer, ev.Reason)
				n.setIdentify(ev.Peer, &identifyResult{err: ev.Reason})
			}
		}
	}()
	return nil
}

func (n *Node) setIdentify(p peer.ID, r *identifyResult) {
	n.idMu.Lock()
	defer n.idMu.Unlock()
	// A failure on a later connection must not hide an earlier success.
	if prev, ok := n.idResults[p]; ok && prev.ok && !r.ok {
		return
	}
	n.idResults[p] = r
	close(n.idChanged)
	n.idChanged = make(chan struct{})
}

// waitIdentify waits until identify with p has completed (or failed).
func (n *Node) waitIdentify(ctx context.Context, p peer.ID) (*identifyResult, error) {
	for {
		n.idMu.Lock()
		r, ok := n.idResults[p]
		ch := n.idChanged
		n.idMu.Unlock()
		if ok {
			if r.err != nil {
				return nil, fmt.Errorf("identify failed: %w", r.err)
			}
			return r, nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return nil, fmt.Errorf("identify with %s did not complete: %w", p, ctx.Err())
		}
	}
}

// fullAddrs returns our listen addresses with /p2p/<id> appended.
func (n *Node) fullAddrs() []string {
	addrs := n.host.Addrs()
	if len(addrs) == 0 {
		addrs = n.host.Network().ListenAddresses()
	}
	p2p, err := ma.NewComponent("p2p", n.host.ID().String())
	out := make([]string, 0, len(addrs))
	for _, a := range addrs {
		if err == nil {
			a = a.Encapsulate(p2p)
		}
		out = append(out, a.String())
	}
	return append(out, circuitAddrs...) // relay.go
}

func (n *Node) close() error {
	for _, hook := range closeHooks {
		if err := hook(n); err != nil {
			log.Printf("close hook: %v", err)
		}
	}
	n.cancel()
	err := n.host.Close()
	for _, s := range n.subs {
		s.Close()
	}
	return err
}
