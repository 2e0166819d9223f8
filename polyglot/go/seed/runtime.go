// Package seed ports the outline's Go listing (Phase 2: OrderFulfillmentWorkflow on Temporal) onto
// polyglot/PROTOCOL.md, keeping its control flow — and so its bugs (polyglot/LISTINGS.md, "Go") — so
// that the course's simulator and checker can show each bug happening. SEED_FIXES names the bugs to
// fix, one at a time.
//
// listing.go is the listing itself. This file is the small piece of Temporal's workflow API it
// needs, on the protocol:
//
//   - workflow.ExecuteActivity is an `invoke` (phase do; a compensation activity is phase undo, action
//     0) with the listing's StartToCloseTimeout, 10 s, whatever the step;
//   - the listing's one RetryPolicy applies to every activity, compensations included, as Temporal's
//     server applies it whether or not the workflow awaits the future: a failed or timed-out attempt
//     k < 3 gets a `timer` of 1 s, then 2 s, and the timer starts attempt k + 1;
//   - Future.Get waits for the activity's final outcome: its `result` event, after the retries;
//   - the activity's fate is recorded (`step completed` / `failed` / `compensated` / `exhausted`) when
//     the runtime learns it, as Temporal's history records ActivityTaskCompleted or Failed whether or
//     not the workflow code ever calls Get;
//   - the workflow function's return ends the instance (`finish`): an error return is `failed`, and
//     everything still in flight is abandoned — the world sends no more events for an ended instance.
//
// As in Temporal's SDK, a workflow function is plain blocking code run as a coroutine: one goroutine
// per instance, resumed when the future it waits for settles, and running only while the runtime
// waits for it. So the commands are a function of the events alone — no clock, no randomness — and a
// replay after a crash rebuilds the same instance and answers the same commands.
package seed

import (
	"errors"
	"fmt"

	"polyglot/saga"
)

// The steps of the outline's order-fulfillment workflow, which the listing hard-codes.
const (
	ValidateOrder    = "validate-order"
	ReserveInventory = "reserve-inventory"
	ProcessPayment   = "process-payment"
	ShipOrder        = "ship-order"
	SendConfirmation = "send-confirmation"
)

// The listing's ActivityOptions, for every activity (compensations included):
//
//	StartToCloseTimeout: 10 * time.Second,
//	RetryPolicy: &temporal.RetryPolicy{InitialInterval: time.Second, BackoffCoefficient: 2.0,
//	    MaximumInterval: 100 * time.Second, MaximumAttempts: 3},
//
// Temporal's activity retries have no jitter: the waits are 1 s, then 2 s.
var (
	StartToCloseUS int64 = 10_000_000
	RetryPolicy          = saga.Policy{MaxAttempts: 3, Backoff: saga.Exponential, InitialUS: 1_000_000,
		CoefficientMilli: 2000, MaxUS: 100_000_000, Jitter: saga.NoJitter}
)

// How an instance ends: the status of its `finish`.
const (
	Completed         = "completed"
	Failed            = "failed"
	NeedsIntervention = "needs_intervention"
)

// Errors for input the port does not accept.
var (
	ErrUnknownInstance = errors.New("unknown instance")
	ErrUnknownStep     = errors.New("unknown step")
	ErrStartedTwice    = errors.New("instance started twice")
	ErrNotTheSeed      = errors.New("not the outline's order-fulfillment workflow")
)

// Orchestrator runs the listing for every instance of the workflow.
type Orchestrator struct {
	wf    *saga.Workflow
	fixes Fixes
	rank  map[string]int // a step's position in the topological order
	live  map[int64]*instance
	ended map[int64]bool
	out   []saga.Command
}

// New checks that wf is the workflow the listing was written for and returns its orchestrator.
func New(wf *saga.Workflow, fixes Fixes) (*Orchestrator, error) {
	if _, err := saga.New(wf, 0); err != nil { // checks the workflow and derives its order
		return nil, err
	}
	steps := map[string]saga.Step{}
	for _, s := range wf.Steps {
		steps[s.Name] = s
	}
	for _, need := range []struct {
		name    string
		awaited bool
		comps   int // compensation actions: the listing has one activity for each compensable step
	}{{ValidateOrder, true, 0}, {ReserveInventory, true, 1}, {ProcessPayment, true, 1}, {ShipOrder, true, 0},
		{SendConfirmation, false, 0}} {
		s, ok := steps[need.name]
		switch {
		case !ok:
			return nil, fmt.Errorf("%w: it has no step %q", ErrNotTheSeed, need.name)
		case s.Awaited != need.awaited:
			return nil, fmt.Errorf("%w: step %q must be %s", ErrNotTheSeed, need.name,
				map[bool]string{true: "awaited (sync-task or async-task)", false: "fire-and-forget"}[need.awaited])
		case s.Compensation != need.comps:
			return nil, fmt.Errorf("%w: step %q has %d compensation actions, the listing %d", ErrNotTheSeed,
				need.name, s.Compensation, need.comps)
		}
	}
	rank := map[string]int{}
	for n, name := range wf.Order() {
		rank[name] = n
	}
	return &Orchestrator{wf: wf, fixes: fixes, rank: rank, live: map[int64]*instance{}, ended: map[int64]bool{}}, nil
}

