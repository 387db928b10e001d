package main

// --security noise|tls picks the connection encrypter; --psk FILE joins a private network
// (pnet/Private-Networks-PSK-V1.md) with the key file in its V1 format.

import (
	"flag"
	"fmt"
	"os"

	"github.com/libp2p/go-libp2p"
	"github.com/libp2p/go-libp2p/core/pnet"
	"github.com/libp2p/go-libp2p/p2p/security/noise"
	libp2ptls "github.com/libp2p/go-libp2p/p2p/security/tls"
)

var (
	securityFlag string
	pskFlag      string
)

func init() {
	registerFlags(func(fs *flag.FlagSet) {
		fs.StringVar(&securityFlag, "security", "noise", "connection encrypter: noise or tls")
		fs.StringVar(&pskFlag, "psk", "", "private network key file (/key/swarm/psk/1.0.0/)")
	})
}

// securityOptions returns the encrypter and, with --psk, the private network option.
func securityOptions() ([]libp2p.Option, error) {
	var opts []libp2p.Option
	switch securityFlag {
	case "noise":
		opts = append(opts, libp2p.Security(noise.ID, noise.New))
	case "tls":
		opts = append(opts, libp2p.Security(libp2ptls.ID, libp2ptls.New))
	default:
		return nil, fmt.Errorf("unknown --security %q (noise or tls)", securityFlag)
	}
	if pskFlag != "" {
		f, err := os.Open(pskFlag)
		if err != nil {
			return nil, fmt.Errorf("--psk: %w", err)
		}
		defer f.Close()
		psk, err := pnet.DecodeV1PSK(f)
		if err != nil {
			return nil, fmt.Errorf("--psk: %w", err)
		}
		opts = append(opts, libp2p.PrivateNetwork(psk))
	}
	return opts, nil
}
