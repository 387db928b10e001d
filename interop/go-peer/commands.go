package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"time"
)

// Request is one command line read from stdin. Raw keeps the whole line so
// each command can decode its own arguments with req.decode.
type Request struct {
	ID        json.RawMessage `json:"id"`
	Cmd       string          `json:"cmd"`
	TimeoutMs float64         `json:"timeoutMs"`
	Raw       json.RawMessage `json:"-"`

	// afterReply, if set by the command, runs once the reply line is written.
	afterReply func()
}

func (r *Request) decode(v any) error {
	if err := json.Unmarshal(r.Raw, v); err != nil {
		return fmt.Errorf("bad arguments for %s: %w", r.Cmd, err)
	}
	return nil
}

// A command returns the extra reply fields ("ok" and "id" are added by the
// dispatcher) or an error, which becomes {"ok":false,"error":...}.
type commandFunc func(ctx context.Context, n *Node, req *Request) (map[string]any, error)

type commandSpec struct {
	fn commandFunc
	// default time budget for the whole command; a request may override it
	// with "timeoutMs".
	timeout time.Duration
}

var commands = map[string]commandSpec{}

// registerCommand makes a command available on stdin. Call it from init().
func registerCommand(name string, timeout time.Duration, fn commandFunc) {
	if _, dup := commands[name]; dup {
		panic("duplicate command " + name)
	}
	commands[name] = commandSpec{fn: fn, timeout: timeout}
}

// readCommands handles stdin until EOF, then requests shutdown. Each command
// runs in its own goroutine so a long echo does not block a ping.
func readCommands(n *Node, in io.Reader) {
	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 0, 64*1024), 16*1024*1024)
	for sc.Scan() {
		line := sc.Bytes()
		if len(line) == 0 {
			continue
		}
		raw := make([]byte, len(line))
		copy(raw, line)
		req := &Request{}
		if err := json.Unmarshal(raw, req); err != nil {
			log.Printf("error: bad command line %q: %v", string(raw), err)
			// keep the id if only some other field was malformed
			var idOnly struct {
				ID json.RawMessage `json:"id"`
			}
			_ = json.Unmarshal(raw, &idOnly)
			reply(idOnly.ID, nil, fmt.Errorf("invalid command: %v", err))
			continue
		}
		req.Raw = raw
		go dispatch(n, req)
	}
	if err := sc.Err(); err != nil {
		log.Printf("error: reading stdin: %v", err)
	}
	requestShutdown("stdin closed")
}

func dispatch(n *Node, req *Request) {
	spec, ok := commands[req.Cmd]
	if !ok {
		reply(req.ID, nil, fmt.Errorf("unknown command %q", req.Cmd))
		return
	}
	timeout := spec.timeout
	if req.TimeoutMs > 0 {
		timeout = time.Duration(req.TimeoutMs * float64(time.Millisecond))
	}
	ctx, cancel := context.WithTimeout(n.ctx, timeout)
	defer cancel()
	start := time.Now()
	res, err := spec.fn(ctx, n, req)
	if err != nil {
		log.Printf("command %s (id %s) failed after %v: %v", req.Cmd, string(req.ID), time.Since(start), err)
	}
	reply(req.ID, res, err)
	if req.afterReply != nil {
		req.afterReply()
	}
}