// Activate handles one activation's events in order and returns the commands they lead to.
func (o *Orchestrator) Activate(events []saga.Event) ([]saga.Command, error) {
	o.out = []saga.Command{}
	for _, e := range events {
		if err := o.handle(e); err != nil {
			return nil, err
		}
	}
	return o.out, nil
}

func (o *Orchestrator) handle(e saga.Event) error {
	switch e := e.(type) {
	case saga.Start:
		if o.live[e.Instance] != nil || o.ended[e.Instance] {
			return fmt.Errorf("%w: %d", ErrStartedTwice, e.Instance)
		}
		o.start(e.Instance)
	case saga.Result:
		a, err := o.lookup(e.Call)
		if a == nil || err != nil {
			return err
		}
		if a.state == running && a.attempt == e.Attempt { // else late or duplicate: nothing changes
			o.settle(a, e)
		}
	case saga.TimerFired:
		a, err := o.lookup(e.Call)
		if a == nil || err != nil {
			return err
		}
		if a.state == waiting && a.attempt == e.Attempt {
			o.invoke(a)
		}
	default:
		return fmt.Errorf("unknown event %T", e)
	}
	return nil
}

// lookup finds the activity an event names: nil without error if its instance has ended or the
// activity was never started (nothing to do), an error if the instance or the step is unknown.
func (o *Orchestrator) lookup(c saga.Call) (*activity, error) {
	if o.ended[c.Instance] {
		return nil, nil
	}
	s := o.live[c.Instance]
	if s == nil {
		return nil, fmt.Errorf("%w: an event for instance %d, which was never started", ErrUnknownInstance, c.Instance)
	}
	if _, ok := o.rank[c.Step]; !ok {
		return nil, fmt.Errorf("%w: an event for step %q, which the workflow does not have", ErrUnknownStep, c.Step)
	}
	if c.Phase == saga.Undo && c.Action != 0 {
		return nil, nil
	}
	return s.activities[key{c.Step, c.Phase}], nil
}

func (o *Orchestrator) emit(c saga.Command) { o.out = append(o.out, c) }

type state uint8

const (
	running state = iota // an attempt is in flight
	waiting              // a retry timer is set
	settled              // its final outcome is known: Future.Get returns
)

type key struct {
	step  string
	phase saga.Phase
}

// activity is one ExecuteActivity call and its retries; the listing holds it as a Future.
type activity struct {
	in       *instance
	step     string
	phase    saga.Phase
	attempt  int64
	state    state
	timedOut bool    // some attempt timed out: its work may have happened
	err      *string // the final error, nil once it succeeded
}

// Future is what ExecuteActivity returns (workflow.Future).
type Future = *activity

// Get waits until the activity has its final outcome, and returns its error (Future.Get).
func (a *activity) Get() error {
	if a.state != settled {
		a.in.block(a)
	}
	if a.err != nil {
		return errors.New(*a.err)
	}
	return nil
}

// TimedOut says whether some attempt of the activity timed out: a failure after a timeout is
// indefinite, the work may have happened (in Temporal, a TimeoutError among its attempts).
func (a *activity) TimedOut() bool { return a.timedOut }

func (o *Orchestrator) call(a *activity) saga.Call {
	return saga.Call{Instance: a.in.id, Step: a.step, Phase: a.phase, Attempt: a.attempt}
}

// invoke starts the activity's current attempt.
func (o *Orchestrator) invoke(a *activity) {
	a.state = running
	timeout := StartToCloseUS
	o.emit(saga.Invoke{Call: o.call(a), TimeoutUS: &timeout})
}

