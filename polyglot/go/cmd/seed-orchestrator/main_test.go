package main

import (
	"bytes"
	"encoding/json"
	"os"
	"strconv"
	"strings"
	"testing"
)

func TestTheProcess(t *testing.T) {
	// testdata/order-fulfillment.json: engine.canonical_workflow of notebooks/workflows/order-fulfillment.yaml.
	wf, err := os.ReadFile("testdata/order-fulfillment.json")
	if err != nil {
		t.Fatal(err)
	}
	hello := `{"type":"hello","protocol":1,"seed":7,"workflow":` + strings.TrimSpace(string(wf)) + `}`
	act := func(time int, events string) string {
		return `{"type":"activation","time_us":` + strconv.Itoa(time) + `,"replay":false,"events":[` + events + `]}`
	}
	start := act(0, `{"kind":"start","instance":0}`)
	validated := act(40, `{"kind":"result","instance":0,"step":"validate-order","phase":"do","action":0,"attempt":1,`+
		`"outcome":"ok","error":null}`)
	tests := []struct {
		name     string
		fixes    string
		lines    []string
		status   int
		last     string // the last line written, or a fragment of the error message
		answered int
	}{
		{"hello, start, shutdown", "", []string{hello, start, `{"type":"shutdown"}`}, 0,
			`{"type":"commands","time_us":0,"commands":[{"cmd":"invoke","instance":0,"step":"validate-order",` +
				`"phase":"do","action":0,"attempt":1,"timeout_us":10000000}]}`, 2},
		{"the listing's 10 s for every activity, both started at once", "1,2", []string{hello, start, validated}, 0,
			`{"type":"commands","time_us":40,"commands":[{"cmd":"step","instance":0,"step":"validate-order",` +
				`"status":"completed","attempt":1,"info":null},{"cmd":"invoke","instance":0,"step":"reserve-inventory",` +
				`"phase":"do","action":0,"attempt":1,"timeout_us":10000000},{"cmd":"invoke","instance":0,` +
				`"step":"process-payment","phase":"do","action":0,"attempt":1,"timeout_us":10000000}]}`, 3},
		{"a bad SEED_FIXES refuses the hello", "1,9", []string{hello}, 2, `SEED_FIXES="1,9"`, 1},
		{"another workflow is refused", "", []string{strings.Replace(hello, `"send-confirmation"`, `"notify"`, -1)}, 2,
			`no step "send-confirmation"`, 1},
		{"malformed JSON", "", []string{hello, `{"type":`}, 2, "line 2: malformed JSON", 2},
		{"an activation before hello", "", []string{start}, 2, "before hello", 1},
		{"an event for an unknown instance", "", []string{hello, act(5, `{"kind":"timer","instance":9,`+
			`"step":"validate-order","phase":"do","action":0,"attempt":2}`)}, 2, "never started", 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			status := run(strings.NewReader(strings.Join(tt.lines, "\n")+"\n"), &stdout, &stderr, tt.fixes)
			lines := strings.Split(strings.TrimSuffix(stdout.String(), "\n"), "\n")
			if status != tt.status || len(lines) != tt.answered {
				t.Fatalf("status %d with %d lines %q, want %d with %d", status, len(lines), stdout.String(), tt.status, tt.answered)
			}
			last := lines[len(lines)-1]
			if tt.status == 0 {
				if last != tt.last {
					t.Errorf("last line %s\nwant %s", last, tt.last)
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
