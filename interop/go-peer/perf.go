package main

// The perf protocol (/perf/1.0.0, libp2p specs perf/perf.md), written from
// the spec: go-libp2p's main module has no perf package.
//
// Server: read the 8-byte big-endian number of bytes wanted back, read the
// upload until EOF, only then send the bytes in 64 KiB blocks, then close.
// Client (the "perf" command): write that number, upload, close the write
// side, read to EOF and check the count.

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log"
	"os"
	"time"

	"github.com/libp2p/go-libp2p/core/network"
)

const (
	perfProtocol  = "/perf/1.0.0"
	perfBlockSize = 64 * 1024
)

func init() {
	registerSetup(func(n *Node) error {
		// off by default, as the spec asks; --perf turns it on
		if n.cfg.Perf {
			n.host.SetStreamHandler(perfProtocol, handlePerf)
		}
		return nil
	})
	registerCommand("perf", 120*time.Second, cmdPerf)
}

// handlePerf serves one perf stream and reports it as a perf:done or
// perf:error event with the bytes received (upload) and sent (download).
func handlePerf(s network.Stream) {
	remote := s.Conn().RemotePeer().String()
	_ = s.SetDeadline(time.Now().Add(inboundStreamDeadline))
	var received, sent int64
	fail := func(err error) {
		log.Printf("perf stream from %s failed (received %d, sent %d): %v", remote, received, sent, err)
		_ = s.Reset()
		emitEvent("perf:error", map[string]any{"peerId": remote, "received": received, "sent": sent, "error": err.Error()})
	}

	var request [8]byte
	if _, err := io.ReadFull(s, request[:]); err != nil {
		fail(fmt.Errorf("reading the request: %w", err))
		return
	}
	want := binary.BigEndian.Uint64(request[:])
	var err error
	received, err = io.Copy(io.Discard, s)
	if err != nil {
		fail(fmt.Errorf("reading the upload: %w", err))
		return
	}
	block := make([]byte, perfBlockSize)
	for uint64(sent) < want {
		chunk := block
		if left := want - uint64(sent); left < perfBlockSize {
			chunk = block[:left]
		}
		nw, err := s.Write(chunk)
		sent += int64(nw)
		if err != nil {
			fail(fmt.Errorf("sending: %w", err))
			return
		}
	}
	if err := s.Close(); err != nil {
		fail(fmt.Errorf("closing: %w", err))
		return
	}
	emitEvent("perf:done", map[string]any{"peerId": remote, "received": received, "sent": sent})
}

// cmdPerf: {"cmd":"perf","peer":ID,"upload":N,"download":N} ->
// {"uploaded":N,"downloaded":N}; fails unless exactly N bytes came back.
func cmdPerf(ctx context.Context, n *Node, req *Request) (map[string]any, error) {
	p, err := peerArg(req)
	if err != nil {
		return nil, err
	}
	var a struct {
		Upload   int64 `json:"upload"`
		Download int64 `json:"download"`
	}
	if err := req.decode(&a); err != nil {
		return nil, err
	}
	if a.Upload < 0 || a.Download < 0 {
		return nil, errors.New(`"upload" and "download" must be >= 0`)
	}

	s, err := n.host.NewStream(ctx, p, perfProtocol)
	if err != nil {
		return nil, fmt.Errorf("open stream: %w", err)
	}
	if dl, ok := ctx.Deadline(); ok {
		_ = s.SetDeadline(dl)
	}
	stop := context.AfterFunc(ctx, func() { _ = s.Reset() })
	defer stop()

	var request [8]byte
	binary.BigEndian.PutUint64(request[:], uint64(a.Download))
	if _, err := s.Write(request[:]); err != nil {
		_ = s.Reset()
		return nil, fmt.Errorf("write request: %w", err)
	}
	block := make([]byte, perfBlockSize)
	var uploaded int64
	for uploaded < a.Upload {
		chunk := block
		if left := a.Upload - uploaded; left < perfBlockSize {
			chunk = block[:left]
		}
		nw, err := s.Write(chunk)
		uploaded += int64(nw)
		if err != nil {
			_ = s.Reset()
			return nil, fmt.Errorf("upload after %d bytes: %w", uploaded, err)
		}
	}
	if err := s.CloseWrite(); err != nil {
		_ = s.Reset()
		return nil, fmt.Errorf("close write: %w", err)
	}
	downloaded, err := io.Copy(io.Discard, s)
	if err != nil {
		_ = s.Reset()
		if ctx.Err() != nil || errors.Is(err, os.ErrDeadlineExceeded) {
			return nil, fmt.Errorf("download after %d bytes: timed out (%v)", downloaded, err)
		}
		return nil, fmt.Errorf("download after %d bytes: %w", downloaded, err)
	}
	_ = s.Close()
	if downloaded != a.Download {
		return nil, fmt.Errorf("perf server sent %d bytes, asked for %d", downloaded, a.Download)
	}
	return map[string]any{"uploaded": uploaded, "downloaded": downloaded}, nil
}
