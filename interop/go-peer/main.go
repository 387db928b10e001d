// Command go-peer is an interop test peer built on go-libp2p.
//
// It is driven by the interop test harness (test/interop/harness.ts) through a
// line-oriented JSON contract described in interop/README.md:
//
//   - stdout: one {"event":"ready",...} line once listening, then event lines
//     and one reply line per command. Nothing else is ever printed on stdout.
//   - stdin: one JSON command per line ({"id":..,"cmd":"..",...}).
//   - stderr: free-form logs.
//
// The program is split by concern:
//
//	main.go      flags, start-up, shutdown
//	output.go    the stdout writer (events and replies)
//	commands.go  the command registry and the stdin loop
//	node.go      host construction, connection and identify tracking
//	basic.go     dial / ping / identify / connections / hangup / stop
//	streams.go   /echo/1.0.0 and /test/reset/1.0.0 (handlers and commands)
//	pattern.go   the deterministic payload used by the echo command
//	perf.go      /perf/1.0.0: the server (with --perf) and the perf command
//
// New features (DHT, pubsub, ...) should go in their own file, register their
// commands with registerCommand in an init function, and hook into the host
// through the setup hooks in node.go (registerSetup).
package main

import (
	"context"
	"encoding/hex"
	"flag"
	"fmt"
	"log"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"time"
)

type stringList []string

func (s *stringList) String() string     { return strings.Join(*s, ",") }
func (s *stringList) Set(v string) error { *s = append(*s, v); return nil }

// Config holds the parsed command line.
type Config struct {
	Listen  []string
	Muxer   string
	KeySeed []byte
	Agent   string
	Perf    bool // serve /perf/1.0.0 (perf.go)
}

// flagHooks let feature files add their own flags (registerFlags in init()).
var flagHooks []func(fs *flag.FlagSet)

func registerFlags(f func(fs *flag.FlagSet)) { flagHooks = append(flagHooks, f) }

func parseFlags() (*Config, error) {
	fs := flag.NewFlagSet("go-peer", flag.ContinueOnError)
	var listen stringList
	fs.Var(&listen, "listen", "multiaddr to listen on (repeatable; default /ip4/127.0.0.1/tcp/0)")
	muxer := fs.String("muxer", "yamux", "stream muxer: yamux (mplex is not supported by go-libp2p)")
	seed := fs.String("key-seed", "", "hex encoded 32 byte ed25519 seed for a fixed identity")
	agent := fs.String("agent", "", "identify agent version")
	perf := fs.Bool("perf", false, "serve /perf/1.0.0")
	for _, hook := range flagHooks {
		hook(fs)
	}
	if err := fs.Parse(os.Args[1:]); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected arguments: %v", fs.Args())
	}
	cfg := &Config{Listen: listen, Muxer: *muxer, Agent: *agent, Perf: *perf}
	if len(cfg.Listen) == 0 {
		cfg.Listen = []string{"/ip4/127.0.0.1/tcp/0"}
	}
	switch cfg.Muxer {
	case "yamux":
	case "mplex":
		return nil, fmt.Errorf("muxer mplex is not supported: go-libp2p no longer ships mplex")
	default:
		return nil, fmt.Errorf("unknown muxer %q", cfg.Muxer)
	}
	if *seed != "" {
		b, err := hex.DecodeString(strings.TrimPrefix(*seed, "0x"))
		if err != nil {
			return nil, fmt.Errorf("--key-seed: %w", err)
		}
		if len(b) != 32 {
			return nil, fmt.Errorf("--key-seed must be 32 bytes, got %d", len(b))
		}
		cfg.KeySeed = b
	}
	return cfg, nil
}

// shutdown is closed (once) when the program should stop.
var (
	shutdownCh   = make(chan struct{})
	shutdownOnce sync.Once
	shutdownWhy  string
)

func requestShutdown(why string) {
	shutdownOnce.Do(func() {
		shutdownWhy = why
		close(shutdownCh)
	})
}

func main() {
	log.SetOutput(os.Stderr)
	log.SetPrefix("[go-peer] ")
	log.SetFlags(log.Ltime | log.Lmicroseconds)

	cfg, err := parseFlags()
	if err != nil {
		log.Printf("error: %v", err)
		os.Exit(2)
	}

	n, err := newNode(cfg)
	if err != nil {
		log.Printf("error: starting node: %v", err)
		os.Exit(1)
	}

	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM)
	go func() {
		s := <-sigs
		requestShutdown("signal " + s.String())
	}()

	emitEvent("ready", map[string]any{
		"peerId": n.host.ID().String(),
		"addrs":  n.fullAddrs(),
	})

	go readCommands(n, os.Stdin)

	<-shutdownCh
	log.Printf("stopping (%s)", shutdownWhy)

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- n.close() }()
	select {
	case err := <-done:
		if err != nil {
			log.Printf("error while closing host: %v", err)
		}
	case <-ctx.Done():
		log.Printf("host close timed out, exiting anyway")
	}
	os.Exit(0)
}
