package seed

import (
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"polyglot/saga"
)

// seedWorkflow is the outline's order-fulfillment workflow as the hello carries it (the parts the
// port reads): the workflow's own timeouts and policies differ from the listing's, on purpose.
func seedWorkflow() *saga.Workflow {
	policy := saga.Policy{MaxAttempts: 1, Backoff: saga.Exponential, InitialUS: 1_000_000, CoefficientMilli: 2000,
		MaxUS: 100_000_000, Jitter: saga.NoJitter}
	step := func(name string, awaited bool, timeout int64, comps int, deps ...string) saga.Step {
		return saga.Step{Name: name, Awaited: awaited, DependsOn: deps, TimeoutUS: timeout, Retry: policy, Compensation: comps}
	}
	return &saga.Workflow{Steps: []saga.Step{
		step(ValidateOrder, true, 5_000_000, 0),
		step(ReserveInventory, true, 30_000_000, 1, ValidateOrder),
		step(ProcessPayment, true, 10_000_000, 1, ValidateOrder),
		step(ShipOrder, true, 30_000_000, 0, ReserveInventory, ProcessPayment),
		step(SendConfirmation, false, 30_000_000, 0, ShipOrder),
	}, CompensationRetry: policy}
}

// event reads "start", "<ok|error|timeout> <step> [undo] <attempt>" or "timer <step> [undo] <attempt>",
// all for instance 1.
func event(t *testing.T, spec string) saga.Event {
	f := strings.Fields(spec)
	if f[0] == "start" {
		return saga.Start{Instance: 1}
	}
	c := saga.Call{Instance: 1, Step: f[1], Phase: saga.Do}
	if f[2] == "undo" {
		c.Phase, f = saga.Undo, append(f[:2], f[3:]...)
	}
	k, err := strconv.ParseInt(f[2], 10, 64)
	if err != nil {
		t.Fatalf("bad event %q", spec)
	}
	c.Attempt = k
	switch f[0] {
	case "timer":
		return saga.TimerFired{Call: c}
	case "ok":
		return saga.Result{Call: c, Outcome: saga.OK}
	case "error":
		e := "ServiceError"
		return saga.Result{Call: c, Outcome: saga.Failed, Error: &e}
	case "timeout":
		e := "Timeout"
		return saga.Result{Call: c, Outcome: saga.TimedOut, Error: &e}
	}
	t.Fatalf("bad event %q", spec)
	return nil
}

// show writes a command in one short line: "invoke <step> <phase> <attempt>" (the listing's 10 s
// timeout implied; "ff" for fire-and-forget), "timer <step> <phase> <attempt> <delay>",
// "<status> <step> <attempt> [info]", "finish <status>".
func show(c saga.Command) string {
	switch c := c.(type) {
	case saga.Invoke:
		s := fmt.Sprintf("invoke %s %s %d", c.Step, c.Phase, c.Attempt)
		switch {
		case c.TimeoutUS == nil:
			s += " ff"
		case *c.TimeoutUS != StartToCloseUS:
			s += fmt.Sprintf(" timeout=%d", *c.TimeoutUS)
		}
		if c.Instance != 1 || c.Action != 0 {
			s += fmt.Sprintf(" instance=%d action=%d", c.Instance, c.Action)
		}
		return s
	case saga.StartTimer:
		return fmt.Sprintf("timer %s %s %d %d", c.Step, c.Phase, c.Attempt, c.DelayUS)
	case saga.RecordStep:
		s := fmt.Sprintf("%s %s %d", c.Status, c.Step, *c.Attempt)
		if c.Info != nil {
			s += " " + *c.Info
		}
		return s
	case saga.Finish:
		return "finish " + c.Status
	}
	return fmt.Sprintf("%#v", c)
}

type turn struct {
	events string // events separated by ";"
	want   string // commands separated by ";"
}

// retried: an attempt k of step fails with outcome, then its retry timer fires (attempt k + 1).
func retried(outcome, step, phase string, k int) []turn {
	p := ""
	if phase == "undo" {
		p = " undo"
	}
	return []turn{
		{fmt.Sprintf("%s %s%s %d", outcome, step, p, k), fmt.Sprintf("timer %s %s %d %d", step, phase, k+1,
			map[int]int{1: 1_000_000, 2: 2_000_000}[k])},
		{fmt.Sprintf("timer %s%s %d", step, p, k+1), fmt.Sprintf("invoke %s %s %d", step, phase, k+1)},
	}
}

