package main

import "encoding/binary"

// patternBytes returns n bytes of the deterministic payload used by the echo
// command for stream number index (0-based). It is an xorshift32 sequence
// seeded with ((index+1) * 0x9E3779B9) mod 2^32 (1 if that is 0), each state
// written as 4 little-endian bytes. The js peer produces the same bytes.
func patternBytes(n int, index int) []byte {
	buf := make([]byte, n+3)
	x := uint32(index+1) * 0x9E3779B9
	if x == 0 {
		x = 1
	}
	for i := 0; i < n; i += 4 {
		x ^= x << 13
		x ^= x >> 17
		x ^= x << 5
		binary.LittleEndian.PutUint32(buf[i:], x)
	}
	return buf[:n:n]
}
