// Package saga is the orchestrator's decision core (polyglot/PROTOCOL.md, "The decision rules"):
// events in, commands out. It does no I/O and reads no clock; its only randomness is the
// protocol's keyed draw, and all its arithmetic is on integers.
package saga

import (
	"errors"
	"fmt"
)

// Errors the decider returns for input the protocol does not allow.
var (
	ErrUnknownInstance = errors.New("unknown instance")
	ErrUnknownStep     = errors.New("unknown step")
	ErrStartedTwice    = errors.New("instance started twice")
)

type status uint8

const (
	pending status = iota
	running
	waiting
	done
	failed    // a step's task only
	skipped   // a step's task only
	exhausted // a compensation task only
)

// task is a step's progress (phase do) or its compensation's (phase undo).
type task struct {
	status     status
	attempt    int64
	indefinite bool   // some attempt of the step timed out: its work may have happened
	lastDelay  *int64 // the last wait, for decorrelated jitter
	action     int64  // the compensation action under way
}

type instance struct {
	id             int64
	steps, comps   []task // indexed like Workflow.Steps
	aborted, ended bool
}

// Decider holds one orchestrator's state: every instance's tasks.
type Decider struct {
	wf        *Workflow
	seed      uint64
	instances map[int64]*instance
	out       []Command
}

// New checks the workflow and returns a decider for it; seed keys the jitter draws.
func New(wf *Workflow, seed uint64) (*Decider, error) {
	if err := wf.compile(); err != nil {
		return nil, err
	}
	return &Decider{wf: wf, seed: seed, instances: make(map[int64]*instance)}, nil
}

// Activate handles one activation's events in order and returns the commands they lead to.
func (d *Decider) Activate(events []Event) ([]Command, error) {
	d.out = []Command{}
	for _, e := range events {
		if err := d.handle(e); err != nil {
			return nil, err
		}
	}
	return d.out, nil
}

func (d *Decider) handle(e Event) error {
	switch e := e.(type) {
	case Start:
		if _, ok := d.instances[e.Instance]; ok {
			return fmt.Errorf("%w: %d", ErrStartedTwice, e.Instance)
		}
		n := len(d.wf.Steps)
		s := &instance{id: e.Instance, steps: make([]task, n), comps: make([]task, n)}
		d.instances[e.Instance] = s
		d.advance(s)
	case Result:
		s, step, err := d.lookup(e.Call)
		if err != nil {
			return err
		}
		d.result(s, step, e)
	case TimerFired:
		s, step, err := d.lookup(e.Call)
		if err != nil {
			return err
		}
		d.timer(s, step, e.Call)
	default:
		return fmt.Errorf("unknown event %T", e)
	}
	return nil
}

func (d *Decider) lookup(c Call) (*instance, int, error) {
	s, ok := d.instances[c.Instance]
	if !ok {
		return nil, 0, fmt.Errorf("%w: an event for instance %d, which was never started", ErrUnknownInstance, c.Instance)
	}
	step, ok := d.wf.index[c.Step]
	if !ok {
		return nil, 0, fmt.Errorf("%w: an event for step %q, which the workflow does not have", ErrUnknownStep, c.Step)
	}
	return s, step, nil
}

func (d *Decider) emit(c Command) { d.out = append(d.out, c) }

func (d *Decider) record(s *instance, step int, status string, attempt *int64, info *string) {
	d.emit(RecordStep{Instance: s.id, Step: d.wf.Steps[step].Name, Status: status, Attempt: attempt, Info: info})
}

// owed: the step has compensation actions and its work is done or may have been (a timeout).
func (d *Decider) owed(s *instance, step int) bool {
	t := &s.steps[step]
	return d.wf.Steps[step].Compensation > 0 && (t.status == done || t.indefinite)
}

func (d *Decider) advance(s *instance) {
	if s.ended {
		return
	}
	if !s.aborted {
		for _, step := range d.wf.order {
			if s.steps[step].status == pending && d.dependenciesDone(s, step) {
				d.startAttempt(s, step, 1)
			}
		}
		for _, t := range s.steps {
			if t.status != done {
				return
			}
		}
		d.finish(s, "completed")
		return
	}
	for _, t := range s.steps {
		if t.status == running {
			return // in-flight attempts settle first
		}
	}
	busy := false
	for n := len(d.wf.order) - 1; n >= 0; n-- {
		step := d.wf.order[n]
		c := &s.comps[step]
		switch {
		case !d.owed(s, step) || c.status == done || c.status == exhausted:
		case c.status == running || c.status == waiting:
			busy = true
		case d.descendantsCompensated(s, step):
			d.startCompensation(s, step, 1)
			busy = true
		}
	}
	if busy {
		return
	}
	someOwed := false
	for step, c := range s.comps {
		if c.status == running || c.status == waiting {
			return
		}
		someOwed = someOwed || d.owed(s, step)
	}
	for step, c := range s.comps {
		if d.owed(s, step) && c.status != done {
			d.finish(s, "needs_intervention")
			return
		}
	}
	if someOwed {
		d.finish(s, "compensated")
	} else {
		d.finish(s, "failed")
	}
}

func (d *Decider) dependenciesDone(s *instance, step int) bool {
	for _, dep := range d.wf.deps[step] {
		if s.steps[dep].status != done {
			return false
		}
	}
	return true
}

