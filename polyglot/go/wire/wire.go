// Package wire is the protocol's JSON-lines encoding (polyglot/PROTOCOL.md): it turns a line into a
// message with typed events and a canonical workflow, and commands back into a line. Keys are
// matched exactly, unknown keys are ignored, and every number must be an integer.
package wire

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"

	"polyglot/saga"
)

// Errors for input the protocol does not allow.
var (
	ErrMalformed      = errors.New("malformed JSON")
	ErrMissingField   = errors.New("missing field")
	ErrBadField       = errors.New("bad field")
	ErrUnknownType    = errors.New("unknown message type")
	ErrUnknownKind    = errors.New("unknown event kind")
	ErrUnknownOutcome = errors.New("unknown outcome")
	ErrUnknownPhase   = errors.New("unknown phase")
)

// Message is one of Hello, Activation, Shutdown.
type Message interface{ isMessage() }

// Hello opens a session: the seed of the draws and the workflow (checked by saga.New).
type Hello struct {
	Seed     uint64
	Workflow *saga.Workflow
}

// Activation is a batch of events at one simulated instant.
type Activation struct {
	TimeUS int64
	Events []saga.Event
}

// Shutdown asks the orchestrator to exit.
type Shutdown struct{}

func (Hello) isMessage()      {}
func (Activation) isMessage() {}
func (Shutdown) isMessage()   {}

// Decode parses one line from the world.
func Decode(line []byte) (Message, error) {
	msg, err := parseObject(line, "the message")
	if err != nil {
		return nil, err
	}
	kind := msg.optString("type")
	if msg.err != nil {
		return nil, msg.err
	}
	switch {
	case kind == nil:
		return nil, fmt.Errorf("%w: none", ErrUnknownType)
	case *kind == "hello":
		return decodeHello(msg)
	case *kind == "activation":
		return decodeActivation(msg)
	case *kind == "shutdown":
		return Shutdown{}, nil
	}
	return nil, fmt.Errorf("%w %q", ErrUnknownType, *kind)
}

func decodeHello(msg *object) (Message, error) {
	if raw, ok := msg.fields["protocol"]; ok && string(raw) != "1" {
		return nil, fmt.Errorf("%w: protocol version %.20s is not 1", ErrBadField, raw)
	}
	h := Hello{Seed: msg.uint64("seed")}
	wf := msg.object("workflow")
	if msg.err != nil {
		return nil, msg.err
	}
	h.Workflow = &saga.Workflow{}
	for n, raw := range wf.array("steps") {
		o, err := parseObject(raw, fmt.Sprintf("step %d", n))
		if err != nil {
			return nil, err
		}
		s := saga.Step{Name: o.string("name"), DependsOn: o.strings("depends_on"), TimeoutUS: o.int64("timeout_us"),
			Retry: policy(o.object("retry")), Compensation: len(o.array("compensation"))}
		switch kind := o.string("type"); kind {
		case "sync-task", "async-task":
			s.Awaited = true
		case "fire-and-forget":
		default:
			o.fail(fmt.Errorf("%w: step %q has unknown type %q", ErrBadField, s.Name, kind))
		}
		if o.err != nil {
			return nil, o.err
		}
		h.Workflow.Steps = append(h.Workflow.Steps, s)
	}
	h.Workflow.CompensationRetry = policy(wf.object("compensation_retry"))
	return h, wf.err
}

// policy reads a retry policy; an error stays in o, and so reaches its parent.
func policy(o *object) saga.Policy {
	return saga.Policy{MaxAttempts: o.int64("max_attempts"), Backoff: saga.Backoff(o.string("backoff")),
		InitialUS: o.int64("initial_us"), CoefficientMilli: o.int64("coefficient_milli"), MaxUS: o.int64("max_us"),
		Jitter: saga.Jitter(o.string("jitter")), NonRetryable: o.strings("non_retryable")}
}

func decodeActivation(msg *object) (Message, error) {
	a := Activation{TimeUS: msg.int64("time_us")}
	events := msg.array("events")
	if msg.err != nil {
		return nil, msg.err
	}
	a.Events = make([]saga.Event, 0, len(events))
	for n, raw := range events {
		e, err := decodeEvent(raw, n)
		if err != nil {
			return nil, err
		}
		a.Events = append(a.Events, e)
	}
	return a, nil
}

