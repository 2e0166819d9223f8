package main

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"
)

// runJSON runs the program's entry with args and decodes its one line of output.
func runJSON(t *testing.T, args ...string) (map[string]any, int) {
	t.Helper()
	var out bytes.Buffer
	status := run(args, &out)
	if strings.Count(out.String(), "\n") != 1 {
		t.Fatalf("%v: want exactly one line, got %q", args, out.String())
	}
	var got map[string]any
	if err := json.Unmarshal(out.Bytes(), &got); err != nil {
		t.Fatalf("%v: not JSON: %v: %q", args, err, out.String())
	}
	return got, status
}

func fastParams(t *testing.T, extra string) *params {
	t.Helper()
	p, err := parseParams([]byte(`{"latency_ms": [1, 2, 2, 2, 1]` + extra + `}`))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestEveryExperimentAnswersTheDocumentedFields(t *testing.T) {
	want := map[string][]string{
		"concurrency":  {"rss_idle", "rss_peak", "spawn_seconds", "wall_seconds", "completed", "failed"},
		"cpu_step":     {"p50", "p99", "max", "wall_seconds"},
		"cancellation": {"calls", "attempts_made", "effects"},
		"startup":      {"seconds_to_ready"},
	}
	params := map[string]string{
		"concurrency":  `{"n": 50, "latency_ms": [1, 1, 1, 1, 1]}`,
		"cpu_step":     `{"n": 20, "every": 5, "cpu_ms": 2, "latency_ms": [1, 1, 1, 1, 1]}`,
		"cancellation": `{"n": 5, "timeout_ms": 2, "work_ms": 5}`,
		"startup":      `{}`,
	}
	for experiment, fields := range want {
		got, status := runJSON(t, experiment, params[experiment])
		if status != 0 {
			t.Fatalf("%s: status %d: %v", experiment, status, got)
		}
		for _, f := range append(fields, "language", "flavor", "experiment", "params", "gomaxprocs") {
			if _, ok := got[f]; !ok {
				t.Errorf("%s: no %q in %v", experiment, f, got)
			}
		}
		if got["language"] != "go" || got["flavor"] != "goroutines" || got["experiment"] != experiment {
			t.Errorf("%s: wrong header: %v", experiment, got)
		}
	}
}

func TestBadInputIsAnErrorWithStatus2(t *testing.T) {
	for _, args := range [][]string{
		{"concurrency", `{"n": 10, "flavor": "green-threads"}`},
		{"concurrency", `{}`},                      // n is required
		{"concurrency", `{"n": 0}`},                // 1 to 10⁶
		{"concurrency", `{"n": 1000001}`},          // 1 to 10⁶
		{"concurrency", `{"n": "ten"}`},            // a number
		{"concurrency", `{"n": 2.5}`},              // an integer
		{"cpu_step", `{"fix": "yes"}`},             // a bool
		{"cancellation", `{"latency_ms": [1, 2]}`}, // five steps
		{"cancellation", `{"failure_rate": 1.5}`},  // a probability
		{"startup", `[1, 2]`},                      // an object
		{"startup", `{"a": 1} {}`},                 // one object
		{"warp-speed", `{}`},
		{},
	} {
		got, status := runJSON(t, args...)
		if status != 2 || got["error"] == nil || len(got) != 1 {
			t.Errorf("%v: want {\"error\": ...} and status 2, got %v and %d", args, got, status)
		}
	}
	got, _ := runJSON(t, "concurrency", `{"n": 10, "flavor": "green-threads"}`)
	if !strings.Contains(got["error"].(string), "flavor") {
		t.Errorf("the message names the bad param: %v", got)
	}
}

func TestParamsAreEchoedAsGiven(t *testing.T) {
	got, _ := runJSON(t, "startup", `{"flavor": "goroutines", "seed": 7, "extra": [1, {"x": null}]}`)
	echo, _ := json.Marshal(got["params"])
	if string(echo) != `{"extra":[1,{"x":null}],"flavor":"goroutines","seed":7}` {
		t.Errorf("params echoed as %s", echo)
	}
}

func TestOutcomesFollowTheFailureRateAndTheSeed(t *testing.T) {
	count := func(extra string) (ok int) {
		p, err := parseParams([]byte(`{"latency_ms": [0, 0, 0, 0, 0]` + extra + `}`))
		if err != nil {
			t.Fatal(err)
		}
		for i := 0; i < 200; i++ {
			if workflow(p, i, 0) {
				ok++
			}
		}
		return ok
	}
	if got := count(``); got != 200 {
		t.Errorf("failure_rate 0: %d of 200 completed", got)
	}
	if got := count(`, "failure_rate": 1`); got != 0 {
		t.Errorf("failure_rate 1: %d of 200 completed", got)
	}
	// five steps at 0.1: about 0.9⁵ ≈ 59% complete
	a, b, c := count(`, "failure_rate": 0.1, "seed": 3`), count(`, "failure_rate": 0.1, "seed": 3`), count(`, "failure_rate": 0.1, "seed": 4`)
	if a != b || a < 80 || a > 160 {
		t.Errorf("seed 3 twice: %d and %d completed (want equal, about 118)", a, b)
	}
	if a == c {
		t.Logf("seeds 3 and 4 happen to give the same count (%d)", a)
	}
}

func TestConcurrencyRunsEveryInstanceAtOnce(t *testing.T) {
	got, err := concurrency(fastParams(t, `, "n": 300, "failure_rate": 0.1, "seed": 3`))
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]any{}
	for _, f := range got {
		m[f.key] = f.value
	}
	if m["completed"].(int64)+m["failed"].(int64) != 300 || m["failed"].(int64) == 0 {
		t.Errorf("outcomes: %v", m)
	}
	if m["goroutines_at_spawn"].(int) < 300 {
		t.Errorf("all 300 goroutines exist before the gate opens: %v", m)
	}
}

