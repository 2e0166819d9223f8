package saga

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
)

// Builders for expected commands.
func inv(i int64, step string, ph Phase, action, k int64, timeout int64) Command {
	return Invoke{Call{i, step, ph, action, k}, &timeout}
}
func publish(i int64, step string, k int64) Command { return Invoke{Call: Call{i, step, Do, 0, k}} }
func timer(i int64, step string, ph Phase, action, k, delay int64) Command {
	return StartTimer{Call{i, step, ph, action, k}, delay}
}
func rec(i int64, step, status string, k int64, info string) Command {
	r := RecordStep{Instance: i, Step: step, Status: status}
	if k != 0 {
		r.Attempt = &k
	}
	if info != "" {
		r.Info = &info
	}
	return r
}
func finish(i int64, status string) Command { return Finish{i, status} }

// Builders for events.
func start(i int64) Event { return Start{i} }
func ok(i int64, step string, ph Phase, action, k int64) Event {
	return Result{Call: Call{i, step, ph, action, k}, Outcome: OK}
}
func fail(i int64, step string, ph Phase, action, k int64, err string) Event {
	return Result{Call: Call{i, step, ph, action, k}, Outcome: Failed, Error: &err}
}
func timeout(i int64, step string, ph Phase, action, k int64) Event {
	return Result{Call: Call{i, step, ph, action, k}, Outcome: TimedOut}
}
func fired(i int64, step string, ph Phase, action, k int64) Event {
	return TimerFired{Call{i, step, ph, action, k}}
}

// step builds a sync step: 3 attempts, exponential backoff from 1 s, no jitter; timeout 5 s.
func step(name string, compensation int, deps ...string) Step {
	return Step{Name: name, Awaited: true, DependsOn: deps, TimeoutUS: 5_000_000, Compensation: compensation,
		Retry: Policy{MaxAttempts: 3, Backoff: Exponential, InitialUS: 1_000_000, CoefficientMilli: 2000,
			MaxUS: 100_000_000, Jitter: NoJitter, NonRetryable: []string{"CardDeclined"}}}
}

func workflow(steps ...Step) *Workflow {
	return &Workflow{Steps: steps, CompensationRetry: Policy{MaxAttempts: 2, Backoff: Constant, InitialUS: 200_000,
		CoefficientMilli: 2000, MaxUS: 20_000_000, Jitter: NoJitter}}
}

// chain: reserve (compensable, 1 action) → pay (compensable, 2 actions) → ship (not compensable).
func chain() *Workflow {
	return workflow(step("reserve", 1), step("pay", 2, "reserve"), step("ship", 0, "pay"))
}

func TestTopologicalOrderBreaksTiesByDeclaration(t *testing.T) {
	tests := []struct {
		name  string
		steps []Step
		want  string
	}{
		{"declaration order when independent", []Step{step("a", 0), step("b", 0), step("c", 0)}, "a b c"},
		{"a dependency declared later comes first", []Step{step("c", 0, "a"), step("a", 0), step("b", 0), step("d", 0, "b")},
			"a b c d"},
		// FIFO in the order steps become ready: y is ready only after x, so z, ready from the start, precedes it.
		{"first in, first out", []Step{step("x", 0), step("y", 0, "x"), step("z", 0)}, "x z y"},
		{"diamond", []Step{step("top", 0), step("l", 0, "top"), step("r", 0, "top"), step("end", 0, "r", "l")},
			"top l r end"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wf := workflow(tt.steps...)
			if _, err := New(wf, 0); err != nil {
				t.Fatal(err)
			}
			if got := strings.Join(wf.Order(), " "); got != tt.want {
				t.Errorf("order %q, want %q", got, tt.want)
			}
		})
	}
}