func decodeEvent(raw json.RawMessage, n int) (saga.Event, error) {
	o, err := parseObject(raw, fmt.Sprintf("event %d", n))
	if err != nil {
		return nil, err
	}
	kind := o.optString("kind")
	if o.err != nil {
		return nil, o.err
	}
	if kind == nil {
		return nil, fmt.Errorf("%w: %s has none", ErrUnknownKind, o.what)
	}
	o.what = fmt.Sprintf("event %d (%s)", n, *kind)
	switch *kind {
	case "start":
		e := saga.Start{Instance: o.int64("instance")}
		return e, o.err
	case "timer":
		e := saga.TimerFired{Call: call(o)}
		return e, o.err
	case "result":
		e := saga.Result{Call: call(o), Outcome: saga.Outcome(o.string("outcome")), Error: o.optString("error")}
		switch e.Outcome {
		case saga.OK, saga.Failed, saga.TimedOut:
		default:
			o.fail(fmt.Errorf("%w %q in %s", ErrUnknownOutcome, e.Outcome, o.what))
		}
		return e, o.err
	}
	return nil, fmt.Errorf("%w %q", ErrUnknownKind, *kind)
}

func call(o *object) saga.Call {
	c := saga.Call{Instance: o.int64("instance"), Step: o.string("step"), Phase: saga.Phase(o.string("phase")),
		Action: o.int64("action"), Attempt: o.int64("attempt")}
	if o.err == nil && c.Phase != saga.Do && c.Phase != saga.Undo {
		o.fail(fmt.Errorf("%w %q in %s", ErrUnknownPhase, c.Phase, o.what))
	}
	return c
}

// object is a JSON object read field by field, by exact key. The first error sticks: later reads
// return zero values, and the caller checks err once.
type object struct {
	what   string // for messages: "the message", "step 2", "event 0 (timer)"
	fields map[string]json.RawMessage
	err    error
	parent *object // the object this one is a field of
}

func parseObject(raw []byte, what string) (*object, error) {
	o := &object{what: what}
	err := json.Unmarshal(raw, &o.fields)
	var syntax *json.SyntaxError
	switch {
	case errors.As(err, &syntax):
		return nil, fmt.Errorf("%w: %v (at byte %d)", ErrMalformed, syntax, syntax.Offset)
	case err != nil || o.fields == nil: // a JSON value, but not an object (null decodes to a nil map)
		return nil, fmt.Errorf("%w: %s is not a JSON object", ErrBadField, what)
	}
	return o, nil
}

// fail records err, the first error only, here and in the objects this one is nested in.
func (o *object) fail(err error) {
	if o.err == nil {
		o.err = err
	}
	if o.parent != nil {
		o.parent.fail(err)
	}
}

func (o *object) get(key string) (json.RawMessage, bool) {
	if o.err != nil {
		return nil, false
	}
	raw, ok := o.fields[key]
	if !ok {
		o.fail(fmt.Errorf("%w %q in %s", ErrMissingField, key, o.what))
	}
	return raw, ok
}

func (o *object) bad(key, want string, raw json.RawMessage) {
	o.fail(fmt.Errorf("%w: %q in %s must be %s, got %.60s", ErrBadField, key, o.what, want, raw))
}

func (o *object) int64(key string) int64 {
	raw, ok := o.get(key)
	if !ok {
		return 0
	}
	n, err := strconv.ParseInt(string(raw), 10, 64)
	if err != nil {
		o.bad(key, "an integer", raw)
	}
	return n
}

func (o *object) uint64(key string) uint64 {
	raw, ok := o.get(key)
	if !ok {
		return 0
	}
	n, err := strconv.ParseUint(string(raw), 10, 64)
	if err != nil {
		o.bad(key, "a non-negative integer", raw)
	}
	return n
}

func (o *object) string(key string) string {
	raw, ok := o.get(key)
	if !ok {
		return ""
	}
	var s string
	if raw[0] != '"' || json.Unmarshal(raw, &s) != nil {
		o.bad(key, "a string", raw)
	}
	return s
}

// optString reads a string that may be absent or null (nil).
func (o *object) optString(key string) *string {
	if raw, ok := o.fields[key]; !ok || string(raw) == "null" {
		return nil
	}
	s := o.string(key)
	return &s
}

func (o *object) strings(key string) []string {
	items := o.array(key)
	out := make([]string, len(items))
	for n, raw := range items {
		if raw[0] != '"' || json.Unmarshal(raw, &out[n]) != nil {
			o.bad(key, "a list of strings", raw)
		}
	}
	return out
}

func (o *object) array(key string) []json.RawMessage {
	raw, ok := o.get(key)
	if !ok {
		return nil
	}
	var items []json.RawMessage
	if raw[0] != '[' || json.Unmarshal(raw, &items) != nil {
		o.bad(key, "a list", raw)
	}
	return items
}

// object reads a nested object; its errors are also o's.
func (o *object) object(key string) *object {
	what := fmt.Sprintf("%q of %s", key, o.what)
	raw, ok := o.get(key)
	if !ok {
		return &object{what: what, err: o.err}
	}
	child, err := parseObject(raw, what)
	if err != nil {
		o.fail(err)
		return &object{what: what, err: err}
	}
	child.parent = o
	return child
}
