package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/p2p/protocol/ping"
	ma "github.com/multiformats/go-multiaddr"
)

func init() {
	registerCommand("dial", 30*time.Second, cmdDial)
	registerCommand("ping", 30*time.Second, cmdPing)
	registerCommand("identify", 10*time.Second, cmdIdentify)
	registerCommand("connections", 5*time.Second, cmdConnections)
	registerCommand("hangup", 10*time.Second, cmdHangup)
	registerCommand("stop", 5*time.Second, cmdStop)
}

// peerArg decodes the "peer" field shared by most commands.
func peerArg(req *Request) (peer.ID, error) {
	var a struct {
		Peer string `json:"peer"`
	}
	if err := req.decode(&a); err != nil {
		return "", err
	}
	if a.Peer == "" {
		return "", errors.New(`missing "peer"`)
	}
	p, err := peer.Decode(a.Peer)
	if err != nil {
		return "", fmt.Errorf("bad peer id %q: %w", a.Peer, err)
	}
	return p, nil
}

func cmdDial(ctx context.Context, n *Node, req *Request) (map[string]any, error) {
	var a struct {
		Addr string `json:"addr"`
	}
	if err := req.decode(&a); err != nil {
		return nil, err
	}
	m, err := ma.NewMultiaddr(a.Addr)
	if err != nil {
		return nil, fmt.Errorf("bad multiaddr %q: %w", a.Addr, err)
	}
	ai, err := peer.AddrInfoFromP2pAddr(m)
	if err != nil {
		return nil, fmt.Errorf("multiaddr must end with /p2p/<peer id>: %w", err)
	}
	// Connect is a no-op if we are already connected to that peer.
	// a circuit address gives a limited (relayed) connection: allowed here
	if err := n.host.Connect(network.WithAllowLimitedConn(ctx, "dial"), *ai); err != nil {
		return nil, err
	}
	return map[string]any{"peerId": ai.ID.String()}, nil
}

func cmdPing(ctx context.Context, n *Node, req *Request) (map[string]any, error) {
	p, err := peerArg(req)
	if err != nil {
		return nil, err
	}
	var a struct {
		Count int `json:"count"`
	}
	if err := req.decode(&a); err != nil {
		return nil, err
	}
	if a.Count <= 0 {
		a.Count = 1
	}
	pctx, cancel := context.WithCancel(ctx)
	defer cancel()
	results := ping.Ping(pctx, n.host, p)
	rtts := make([]float64, 0, a.Count)
	for len(rtts) < a.Count {
		select {
		case r, ok := <-results:
			if !ok {
				return nil, fmt.Errorf("ping stream ended after %d pings", len(rtts))
			}
			if r.Error != nil {
				return nil, fmt.Errorf("ping failed after %d pings: %w", len(rtts), r.Error)
			}
			rtts = append(rtts, float64(r.RTT.Microseconds())/1000)
		case <-ctx.Done():
			return nil, fmt.Errorf("ping timed out after %d pings: %w", len(rtts), ctx.Err())
		}
	}
	return map[string]any{"rtts": rtts}, nil
}

func cmdIdentify(ctx context.Context, n *Node, req *Request) (map[string]any, error) {
	p, err := peerArg(req)
	if err != nil {
		return nil, err
	}
	r, err := n.waitIdentify(ctx, p)
	if err != nil {
		return nil, err
	}
	protocols := make([]string, 0, len(r.evt.Protocols))
	for _, pr := range r.evt.Protocols {
		protocols = append(protocols, string(pr))
	}
	listen := make([]string, 0, len(r.evt.ListenAddrs))
	for _, a := range r.evt.ListenAddrs {
		listen = append(listen, a.String())
	}
	res := map[string]any{
		"protocols":       protocols,
		"listenAddrs":     listen,
		"agentVersion":    r.evt.AgentVersion,
		"protocolVersion": r.evt.ProtocolVersion,
	}
	if r.evt.ObservedAddr != nil {
		res["observedAddr"] = r.evt.ObservedAddr.String()
	}
	return res, nil
}

func cmdConnections(ctx context.Context, n *Node, req *Request) (map[string]any, error) {
	peers := n.host.Network().Peers()
	out := make([]string, 0, len(peers))
	for _, p := range peers {
		out = append(out, p.String())
	}
	return map[string]any{"peers": out}, nil
}

func cmdHangup(ctx context.Context, n *Node, req *Request) (map[string]any, error) {
	p, err := peerArg(req)
	if err != nil {
		return nil, err
	}
	if err := n.host.Network().ClosePeer(p); err != nil {
		return nil, err
	}
	// ClosePeer closes every connection synchronously; double check.
	for n.host.Network().Connectedness(p) != network.NotConnected {
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("still connected to %s: %w", p, ctx.Err())
		case <-time.After(20 * time.Millisecond):
		}
	}
	return map[string]any{}, nil
}

func cmdStop(ctx context.Context, n *Node, req *Request) (map[string]any, error) {
	req.afterReply = func() { requestShutdown("stop command") }
	return map[string]any{}, nil
}