// exhaust: attempts 1 and 2 of step fail with outcome and are retried; the caller plays attempt 3.
func exhaust(outcome, step, phase string) []turn {
	return append(retried(outcome, step, phase, 1), retried(outcome, step, phase, 2)...)
}

func script(parts ...interface{}) []turn {
	var out []turn
	for _, p := range parts {
		switch p := p.(type) {
		case turn:
			out = append(out, p)
		case []turn:
			out = append(out, p...)
		}
	}
	return out
}

var (
	begin = script(
		turn{"start", "invoke validate-order do 1"},
		turn{"ok validate-order 1", "completed validate-order 1; invoke reserve-inventory do 1; invoke process-payment do 1"},
	)
	paid     = turn{"ok process-payment 1", "completed process-payment 1"}
	reserved = turn{"ok reserve-inventory 1", "completed reserve-inventory 1; invoke ship-order do 1"}
	shipOK   = turn{"ok ship-order 1", "completed ship-order 1; finish completed"}
	// the same results the other way round: the workflow waits for the payment before shipping.
	reservedFirst = turn{"ok reserve-inventory 1", "completed reserve-inventory 1"}
	paidSecond    = turn{"ok process-payment 1", "completed process-payment 1; invoke ship-order do 1"}
	// ship-order fails for good after its three attempts.
	shipFails = script(begin, paid, reserved, exhaust("error", ShipOrder, "do"))
	shipLast  = "error ship-order 3"
	shipDead  = "failed ship-order 3 definite"
)

