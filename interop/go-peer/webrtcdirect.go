package main

// WebRTC Direct (/udp/N/webrtc-direct/certhash/...): go-libp2p's WebRTC transport (pion), so
// --listen accepts /ip4/127.0.0.1/udp/0/webrtc-direct (the printed address carries the
// certhash) and dials of such addresses work. Left out with --psk, like QUIC: it is secured
// and multiplexed by itself.

import (
	"github.com/libp2p/go-libp2p"
	libp2pwebrtc "github.com/libp2p/go-libp2p/p2p/transport/webrtc"
)

func init() {
	registerOption(func(cfg *Config) ([]libp2p.Option, error) {
		if pskFlag != "" {
			return nil, nil
		}
		return []libp2p.Option{libp2p.Transport(libp2pwebrtc.New)}, nil
	})
}
