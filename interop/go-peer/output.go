package main

import (
	"encoding/json"
	"log"
	"os"
	"sync"
)

// stdout carries only JSON lines; every write goes through writeLine so lines
// from concurrent goroutines never interleave.
var stdoutMu sync.Mutex

func writeLine(v any) {
	b, err := json.Marshal(v)
	if err != nil {
		log.Printf("error: cannot encode output line: %v", err)
		return
	}
	b = append(b, '\n')
	stdoutMu.Lock()
	defer stdoutMu.Unlock()
	if _, err := os.Stdout.Write(b); err != nil {
		log.Printf("error: writing stdout: %v", err)
	}
}

// emitEvent prints {"event":name, ...fields}.
func emitEvent(name string, fields map[string]any) {
	line := make(map[string]any, len(fields)+1)
	for k, v := range fields {
		line[k] = v
	}
	line["event"] = name
	writeLine(line)
}

// reply prints the single reply line of a command.
func reply(id json.RawMessage, result map[string]any, err error) {
	line := make(map[string]any, len(result)+3)
	if err != nil {
		line["ok"] = false
		line["error"] = err.Error()
	} else {
		for k, v := range result {
			line[k] = v
		}
		line["ok"] = true
	}
	if len(id) == 0 {
		line["id"] = nil
	} else {
		line["id"] = id
	}
	writeLine(line)
}