func TestTheListing(t *testing.T) {
	tests := []struct {
		name  string
		fixes string
		turns []turn
	}{
		{"the happy path completes without the confirmation (bug 6)", "", script(begin, paid, reserved, shipOK)},
		{"fix 6: the confirmation is published, fire-and-forget", "6", script(begin, paid, reserved,
			turn{"ok ship-order 1", "completed ship-order 1; invoke send-confirmation do 1 ff; " +
				"completed send-confirmation 1 published; finish completed"})},
		{"validate-order goes through the listing's RetryPolicy: 1 s, 2 s, then it fails", "", script(
			turn{"start", "invoke validate-order do 1"}, exhaust("error", ValidateOrder, "do"),
			turn{"error validate-order 3", "failed validate-order 3 definite; finish failed"})},
		{"a result for another attempt changes nothing", "", script(begin,
			turn{"ok process-payment 2; error reserve-inventory 2", ""}, paid)},

		{"bug 1: inventory fails, the payment is neither awaited nor refunded", "", script(begin, paid,
			exhaust("error", ReserveInventory, "do"),
			turn{"error reserve-inventory 3", "failed reserve-inventory 3 definite; finish failed"})},
		{"bug 1: the instance ends with the payment still in flight", "", script(begin,
			exhaust("error", ReserveInventory, "do"),
			turn{"error reserve-inventory 3", "failed reserve-inventory 3 definite; finish failed"})},
		{"fix 1: the payment is refunded (unawaited: bug 2)", "1", script(begin, paid,
			exhaust("error", ReserveInventory, "do"),
			turn{"error reserve-inventory 3", "failed reserve-inventory 3 definite; invoke process-payment undo 1; finish failed"})},
		{"fix 1: the payment in flight is awaited first", "1,2", script(begin,
			exhaust("error", ReserveInventory, "do"),
			turn{"error reserve-inventory 3", "failed reserve-inventory 3 definite"},
			turn{"ok process-payment 1", "completed process-payment 1; invoke process-payment undo 1"},
			turn{"ok process-payment undo 1", "compensated process-payment 1; finish failed"})},
		{"fix 1: a payment that failed is not refunded", "1,2", script(begin,
			exhaust("error", ReserveInventory, "do"), exhaust("error", ProcessPayment, "do"),
			turn{"error reserve-inventory 3", "failed reserve-inventory 3 definite"},
			turn{"error process-payment 3", "failed process-payment 3 definite; finish failed"})},

		{"bug 2: payment fails, the release is started and the workflow returns", "", script(begin, reservedFirst,
			exhaust("error", ProcessPayment, "do"),
			turn{"error process-payment 3", "failed process-payment 3 definite; invoke reserve-inventory undo 1; finish failed"})},
		{"bugs 2 and 4: ship fails, both compensations start together, unawaited", "", script(shipFails,
			turn{shipLast, shipDead + "; invoke reserve-inventory undo 1; invoke process-payment undo 1; finish failed"})},
		{"fix 2: both awaited, then the workflow returns", "2", script(shipFails,
			turn{shipLast, shipDead + "; invoke reserve-inventory undo 1; invoke process-payment undo 1"},
			turn{"ok process-payment undo 1", "compensated process-payment 1"},
			turn{"ok reserve-inventory undo 1", "compensated reserve-inventory 1; finish failed"})},
		{"fix 2, bug 4: a refund that gives up is ignored: failed", "2", script(shipFails,
			turn{shipLast, shipDead + "; invoke reserve-inventory undo 1; invoke process-payment undo 1"},
			turn{"ok reserve-inventory undo 1", "compensated reserve-inventory 1"},
			exhaust("error", ProcessPayment, "undo"),
			turn{"error process-payment undo 3", "exhausted process-payment 3 ServiceError; finish failed"})},
		{"fix 4: the refund, then the release, one at a time", "2,4", script(shipFails,
			turn{shipLast, shipDead + "; invoke process-payment undo 1"},
			turn{"ok process-payment undo 1", "compensated process-payment 1; invoke reserve-inventory undo 1"},
			turn{"ok reserve-inventory undo 1", "compensated reserve-inventory 1; finish failed"})},
		{"fix 4: a refund that gives up is reported to a human", "2,4", script(shipFails,
			turn{shipLast, shipDead + "; invoke process-payment undo 1"},
			exhaust("error", ProcessPayment, "undo"),
			turn{"error process-payment undo 3", "exhausted process-payment 3 ServiceError; invoke reserve-inventory undo 1"},
			turn{"ok reserve-inventory undo 1", "compensated reserve-inventory 1; finish needs_intervention"})},

		{"bug 3: a charge that timed out is sent again", "", script(begin, retried("timeout", ProcessPayment, "do", 1),
			turn{"ok process-payment 2", "completed process-payment 2"}, reserved)},
		{"fix 3: a charge that timed out fails, indefinitely (bug 5: never refunded)", "3", script(begin, reservedFirst,
			turn{"timeout process-payment 1", "failed process-payment 1 indefinite; invoke reserve-inventory undo 1; finish failed"})},
		{"fix 3: a definite error is still retried", "3", script(begin, retried("error", ProcessPayment, "do", 1))},
		{"fix 3: a compensation that timed out is not sent again", "2,3,4", script(shipFails,
			turn{shipLast, shipDead + "; invoke process-payment undo 1"},
			turn{"timeout process-payment undo 1", "exhausted process-payment 1 Timeout; invoke reserve-inventory undo 1"},
			turn{"ok reserve-inventory undo 1", "compensated reserve-inventory 1; finish needs_intervention"})},
		{"bug 5: a payment that failed after timeouts is not refunded", "2", script(begin, reservedFirst,
			exhaust("timeout", ProcessPayment, "do"),
			turn{"timeout process-payment 3", "failed process-payment 3 indefinite; invoke reserve-inventory undo 1"},
			turn{"ok reserve-inventory undo 1", "compensated reserve-inventory 1; finish failed"})},
		{"fix 5: it is refunded too", "2,4,5", script(begin, reservedFirst, exhaust("timeout", ProcessPayment, "do"),
			turn{"timeout process-payment 3", "failed process-payment 3 indefinite; invoke process-payment undo 1"},
			turn{"ok process-payment undo 1", "compensated process-payment 1; invoke reserve-inventory undo 1"},
			turn{"ok reserve-inventory undo 1", "compensated reserve-inventory 1; finish failed"})},
		{"fix 5: a reservation that timed out is released", "3,5", script(begin, paid,
			turn{"timeout reserve-inventory 1", "failed reserve-inventory 1 indefinite; invoke reserve-inventory undo 1; finish failed"})},
		{"all fixed: the whole workflow", "1,2,3,4,5,6", script(begin, reservedFirst, paidSecond,
			turn{"ok ship-order 1", "completed ship-order 1; invoke send-confirmation do 1 ff; " +
				"completed send-confirmation 1 published; finish completed"})},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fixes, err := ParseFixes(tt.fixes)
			if err != nil {
				t.Fatal(err)
			}
			o, err := New(seedWorkflow(), fixes)
			if err != nil {
				t.Fatal(err)
			}
			for n, turn := range tt.turns {
				var events []saga.Event
				for _, spec := range strings.Split(turn.events, ";") {
					if spec = strings.TrimSpace(spec); spec != "" {
						events = append(events, event(t, spec))
					}
				}
				commands, err := o.Activate(events)
				if err != nil {
					t.Fatalf("turn %d (%s): %v", n, turn.events, err)
				}
				got := make([]string, len(commands))
				for i, c := range commands {
					got[i] = show(c)
				}
				if g := strings.Join(got, "; "); g != turn.want {
					t.Fatalf("turn %d (%s):\n got  %s\n want %s", n, turn.events, g, turn.want)
				}
			}
		})
	}
}

