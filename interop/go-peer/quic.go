package main

// QUIC v1 (/udp/N/quic-v1): go-libp2p's QUIC transport, so --listen accepts
// /ip4/127.0.0.1/udp/0/quic-v1 and dials of /quic-v1 addresses work. QUIC brings its own
// security (TLS 1.3) and streams; --security and --muxer do not apply to it. With --psk it is
// left out: go-libp2p refuses to build a node whose QUIC transport a private network cannot cover.

import (
	"github.com/libp2p/go-libp2p"
	libp2pquic "github.com/libp2p/go-libp2p/p2p/transport/quic"
)

func init() {
	registerOption(func(cfg *Config) ([]libp2p.Option, error) {
		if pskFlag != "" {
			return nil, nil
		}
		return []libp2p.Option{libp2p.Transport(libp2pquic.NewTransport)}, nil
	})
}