func TestCancellationStopsTheWorkOnlyWhenAsked(t *testing.T) {
	for _, cancel := range []bool{false, true} {
		p := fastParams(t, `, "n": 10, "timeout_ms": 2, "work_ms": 6, "cancel": `+map[bool]string{false: "false", true: "true"}[cancel])
		got, err := cancellation(p)
		if err != nil {
			t.Fatal(err)
		}
		m := map[string]any{}
		for _, f := range got {
			m[f.key] = f.value
		}
		if m["attempts_made"].(int64) != 30 {
			t.Errorf("cancel=%v: every attempt times out, 3 per call: %v", cancel, m)
		}
		want := m["attempts_made"].(int64) // without cancel, every abandoned attempt still has its effect
		if cancel {
			want = 0
		}
		if m["effects"].(int64) != want {
			t.Errorf("cancel=%v: effects %v, want %d", cancel, m["effects"], want)
		}
	}
}

func TestBurnIsCPUWorkForAboutItsDuration(t *testing.T) {
	began := time.Now()
	burn(20 * time.Millisecond)
	if took := time.Since(began); took < 20*time.Millisecond || took > 2*time.Second {
		t.Errorf("burn(20ms) took %v", took)
	}
}

func TestPercentileIsNearestRank(t *testing.T) {
	xs := []float64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}
	for q, want := range map[float64]float64{50: 5, 99: 10, 100: 10, 10: 1, 0: 1} {
		if got := percentile(xs, q); got != want {
			t.Errorf("p%v = %v, want %v", q, got, want)
		}
	}
	if percentile(nil, 50) != nil {
		t.Error("no values: null")
	}
}

func TestRSSIsReadFromProc(t *testing.T) {
	r := readRSS()
	if r.rss == nil { // not Linux: the fields are null, which is allowed
		t.Skip("no /proc/self/status here")
	}
	if *r.rss <= 0 || r.hwm == nil || *r.hwm < *r.rss {
		t.Errorf("VmRSS %v, VmHWM %v", *r.rss, r.hwm)
	}
}
