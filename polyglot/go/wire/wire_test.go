package wire

import (
	"errors"
	"reflect"
	"testing"

	"polyglot/saga"
)

const policyJSON = `{"max_attempts":3,"backoff":"exponential","initial_us":1000000,"coefficient_milli":2000,` +
	`"max_us":100000000,"jitter":"none","non_retryable":["CardDeclined"]}`

const helloJSON = `{"type":"hello","protocol":1,"seed":7,"future":{"ignored":true},"workflow":{"name":"w","version":"1",` +
	`"steps":[{"name":"a","type":"sync-task","service":"s","endpoint":"/a","topic":null,"depends_on":[],` +
	`"timeout_us":5000000,"retry":` + policyJSON + `,"compensation":[{"service":"s","topic":"a.undo","endpoint":null}]},` +
	`{"name":"b","type":"fire-and-forget","service":"s","endpoint":null,"topic":"b","depends_on":["a"],` +
	`"timeout_us":1000000,"retry":` + policyJSON + `,"compensation":[]}],"compensation_retry":` + policyJSON + `}}`

func TestDecodeHello(t *testing.T) {
	msg, err := Decode([]byte(helloJSON))
	if err != nil {
		t.Fatal(err)
	}
	h := msg.(Hello)
	policy := saga.Policy{MaxAttempts: 3, Backoff: saga.Exponential, InitialUS: 1_000_000, CoefficientMilli: 2000,
		MaxUS: 100_000_000, Jitter: saga.NoJitter, NonRetryable: []string{"CardDeclined"}}
	want := &saga.Workflow{Steps: []saga.Step{
		{Name: "a", Awaited: true, DependsOn: []string{}, TimeoutUS: 5_000_000, Retry: policy, Compensation: 1},
		{Name: "b", Awaited: false, DependsOn: []string{"a"}, TimeoutUS: 1_000_000, Retry: policy},
	}, CompensationRetry: policy}
	if h.Seed != 7 || !reflect.DeepEqual(h.Workflow, want) {
		t.Errorf("got %+v %+v", h.Seed, h.Workflow)
	}
}

func TestDecodeActivation(t *testing.T) {
	line := `{"time_us":1500000,"replay":true,"type":"activation","events":[{"kind":"start","instance":4},` +
		`{"kind":"result","instance":4,"step":"a","phase":"undo","action":1,"attempt":2,"outcome":"error",` +
		`"error":"ServiceError","extra":[1,2]},{"kind":"result","instance":4,"step":"a","phase":"do","action":0,` +
		`"attempt":1,"outcome":"ok","error":null},{"kind":"timer","instance":4,"step":"a","phase":"do","action":0,"attempt":3}]}`
	msg, err := Decode([]byte(line))
	if err != nil {
		t.Fatal(err)
	}
	e := "ServiceError"
	want := Activation{TimeUS: 1_500_000, Events: []saga.Event{
		saga.Start{Instance: 4},
		saga.Result{Call: saga.Call{Instance: 4, Step: "a", Phase: saga.Undo, Action: 1, Attempt: 2}, Outcome: saga.Failed, Error: &e},
		saga.Result{Call: saga.Call{Instance: 4, Step: "a", Phase: saga.Do, Attempt: 1}, Outcome: saga.OK},
		saga.TimerFired{Call: saga.Call{Instance: 4, Step: "a", Phase: saga.Do, Attempt: 3}},
	}}
	if !reflect.DeepEqual(msg, want) {
		t.Errorf("got %+v\nwant %+v", msg, want)
	}
}

