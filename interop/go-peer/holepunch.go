package main

// holepunch.go: DCUtR hole punching for the NAT lab interop tests.
//
//	--holepunch  run go-libp2p's hole punching service (both DCUtR roles). Every punch ends
//	             in an event line {"event":"holepunch","peer":...,"success":...,"ms":...,"attempt":...}
//	             (attempt 0: a plain direct dial sufficed). Needs the relay transport (relay.go)
//	             for the relayed connection the punch starts from.
//
// go uses its observed addresses (one observer is enough for hole punching) and dials from its
// listen port (SO_REUSEPORT), so nothing lab-specific is configured here.

import (
	"flag"
	"sync"

	"github.com/libp2p/go-libp2p"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/p2p/protocol/holepunch"
)

var holePunching bool

func init() {
	registerFlags(func(fs *flag.FlagSet) {
		fs.BoolVar(&holePunching, "holepunch", false, "run DCUtR hole punching and report each outcome as a holepunch event")
	})
	registerOption(func(cfg *Config) ([]libp2p.Option, error) {
		if !holePunching {
			return nil, nil
		}
		return []libp2p.Option{libp2p.EnableHolePunching(holepunch.WithTracer(&holePunchEvents{attempts: map[peer.ID]int{}}))}, nil
	})
}

// holePunchEvents turns go's hole punch trace into event lines.
type holePunchEvents struct {
	mu       sync.Mutex
	attempts map[peer.ID]int
}

func (t *holePunchEvents) Trace(evt *holepunch.Event) {
	switch e := evt.Evt.(type) {
	case *holepunch.HolePunchAttemptEvt:
		t.mu.Lock()
		t.attempts[evt.Remote] = e.Attempt
		t.mu.Unlock()
	case *holepunch.DirectDialEvt:
		if e.Success {
			emitEvent("holepunch", map[string]any{"peer": evt.Remote.String(), "success": true, "ms": e.EllapsedTime.Milliseconds(), "attempt": 0})
		}
	case *holepunch.EndHolePunchEvt:
		t.mu.Lock()
		attempt := t.attempts[evt.Remote]
		t.mu.Unlock()
		fields := map[string]any{"peer": evt.Remote.String(), "success": e.Success, "ms": e.EllapsedTime.Milliseconds(), "attempt": attempt}
		if e.Error != "" {
			fields["error"] = e.Error
		}
		emitEvent("holepunch", fields)
	}
}
