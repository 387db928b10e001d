package main

// WebTransport (/udp/N/quic-v1/webtransport/certhash/...): go-libp2p's WebTransport transport
// (webtransport-go over quic-go), so --listen accepts /ip4/127.0.0.1/udp/0/quic-v1/webtransport
// (the printed address carries the certhashes) and dials of such addresses work. It shares the
// QUIC transport's UDP sockets. Like QUIC it is left out with --psk.

import (
	"github.com/libp2p/go-libp2p"
	libp2pwebtransport "github.com/libp2p/go-libp2p/p2p/transport/webtransport"
)

func init() {
	registerOption(func(cfg *Config) ([]libp2p.Option, error) {
		if pskFlag != "" {
			return nil, nil
		}
		return []libp2p.Option{libp2p.Transport(libp2pwebtransport.New)}, nil
	})
}