func TestBadInputIsRefused(t *testing.T) {
	tests := []struct {
		name, line string
		want       error
	}{
		{"empty line", ``, ErrMalformed},
		{"truncated JSON", `{"type":"activation",`, ErrMalformed},
		{"not JSON", `hello`, ErrMalformed},
		{"not an object", `[1,2]`, ErrBadField},
		{"null", `null`, ErrBadField},
		{"no type", `{}`, ErrUnknownType},
		{"unknown type", `{"type":"greeting"}`, ErrUnknownType},
		{"type is case-sensitive", `{"Type":"shutdown"}`, ErrUnknownType},
		{"activation without events", `{"type":"activation","time_us":0}`, ErrMissingField},
		{"activation without time", `{"type":"activation","events":[]}`, ErrMissingField},
		{"a float time", `{"type":"activation","time_us":1.5,"events":[]}`, ErrBadField},
		{"events not a list", `{"type":"activation","time_us":0,"events":{}}`, ErrBadField},
		{"unknown event kind", `{"type":"activation","time_us":0,"events":[{"kind":"signal","instance":0}]}`, ErrUnknownKind},
		{"event without kind", `{"type":"activation","time_us":0,"events":[{"instance":0}]}`, ErrUnknownKind},
		{"start without instance", `{"type":"activation","time_us":0,"events":[{"kind":"start"}]}`, ErrMissingField},
		{"instance as a string", `{"type":"activation","time_us":0,"events":[{"kind":"start","instance":"0"}]}`, ErrBadField},
		{"timer without attempt", `{"type":"activation","time_us":0,"events":[{"kind":"timer","instance":0,"step":"a",` +
			`"phase":"do","action":0}]}`, ErrMissingField},
		{"unknown phase", `{"type":"activation","time_us":0,"events":[{"kind":"timer","instance":0,"step":"a",` +
			`"phase":"redo","action":0,"attempt":1}]}`, ErrUnknownPhase},
		{"result without outcome", `{"type":"activation","time_us":0,"events":[{"kind":"result","instance":0,"step":"a",` +
			`"phase":"do","action":0,"attempt":1}]}`, ErrMissingField},
		{"unknown outcome", `{"type":"activation","time_us":0,"events":[{"kind":"result","instance":0,"step":"a",` +
			`"phase":"do","action":0,"attempt":1,"outcome":"maybe"}]}`, ErrUnknownOutcome},
		{"hello without seed", `{"type":"hello","workflow":{}}`, ErrMissingField},
		{"negative seed", `{"type":"hello","seed":-1,"workflow":{}}`, ErrBadField},
		{"another protocol", `{"type":"hello","protocol":2,"seed":1,"workflow":{}}`, ErrBadField},
		{"workflow without steps", `{"type":"hello","seed":1,"workflow":{"compensation_retry":` + policyJSON + `}}`,
			ErrMissingField},
		{"a policy without jitter", `{"type":"hello","seed":1,"workflow":{"steps":[],"compensation_retry":` +
			`{"max_attempts":3,"backoff":"linear","initial_us":1,"coefficient_milli":2000,"max_us":1,"non_retryable":[]}}}`,
			ErrMissingField},
		{"an unknown step type", `{"type":"hello","seed":1,"workflow":{"steps":[{"name":"a","type":"batch",` +
			`"depends_on":[],"timeout_us":1,"retry":` + policyJSON + `,"compensation":[]}],"compensation_retry":` +
			policyJSON + `}}`, ErrBadField},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := Decode([]byte(tt.line)); !errors.Is(err, tt.want) {
				t.Errorf("got %v, want %v", err, tt.want)
			}
		})
	}
}

func TestEncodeCommands(t *testing.T) {
	timeout, k, info := int64(5_000_000), int64(2), "indefinite"
	commands := []saga.Command{
		saga.Invoke{Call: saga.Call{Instance: 1, Step: "a", Phase: saga.Do, Attempt: 1}, TimeoutUS: &timeout},
		saga.Invoke{Call: saga.Call{Instance: 1, Step: "b", Phase: saga.Do, Attempt: 1}},
		saga.StartTimer{Call: saga.Call{Instance: 1, Step: "a", Phase: saga.Undo, Action: 1, Attempt: 2}, DelayUS: 750},
		saga.RecordStep{Instance: 1, Step: "a", Status: "failed", Attempt: &k, Info: &info},
		saga.RecordStep{Instance: 1, Step: "<b>", Status: "skipped"},
		saga.Finish{Instance: 1, Status: "needs_intervention"},
	}
	want := `{"type":"commands","time_us":42,"commands":[` +
		`{"cmd":"invoke","instance":1,"step":"a","phase":"do","action":0,"attempt":1,"timeout_us":5000000},` +
		`{"cmd":"invoke","instance":1,"step":"b","phase":"do","action":0,"attempt":1,"timeout_us":null},` +
		`{"cmd":"timer","instance":1,"step":"a","phase":"undo","action":1,"attempt":2,"delay_us":750},` +
		`{"cmd":"step","instance":1,"step":"a","status":"failed","attempt":2,"info":"indefinite"},` +
		`{"cmd":"step","instance":1,"step":"<b>","status":"skipped","attempt":null,"info":null},` +
		`{"cmd":"finish","instance":1,"status":"needs_intervention"}]}` + "\n"
	if got := string(Commands(42, commands)); got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
	if got := string(Commands(0, []saga.Command{})); got != `{"type":"commands","time_us":0,"commands":[]}`+"\n" {
		t.Errorf("no commands: got %s", got)
	}
}