// settle handles the result of the running attempt: success, a retry, or the final failure.
func (o *Orchestrator) settle(a *activity, r saga.Result) {
	k := a.attempt
	if r.Outcome == saga.OK {
		a.state, a.err = settled, nil
		o.record(a, map[saga.Phase]string{saga.Do: "completed", saga.Undo: "compensated"}[a.phase], k, nil)
	} else {
		name := "Timeout" // the error a timeout counts as
		switch {
		case r.Outcome == saga.TimedOut:
			a.timedOut = true
		case r.Error != nil:
			name = *r.Error
		default:
			name = "error"
		}
		retry := k < RetryPolicy.MaxAttempts
		if r.Outcome == saga.TimedOut && o.fixes.Has(3) {
			// FIX 3: nothing carries an idempotency key, so a call that timed out — whose work may
			// have happened — is not sent again: the activity fails, indefinitely.
			retry = false
		}
		if retry { // BUG 3 when the attempt timed out: sent again with no idempotency key
			d := RetryPolicy.Delay(k, nil, 0)
			a.state, a.attempt = waiting, k+1
			o.emit(saga.StartTimer{Call: o.call(a), DelayUS: d})
			return
		}
		a.state, a.err = settled, &name
		if a.phase == saga.Do {
			info := "definite"
			if a.timedOut {
				info = "indefinite"
			}
			o.record(a, "failed", k, &info)
		} else {
			o.record(a, "exhausted", k, &name)
		}
	}
	if s := a.in; s.waitingOn == a {
		o.resume(s)
	}
}

func (o *Orchestrator) record(a *activity, status string, attempt int64, info *string) {
	o.emit(saga.RecordStep{Instance: a.in.id, Step: a.step, Status: status, Attempt: &attempt, Info: info})
}

// instance is one run of the workflow function, a coroutine on its own goroutine.
type instance struct {
	o          *Orchestrator
	id         int64
	activities map[key]*activity
	waitingOn  *activity     // the future the workflow function is blocked on
	resumed    chan struct{} // the runtime → the workflow function: run
	paused     chan pause    // the workflow function → the runtime: blocked, returned or panicked
}

type pause struct {
	returned bool
	status   string
	panicked interface{}
}

func (o *Orchestrator) start(id int64) {
	s := &instance{o: o, id: id, activities: map[key]*activity{}, resumed: make(chan struct{}),
		paused: make(chan pause)}
	o.live[id] = s
	go func() {
		<-s.resumed
		defer func() {
			if p := recover(); p != nil {
				s.paused <- pause{panicked: p}
			}
		}()
		status := orderFulfillment(&Context{s})
		s.paused <- pause{returned: true, status: status}
	}()
	o.resume(s)
}

// resume runs the instance's workflow function until it blocks on a future or returns.
func (o *Orchestrator) resume(s *instance) {
	s.waitingOn = nil
	s.resumed <- struct{}{}
	p := <-s.paused
	switch {
	case p.panicked != nil:
		panic(p.panicked) // a bug of the port: the command loop answers with the protocol's error
	case p.returned:
		o.emit(saga.Finish{Instance: s.id, Status: p.status})
		delete(o.live, s.id)
		o.ended[s.id] = true
	}
}

// block suspends the workflow function until a settles (called on the instance's goroutine).
func (s *instance) block(a *activity) {
	s.waitingOn = a
	s.paused <- pause{}
	<-s.resumed
}

// Context is the listing's workflow.Context: what the workflow function may do.
type Context struct{ s *instance }

// Fixed says whether bug n of LISTINGS.md's Go list is fixed in this run (SEED_FIXES).
func (c *Context) Fixed(n int) bool { return c.s.o.fixes.Has(n) }

// ExecuteActivity starts a step's activity (workflow.ExecuteActivity with the listing's options).
func (c *Context) ExecuteActivity(step string) Future { return c.execute(step, saga.Do) }

// ExecuteCompensation starts the activity that undoes a step (ReleaseInventoryActivity for
// reserve-inventory, RefundPaymentActivity for process-payment): the step's compensation action 0.
func (c *Context) ExecuteCompensation(step string) Future { return c.execute(step, saga.Undo) }

func (c *Context) execute(step string, phase saga.Phase) Future {
	s := c.s
	if s.activities[key{step, phase}] != nil {
		panic(fmt.Sprintf("the workflow started %s %s twice", step, phase))
	}
	a := &activity{in: s, step: step, phase: phase, attempt: 1}
	s.activities[key{step, phase}] = a
	s.o.invoke(a)
	return a
}

// Publish sends a fire-and-forget step's command, never awaited: it counts as done at once, as
// the protocol's fire-and-forget steps do.
func (c *Context) Publish(step string) {
	s := c.s
	s.activities[key{step, saga.Do}] = &activity{in: s, step: step, phase: saga.Do, attempt: 1, state: settled}
	one, published := int64(1), "published"
	s.o.emit(saga.Invoke{Call: saga.Call{Instance: s.id, Step: step, Phase: saga.Do, Attempt: 1}})
	s.o.emit(saga.RecordStep{Instance: s.id, Step: step, Status: "completed", Attempt: &one, Info: &published})
}

// reverse sorts futures of steps into reverse topological order: dependents before what they depend on.
func (c *Context) reverse(fs []Future) []Future {
	out := append([]Future(nil), fs...)
	rank := c.s.o.rank
	for i := 1; i < len(out); i++ { // insertion sort: a handful of steps
		for j := i; j > 0 && rank[out[j].step] > rank[out[j-1].step]; j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	return out
}