func TestInvalidWorkflowsAreRefused(t *testing.T) {
	badPolicy := step("a", 0)
	badPolicy.Retry.Jitter = "wobbly"
	tests := map[string]*Workflow{
		"unknown dependency": workflow(step("a", 0, "ghost")),
		"cycle":              workflow(step("a", 0, "b"), step("b", 0, "a")),
		"duplicate name":     workflow(step("a", 0), step("a", 0)),
		"unknown jitter":     workflow(badPolicy),
	}
	for name, wf := range tests {
		if _, err := New(wf, 0); !errors.Is(err, ErrInvalidWorkflow) {
			t.Errorf("%s: got %v, want ErrInvalidWorkflow", name, err)
		}
	}
}

// TestRules feeds activations to a fresh decider and checks the commands answering the last one.
func TestRules(t *testing.T) {
	fireAndForget := step("notify", 0, "reserve")
	fireAndForget.Awaited = false
	parallel := workflow(step("reserve", 1), step("pay", 0))
	tests := []struct {
		name        string
		wf          *Workflow
		activations [][]Event
		want        []Command
	}{
		{"a start invokes the first step", chain(),
			[][]Event{{start(0)}},
			[]Command{inv(0, "reserve", Do, 0, 1, 5_000_000)}},
		{"a success starts the next step", chain(),
			[][]Event{{start(0)}, {ok(0, "reserve", Do, 0, 1)}},
			[]Command{rec(0, "reserve", "completed", 1, ""), inv(0, "pay", Do, 0, 1, 5_000_000)}},
		{"a failure waits, exponentially", chain(),
			[][]Event{{start(3)}, {fail(3, "reserve", Do, 0, 1, "ServiceError")}},
			[]Command{timer(3, "reserve", Do, 0, 2, 1_000_000)}},
		{"a second failure waits twice as long", chain(),
			[][]Event{{start(3)}, {fail(3, "reserve", Do, 0, 1, "ServiceError")}, {fired(3, "reserve", Do, 0, 2)},
				{timeout(3, "reserve", Do, 0, 2)}},
			[]Command{timer(3, "reserve", Do, 0, 3, 2_000_000)}},
		{"the timer starts the attempt it names", chain(),
			[][]Event{{start(0)}, {fail(0, "reserve", Do, 0, 1, "ServiceError")}, {fired(0, "reserve", Do, 0, 2)}},
			[]Command{inv(0, "reserve", Do, 0, 2, 5_000_000)}},
		{"a late result is ignored", chain(),
			[][]Event{{start(0)}, {fail(0, "reserve", Do, 0, 1, "ServiceError")}, {ok(0, "reserve", Do, 0, 1)}},
			[]Command{}},
		{"a duplicate result is ignored", chain(),
			[][]Event{{start(0)}, {ok(0, "reserve", Do, 0, 1)}, {ok(0, "reserve", Do, 0, 1)}},
			[]Command{}},
		{"a stale timer is ignored", chain(),
			[][]Event{{start(0)}, {fail(0, "reserve", Do, 0, 1, "E")}, {fired(0, "reserve", Do, 0, 2)},
				{fired(0, "reserve", Do, 0, 2)}},
			[]Command{}},
		{"a non-retryable error fails at once and skips what is pending", chain(),
			[][]Event{{start(0)}, {fail(0, "reserve", Do, 0, 1, "CardDeclined")}},
			[]Command{rec(0, "reserve", "failed", 1, "definite"), rec(0, "pay", "skipped", 0, ""),
				rec(0, "ship", "skipped", 0, ""), finish(0, "failed")}},
		{"abort skips pending steps and compensates what is done", chain(),
			[][]Event{{start(0)}, {ok(0, "reserve", Do, 0, 1)}, {fail(0, "pay", Do, 0, 1, "CardDeclined")}},
			[]Command{rec(0, "pay", "failed", 1, "definite"), rec(0, "ship", "skipped", 0, ""),
				inv(0, "reserve", Undo, 0, 1, 5_000_000)}},
		{"a timed-out step is owed its compensation", chain(),
			[][]Event{{start(0)}, {timeout(0, "reserve", Do, 0, 1)}, {fired(0, "reserve", Do, 0, 2)},
				{fail(0, "reserve", Do, 0, 2, "E")}, {fired(0, "reserve", Do, 0, 3)}, {fail(0, "reserve", Do, 0, 3, "E")}},
			[]Command{rec(0, "reserve", "failed", 3, "indefinite"), rec(0, "pay", "skipped", 0, ""),
				rec(0, "ship", "skipped", 0, ""), inv(0, "reserve", Undo, 0, 1, 5_000_000)}},
		{"compensation runs in reverse order, action by action", chain(),
			[][]Event{{start(0)}, {ok(0, "reserve", Do, 0, 1)}, {ok(0, "pay", Do, 0, 1)},
				{fail(0, "ship", Do, 0, 1, "CardDeclined")}, {ok(0, "pay", Undo, 0, 1)}, {ok(0, "pay", Undo, 1, 1)},
				{ok(0, "reserve", Undo, 0, 1)}},
			[]Command{rec(0, "reserve", "compensated", 0, ""), finish(0, "compensated")}},
		{"the newest step is compensated first", chain(),
			[][]Event{{start(0)}, {ok(0, "reserve", Do, 0, 1)}, {ok(0, "pay", Do, 0, 1)},
				{fail(0, "ship", Do, 0, 1, "CardDeclined")}},
			[]Command{rec(0, "ship", "failed", 1, "definite"), inv(0, "pay", Undo, 0, 1, 5_000_000)}},
		{"the next action starts when one succeeds", chain(),
			[][]Event{{start(0)}, {ok(0, "reserve", Do, 0, 1)}, {ok(0, "pay", Do, 0, 1)},
				{fail(0, "ship", Do, 0, 1, "CardDeclined")}, {ok(0, "pay", Undo, 0, 1)}},
			[]Command{inv(0, "pay", Undo, 1, 1, 5_000_000)}},
		{"a dependency is compensated after its dependents", chain(),
			[][]Event{{start(0)}, {ok(0, "reserve", Do, 0, 1)}, {ok(0, "pay", Do, 0, 1)},
				{fail(0, "ship", Do, 0, 1, "CardDeclined")}, {ok(0, "pay", Undo, 0, 1)}, {ok(0, "pay", Undo, 1, 1)}},
			[]Command{rec(0, "pay", "compensated", 0, ""), inv(0, "reserve", Undo, 0, 1, 5_000_000)}},
		{"a failed compensation retries with the compensation policy", chain(),
			[][]Event{{start(0)}, {ok(0, "reserve", Do, 0, 1)}, {fail(0, "pay", Do, 0, 1, "CardDeclined")},
				{fail(0, "reserve", Undo, 0, 1, "ServiceError")}},
			[]Command{timer(0, "reserve", Undo, 0, 2, 200_000)}},
		{"an exhausted compensation needs intervention", chain(),
			[][]Event{{start(0)}, {ok(0, "reserve", Do, 0, 1)}, {fail(0, "pay", Do, 0, 1, "CardDeclined")},
				{fail(0, "reserve", Undo, 0, 1, "ServiceError")}, {fired(0, "reserve", Undo, 0, 2)},
				{timeout(0, "reserve", Undo, 0, 2)}},
			[]Command{rec(0, "reserve", "exhausted", 2, "Timeout"), finish(0, "needs_intervention")}},
		{"in-flight attempts settle before compensation", parallel,
			[][]Event{{start(0)}, {fail(0, "pay", Do, 0, 1, "CardDeclined")}},
			[]Command{rec(0, "pay", "failed", 1, "definite")}},
		{"then compensation starts", parallel,
			[][]Event{{start(0)}, {fail(0, "pay", Do, 0, 1, "CardDeclined")}, {ok(0, "reserve", Do, 0, 1)}},
			[]Command{rec(0, "reserve", "completed", 1, ""), inv(0, "reserve", Undo, 0, 1, 5_000_000)}},
		{"abort fails a step waiting to retry", parallel,
			[][]Event{{start(0)}, {fail(0, "reserve", Do, 0, 1, "E")}, {fail(0, "pay", Do, 0, 1, "CardDeclined")}},
			[]Command{rec(0, "pay", "failed", 1, "definite"), rec(0, "reserve", "failed", 2, "definite"),
				finish(0, "failed")}},
		{"fire-and-forget is done once published", workflow(step("reserve", 0), fireAndForget, step("ship", 0, "notify")),
			[][]Event{{start(0)}, {ok(0, "reserve", Do, 0, 1)}},
			[]Command{rec(0, "reserve", "completed", 1, ""), publish(0, "notify", 1),
				rec(0, "notify", "completed", 1, "published"), inv(0, "ship", Do, 0, 1, 5_000_000)}},
		{"the last success completes the instance", workflow(step("a", 0)),
			[][]Event{{start(0)}, {ok(0, "a", Do, 0, 1)}},
			[]Command{rec(0, "a", "completed", 1, ""), finish(0, "completed")}},
		{"an ended instance ignores everything", workflow(step("a", 0)),
			[][]Event{{start(0)}, {ok(0, "a", Do, 0, 1)}, {ok(0, "a", Do, 0, 1), fired(0, "a", Do, 0, 2)}},
			[]Command{}},
		{"instances are independent", chain(),
			[][]Event{{start(1), start(2)}, {ok(2, "reserve", Do, 0, 1), fail(1, "reserve", Do, 0, 1, "E")}},
			[]Command{rec(2, "reserve", "completed", 1, ""), inv(2, "pay", Do, 0, 1, 5_000_000),
				timer(1, "reserve", Do, 0, 2, 1_000_000)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := New(tt.wf, 7)
			if err != nil {
				t.Fatal(err)
			}
			var got []Command
			for _, events := range tt.activations {
				if got, err = d.Activate(events); err != nil {
					t.Fatal(err)
				}
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got  %s\nwant %s", show(got), show(tt.want))
			}
		})
	}
}

