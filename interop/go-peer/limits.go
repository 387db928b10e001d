package main

import "flag"

// defaultLimits keeps go-libp2p's own resource manager and connection manager
// defaults (autoscaled limits) instead of the unlimited one the interop tests
// use: bench/attack compares the three implementations as users run them.
var defaultLimits bool

func init() {
	registerFlags(func(fs *flag.FlagSet) {
		fs.BoolVar(&defaultLimits, "default-limits", false, "keep go-libp2p's default resource and connection managers")
	})
}