func (d *Decider) descendantsCompensated(s *instance, step int) bool {
	for _, desc := range d.wf.descendants[step] {
		if d.owed(s, desc) && s.comps[desc].status != done {
			return false
		}
	}
	return true
}

func (d *Decider) finish(s *instance, status string) {
	s.ended = true
	d.emit(Finish{Instance: s.id, Status: status})
}

func (d *Decider) startAttempt(s *instance, step int, k int64) {
	spec, t := &d.wf.Steps[step], &s.steps[step]
	t.status, t.attempt = running, k
	call := Call{Instance: s.id, Step: spec.Name, Phase: Do, Attempt: k}
	if spec.Awaited {
		d.emit(Invoke{Call: call, TimeoutUS: ptr(spec.TimeoutUS)})
		return
	}
	d.emit(Invoke{Call: call})
	t.status = done
	d.record(s, step, "completed", ptr(k), ptr("published"))
}

func (d *Decider) startCompensation(s *instance, step int, k int64) {
	spec, c := &d.wf.Steps[step], &s.comps[step]
	c.status, c.attempt = running, k
	d.emit(Invoke{Call: Call{Instance: s.id, Step: spec.Name, Phase: Undo, Action: c.action, Attempt: k},
		TimeoutUS: ptr(spec.TimeoutUS)})
}

// result settles the attempt it names, unless it is late or a duplicate.
func (d *Decider) result(s *instance, step int, r Result) {
	if s.ended {
		return
	}
	var errName *string
	switch r.Outcome {
	case TimedOut:
		errName = ptr("Timeout")
	case Failed:
		errName = r.Error
	}
	if r.Phase == Do {
		t := &s.steps[step]
		if t.status != running || t.attempt != r.Attempt {
			return
		}
		if r.Outcome == OK {
			t.status = done
			d.record(s, step, "completed", ptr(r.Attempt), nil)
			d.advance(s)
			return
		}
		t.indefinite = t.indefinite || r.Outcome == TimedOut
		d.afterFailure(s, step, r.Attempt, errName)
		return
	}
	c := &s.comps[step]
	if c.status != running || c.attempt != r.Attempt || c.action != r.Action {
		return
	}
	if r.Outcome != OK {
		d.afterCompensationFailure(s, step, r.Attempt, errName)
		return
	}
	c.action, c.attempt, c.lastDelay = c.action+1, 0, nil
	if c.action < int64(d.wf.Steps[step].Compensation) {
		d.startCompensation(s, step, 1)
		return
	}
	c.status = done
	d.record(s, step, "compensated", nil, nil)
	d.advance(s)
}

func (d *Decider) afterFailure(s *instance, step int, k int64, errName *string) {
	t, policy := &s.steps[step], &d.wf.Steps[step].Retry
	if !s.aborted && policy.retryable(errName) && k < policy.MaxAttempts {
		d.wait(s, step, Do, k, t, policy)
		return
	}
	t.status = failed
	d.record(s, step, "failed", ptr(k), failureInfo(t))
	d.abort(s)
	d.advance(s)
}

func (d *Decider) afterCompensationFailure(s *instance, step int, k int64, errName *string) {
	c, policy := &s.comps[step], &d.wf.CompensationRetry
	if k < policy.MaxAttempts {
		d.wait(s, step, Undo, k, c, policy)
		return
	}
	c.status = exhausted
	d.record(s, step, "exhausted", ptr(k), errName)
	d.advance(s)
}

// wait puts t to wait for attempt k + 1 and asks for the timer that will start it.
func (d *Decider) wait(s *instance, step int, phase Phase, k int64, t *task, policy *Policy) {
	name := d.wf.Steps[step].Name
	u32 := uint32(Draw(d.seed, s.id, name, phase, t.action, k) >> 32)
	delay := policy.Delay(k, t.lastDelay, u32)
	t.status, t.lastDelay, t.attempt = waiting, ptr(delay), k+1
	d.emit(StartTimer{Call: Call{Instance: s.id, Step: name, Phase: phase, Action: t.action, Attempt: k + 1},
		DelayUS: delay})
}

// abort skips every pending step and fails every step waiting to retry.
func (d *Decider) abort(s *instance) {
	s.aborted = true
	for _, step := range d.wf.order {
		switch t := &s.steps[step]; t.status {
		case pending:
			t.status = skipped
			d.record(s, step, "skipped", nil, nil)
		case waiting:
			t.status = failed
			d.record(s, step, "failed", ptr(t.attempt), failureInfo(t))
		}
	}
}

func (d *Decider) timer(s *instance, step int, c Call) {
	if s.ended {
		return
	}
	if c.Phase == Do {
		if t := &s.steps[step]; t.status == waiting && t.attempt == c.Attempt && !s.aborted {
			d.startAttempt(s, step, c.Attempt)
		}
		return
	}
	if t := &s.comps[step]; t.status == waiting && t.attempt == c.Attempt && t.action == c.Action {
		d.startCompensation(s, step, c.Attempt)
	}
}

func failureInfo(t *task) *string {
	if t.indefinite {
		return ptr("indefinite")
	}
	return ptr("definite")
}

func ptr[T any](v T) *T { return &v }