func TestJitteredWaitUsesTheKeyedDraw(t *testing.T) {
	wf := chain()
	wf.Steps[0].Retry.Jitter = Full
	d, _ := New(wf, 7)
	d.Activate([]Event{start(12)})
	got, _ := d.Activate([]Event{fail(12, "reserve", Do, 0, 1, "E")})
	u := uint32(Draw(7, 12, "reserve", Do, 0, 1) >> 32)
	want := int64(uint64(u) * 1_000_000 >> 32)
	if !reflect.DeepEqual(got, []Command{timer(12, "reserve", Do, 0, 2, want)}) {
		t.Errorf("got %s, want a wait of %d µs", show(got), want)
	}
}

func TestInputTheRulesRefuse(t *testing.T) {
	tests := []struct {
		name   string
		events []Event
		want   error
	}{
		{"an event for an instance never started", []Event{fired(9, "reserve", Do, 0, 2)}, ErrUnknownInstance},
		{"an instance started twice", []Event{start(1), start(1)}, ErrStartedTwice},
		{"an event for an unknown step", []Event{start(1), ok(1, "dance", Do, 0, 1)}, ErrUnknownStep},
	}
	for _, tt := range tests {
		d, _ := New(chain(), 0)
		if _, err := d.Activate(tt.events); !errors.Is(err, tt.want) {
			t.Errorf("%s: got %v, want %v", tt.name, err, tt.want)
		}
	}
}

// show prints commands readably: pointers as their values, nil as null.
func show(cs []Command) string {
	var b strings.Builder
	for _, c := range cs {
		switch c := c.(type) {
		case Invoke:
			fmt.Fprintf(&b, "invoke%+v timeout=%s; ", c.Call, deref(c.TimeoutUS))
		case RecordStep:
			fmt.Fprintf(&b, "step{%d %s %s attempt=%s info=%s}; ", c.Instance, c.Step, c.Status, deref(c.Attempt), deref(c.Info))
		default:
			fmt.Fprintf(&b, "%T%+v; ", c, c)
		}
	}
	return b.String()
}

func deref[T any](p *T) string {
	if p == nil {
		return "null"
	}
	return fmt.Sprint(*p)
}
