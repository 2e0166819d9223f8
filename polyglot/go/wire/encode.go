package wire

import (
	"bytes"
	"encoding/json"
	"fmt"

	"polyglot/saga"
)

// The commands on the wire. Every field is always written: an absent attempt, info or timeout_us is
// null, as in the reference. Keys come in the reference's order (the order does not matter to JSON).
type (
	invokeJSON struct {
		Cmd       string     `json:"cmd"`
		Instance  int64      `json:"instance"`
		Step      string     `json:"step"`
		Phase     saga.Phase `json:"phase"`
		Action    int64      `json:"action"`
		Attempt   int64      `json:"attempt"`
		TimeoutUS *int64     `json:"timeout_us"`
	}
	timerJSON struct {
		Cmd      string     `json:"cmd"`
		Instance int64      `json:"instance"`
		Step     string     `json:"step"`
		Phase    saga.Phase `json:"phase"`
		Action   int64      `json:"action"`
		Attempt  int64      `json:"attempt"`
		DelayUS  int64      `json:"delay_us"`
	}
	stepJSON struct {
		Cmd      string  `json:"cmd"`
		Instance int64   `json:"instance"`
		Step     string  `json:"step"`
		Status   string  `json:"status"`
		Attempt  *int64  `json:"attempt"`
		Info     *string `json:"info"`
	}
	finishJSON struct {
		Cmd      string `json:"cmd"`
		Instance int64  `json:"instance"`
		Status   string `json:"status"`
	}
)

func commandJSON(c saga.Command) interface{} {
	switch c := c.(type) {
	case saga.Invoke:
		return invokeJSON{"invoke", c.Instance, c.Step, c.Phase, c.Action, c.Attempt, c.TimeoutUS}
	case saga.StartTimer:
		return timerJSON{"timer", c.Instance, c.Step, c.Phase, c.Action, c.Attempt, c.DelayUS}
	case saga.RecordStep:
		return stepJSON{"step", c.Instance, c.Step, c.Status, c.Attempt, c.Info}
	case saga.Finish:
		return finishJSON{"finish", c.Instance, c.Status}
	}
	panic(fmt.Sprintf("wire: unknown command %T", c))
}

// Commands is the answer to an activation at timeUS, newline included.
func Commands(timeUS int64, commands []saga.Command) []byte {
	out := make([]interface{}, len(commands))
	for n, c := range commands {
		out[n] = commandJSON(c)
	}
	return line(struct {
		Type     string        `json:"type"`
		TimeUS   int64         `json:"time_us"`
		Commands []interface{} `json:"commands"`
	}{"commands", timeUS, out})
}

// Ready is the answer to hello, newline included.
func Ready() []byte { return []byte("{\"type\":\"ready\"}\n") }

// Error is the protocol's error message, newline included.
func Error(message string) []byte {
	return line(struct {
		Type    string `json:"type"`
		Message string `json:"message"`
	}{"error", message})
}

func line(v interface{}) []byte {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil { // only plain structs of strings and integers: cannot fail
		panic(fmt.Sprintf("wire: %v", err))
	}
	return b.Bytes()
}