// A replay (a new process fed the same events) answers the same commands, and instances do not
// disturb one another.
func TestReplayIsDeterministic(t *testing.T) {
	var history [][]saga.Event
	for _, tt := range script(shipFails, turn{shipLast, ""}) {
		var events []saga.Event
		for _, spec := range strings.Split(tt.events, ";") {
			e := event(t, strings.TrimSpace(spec))
			events = append(events, e)
			if _, ok := e.(saga.Start); ok { // a second instance, started with the first
				events = append(events, saga.Start{Instance: 2})
			}
		}
		history = append(history, events)
	}
	answers := func() [][]saga.Command {
		o, err := New(seedWorkflow(), All())
		if err != nil {
			t.Fatal(err)
		}
		var out [][]saga.Command
		for _, events := range history {
			commands, err := o.Activate(events)
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, commands)
		}
		return out
	}
	first, second := answers(), answers()
	if !reflect.DeepEqual(first, second) {
		t.Fatalf("a replay answered differently:\n%v\n%v", first, second)
	}
	if got := show(first[0][1]); got != "invoke validate-order do 1 instance=2 action=0" {
		t.Errorf("instance 2 starts with %s", got)
	}
	if last := first[len(first)-1]; show(last[len(last)-1]) != "invoke process-payment undo 1" {
		t.Errorf("instance 1's last commands: %v", last)
	}
}

func TestBadInputIsRefused(t *testing.T) {
	tests := []struct {
		name   string
		events []saga.Event
		want   error
	}{
		{"an event for an instance never started", []saga.Event{saga.TimerFired{Call: saga.Call{Instance: 9,
			Step: ValidateOrder, Phase: saga.Do, Attempt: 2}}}, ErrUnknownInstance},
		{"a step the workflow does not have", []saga.Event{saga.Start{Instance: 1}, saga.Result{Call: saga.Call{
			Instance: 1, Step: "ghost", Phase: saga.Do, Attempt: 1}, Outcome: saga.OK}}, ErrUnknownStep},
		{"an instance started twice", []saga.Event{saga.Start{Instance: 1}, saga.Start{Instance: 1}}, ErrStartedTwice},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o, err := New(seedWorkflow(), 0)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := o.Activate(tt.events); !errors.Is(err, tt.want) {
				t.Errorf("got %v, want %v", err, tt.want)
			}
		})
	}
}

func TestOnlyTheSeedWorkflow(t *testing.T) {
	tests := []struct {
		name   string
		change func(*saga.Workflow)
	}{
		{"a missing step", func(w *saga.Workflow) { w.Steps = w.Steps[:4] }},
		{"a payment without its refund", func(w *saga.Workflow) { w.Steps[2].Compensation = 0 }},
		{"an awaited confirmation", func(w *saga.Workflow) { w.Steps[4].Awaited = true }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wf := seedWorkflow()
			tt.change(wf)
			if _, err := New(wf, 0); !errors.Is(err, ErrNotTheSeed) {
				t.Errorf("got %v, want %v", err, ErrNotTheSeed)
			}
		})
	}
}

func TestParseFixes(t *testing.T) {
	tests := []struct {
		in    string
		fixed []int
		bad   bool
	}{
		{"", nil, false},
		{"1,3", []int{1, 3}, false},
		{" 2 , 4,", []int{2, 4}, false},
		{"1,2,3,4,5,6", []int{1, 2, 3, 4, 5, 6}, false},
		{"7", nil, true},
		{"0", nil, true},
		{"1;3", nil, true},
		{"x", nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			f, err := ParseFixes(tt.in)
			if (err != nil) != tt.bad {
				t.Fatalf("error %v, want an error: %v", err, tt.bad)
			}
			var fixed []int
			for n := 0; n <= Bugs+1; n++ {
				if f.Has(n) {
					fixed = append(fixed, n)
				}
			}
			if !reflect.DeepEqual(fixed, tt.fixed) {
				t.Errorf("fixed %v, want %v", fixed, tt.fixed)
			}
		})
	}
}
