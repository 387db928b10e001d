package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"os"
	"sync"
	"time"

	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
)

const (
	echoProtocol  = "/echo/1.0.0"
	resetProtocol = "/test/reset/1.0.0"

	// an inbound stream that makes no progress for this long is reset
	inboundStreamDeadline = 2 * time.Minute
)

func init() {
	registerSetup(func(n *Node) error {
		n.host.SetStreamHandler(echoProtocol, handleEcho)
		n.host.SetStreamHandler(resetProtocol, handleReset)
		return nil
	})
	registerCommand("echo", 120*time.Second, cmdEcho)
	registerCommand("reset", 10*time.Second, cmdReset)
}

// handleEcho copies every byte back, and closes its write side once the
// remote has closed its own.
func handleEcho(s network.Stream) {
	remote := s.Conn().RemotePeer().String()
	_ = s.SetDeadline(time.Now().Add(inboundStreamDeadline))
	buf := make([]byte, 64*1024)
	var total int64
	var err error
	for {
		var nr int
		nr, err = s.Read(buf)
		if nr > 0 {
			if _, werr := s.Write(buf[:nr]); werr != nil {
				err = werr
				break
			}
			total += int64(nr)
		}
		if err != nil {
			break
		}
	}
	if errors.Is(err, io.EOF) {
		err = s.CloseWrite()
	}
	if err != nil {
		log.Printf("echo stream from %s failed after %d bytes: %v", remote, total, err)
		_ = s.Reset()
		emitEvent("echo:error", map[string]any{"peerId": remote, "bytes": total, "error": err.Error()})
		return
	}
	_ = s.Close()
	emitEvent("echo:done", map[string]any{"peerId": remote, "bytes": total})
}

// handleReset waits for at least one byte, then resets the stream.
func handleReset(s network.Stream) {
	_ = s.SetReadDeadline(time.Now().Add(inboundStreamDeadline))
	buf := make([]byte, 1024)
	if _, err := io.ReadAtLeast(s, buf, 1); err != nil {
		log.Printf("reset stream: read failed before reset: %v", err)
	}
	_ = s.Reset()
}

func cmdEcho(ctx context.Context, n *Node, req *Request) (map[string]any, error) {
	p, err := peerArg(req)
	if err != nil {
		return nil, err
	}
	var a struct {
		Bytes   *int `json:"bytes"`
		Streams int  `json:"streams"`
	}
	if err := req.decode(&a); err != nil {
		return nil, err
	}
	size := 1024
	if a.Bytes != nil {
		size = *a.Bytes
	}
	if size < 0 {
		return nil, errors.New(`"bytes" must be >= 0`)
	}
	if a.Streams <= 0 {
		a.Streams = 1
	}

	errs := make([]error, a.Streams)
	var wg sync.WaitGroup
	for i := 0; i < a.Streams; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			if err := echoOnce(ctx, n, p, size, i); err != nil {
				errs[i] = fmt.Errorf("stream %d: %w", i, err)
			}
		}(i)
	}
	wg.Wait()
	failed := 0
	var first error
	for _, e := range errs {
		if e != nil {
			if first == nil {
				first = e
			}
			failed++
		}
	}
	if first != nil {
		return nil, fmt.Errorf("%d of %d echo streams failed; first: %w", failed, a.Streams, first)
	}
	return map[string]any{"streams": a.Streams, "bytes": size}, nil
}

func echoOnce(ctx context.Context, n *Node, p peer.ID, size int, index int) error {
	// echo runs over relayed (limited) connections too
	s, err := n.host.NewStream(network.WithAllowLimitedConn(ctx, "echo"), p, echoProtocol)
	if err != nil {
		return fmt.Errorf("open stream: %w", err)
	}
	if dl, ok := ctx.Deadline(); ok {
		_ = s.SetDeadline(dl)
	}
	stop := context.AfterFunc(ctx, func() { _ = s.Reset() })
	defer stop()

	want := patternBytes(size, index)
	writeErr := make(chan error, 1)
	go func() {
		if _, err := s.Write(want); err != nil {
			writeErr <- fmt.Errorf("write: %w", err)
			return
		}
		if err := s.CloseWrite(); err != nil {
			writeErr <- fmt.Errorf("close write: %w", err)
			return
		}
		writeErr <- nil
	}()

	got := bytes.NewBuffer(make([]byte, 0, size))
	_, rerr := got.ReadFrom(s)
	werr := <-writeErr
	if werr != nil {
		_ = s.Reset()
		return werr
	}
	if rerr != nil {
		_ = s.Reset()
		if ctx.Err() != nil || errors.Is(rerr, os.ErrDeadlineExceeded) {
			return fmt.Errorf("read after %d bytes: timed out (%v)", got.Len(), rerr)
		}
		return fmt.Errorf("read after %d bytes: %w", got.Len(), rerr)
	}
	_ = s.Close()
	return compare(got.Bytes(), want)
}

func compare(got, want []byte) error {
	if bytes.Equal(got, want) {
		return nil
	}
	limit := min(len(got), len(want))
	for i := 0; i < limit; i++ {
		if got[i] != want[i] {
			return fmt.Errorf("echo mismatch: got %d bytes, want %d; first difference at offset %d (got 0x%02x, want 0x%02x)",
				len(got), len(want), i, got[i], want[i])
		}
	}
	return fmt.Errorf("echo mismatch: got %d bytes, want %d (common prefix equal)", len(got), len(want))
}

func cmdReset(ctx context.Context, n *Node, req *Request) (map[string]any, error) {
	p, err := peerArg(req)
	if err != nil {
		return nil, err
	}
	s, err := n.host.NewStream(ctx, p, resetProtocol)
	if err != nil {
		return nil, fmt.Errorf("open stream: %w", err)
	}
	defer s.Reset()
	if dl, ok := ctx.Deadline(); ok {
		_ = s.SetDeadline(dl)
	}
	if _, err := s.Write([]byte("reset me")); err != nil {
		// the reset may already have arrived: that counts as observing it
		return map[string]any{"error": "write: " + err.Error()}, nil
	}
	buf := make([]byte, 1024)
	for {
		_, err := s.Read(buf)
		if err == nil {
			continue
		}
		if errors.Is(err, io.EOF) {
			return nil, errors.New("stream ended cleanly (EOF) instead of being reset")
		}
		if errors.Is(err, os.ErrDeadlineExceeded) || ctx.Err() != nil {
			return nil, fmt.Errorf("no reset observed before timeout: %v", err)
		}
		return map[string]any{"error": err.Error()}, nil
	}
}
