package main

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

const hello = `{"type":"hello","protocol":1,"seed":1,"workflow":{"name":"w","version":"1","steps":[` +
	`{"name":"validate-order","type":"sync-task","depends_on":[],"timeout_us":5000000,"retry":{"max_attempts":3,` +
	`"backoff":"exponential","initial_us":1000000,"coefficient_milli":2000,"max_us":100000000,"jitter":"none",` +
	`"non_retryable":[]},"compensation":[]}],"compensation_retry":{"max_attempts":5,"backoff":"exponential",` +
	`"initial_us":1000000,"coefficient_milli":2000,"max_us":100000000,"jitter":"none","non_retryable":[]}}}`

func TestTheProcess(t *testing.T) {
	start := `{"type":"activation","time_us":0,"replay":false,"events":[{"kind":"start","instance":0}]}`
	tests := []struct {
		name     string
		lines    []string
		status   int
		last     string // the last line written, or the fragment of an error message
		answered int
	}{
		{"hello, start, shutdown", []string{hello, start, `{"type":"shutdown"}`}, 0,
			`{"type":"commands","time_us":0,"commands":[{"cmd":"invoke","instance":0,"step":"validate-order",` +
				`"phase":"do","action":0,"attempt":1,"timeout_us":5000000}]}`, 2},
		{"the end of input ends quietly", []string{hello}, 0, `{"type":"ready"}`, 1},
		{"nothing after shutdown is read", []string{hello, `{"type":"shutdown"}`, `garbage`}, 0, `{"type":"ready"}`, 1},
		{"malformed JSON", []string{hello, `{"type":`}, 2, "line 2: malformed JSON", 2},
		{"an activation before hello", []string{start}, 2, "before hello", 1},
		{"an unknown message type", []string{`{"type":"greeting"}`}, 2, "unknown message type", 1},
		{"an unknown event kind", []string{hello, `{"type":"activation","time_us":0,"events":[{"kind":"poke"}]}`}, 2,
			"unknown event kind", 2},
		{"an event for an unknown instance", []string{hello, `{"type":"activation","time_us":0,"events":[{"kind":"timer",` +
			`"instance":9,"step":"validate-order","phase":"do","action":0,"attempt":2}]}`}, 2, "never started", 2},
		{"a missing field", []string{hello, `{"type":"activation","events":[]}`}, 2, `missing field "time_us"`, 2},
		{"an invalid workflow", []string{strings.Replace(hello, `"depends_on":[]`, `"depends_on":["ghost"]`, 1)}, 2,
			"ghost", 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			status := run(strings.NewReader(strings.Join(tt.lines, "\n")+"\n"), &stdout, &stderr)
			lines := strings.Split(strings.TrimSuffix(stdout.String(), "\n"), "\n")
			if status != tt.status || len(lines) != tt.answered {
				t.Fatalf("status %d with %d lines %q, want %d with %d", status, len(lines), stdout.String(), tt.status, tt.answered)
			}
			last := lines[len(lines)-1]
			if tt.status == 0 {
				if last != tt.last {
					t.Errorf("last line %s, want %s", last, tt.last)
				}
				return
			}
			var e struct{ Type, Message string }
			if err := json.Unmarshal([]byte(last), &e); err != nil || e.Type != "error" || !strings.Contains(e.Message, tt.last) {
				t.Errorf("last line %s, want an error about %q", last, tt.last)
			}
		})
	}
}
