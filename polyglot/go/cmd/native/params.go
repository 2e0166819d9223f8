package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"time"
)

// params are an experiment's JSON parameters: the common ones decoded and checked here, the rest read by
// each experiment through intParam, floatParam and boolParam (so a wrong type is a bad input, exit 2).
// Keys nobody reads are ignored, as the Python reference does: the driver may pass the same extras to all.
type params struct {
	raw         map[string]any
	latency     [numSteps]time.Duration
	failureRate float64
	seed        int64
}

// The workflow's five steps, in order; reserve-inventory and process-payment run in parallel.
const (
	validateOrder = iota
	reserveInventory
	processPayment
	shipOrder
	sendConfirmation
	numSteps
)

func parseParams(text []byte) (*params, error) {
	dec := json.NewDecoder(bytes.NewReader(text))
	dec.UseNumber()
	var raw any
	if err := dec.Decode(&raw); err != nil {
		return nil, fmt.Errorf("params are not JSON: %v", err)
	}
	if dec.More() {
		return nil, errors.New("params are one JSON object, with nothing after it")
	}
	obj, ok := raw.(map[string]any)
	if !ok {
		return nil, errors.New("params are a JSON object")
	}
	p := &params{raw: obj}
	if v, ok := obj["flavor"]; ok {
		if s, _ := v.(string); s != flavor {
			return nil, fmt.Errorf("flavor is one of %s, got %s", flavor, show(v))
		}
	}
	latency := []float64{5, 10, 10, 10, 5}
	if v, ok := obj["latency_ms"]; ok {
		list, _ := v.([]any)
		if len(list) != numSteps {
			return nil, fmt.Errorf("latency_ms lists %d numbers, one per step, got %s", numSteps, show(v))
		}
		for k, x := range list {
			ms, err := number(x)
			if err != nil || ms < 0 || ms > 3.6e6 {
				return nil, fmt.Errorf("latency_ms[%d] is a number of milliseconds from 0 to 3600000, got %s", k, show(x))
			}
			latency[k] = ms
		}
	}
	for k, ms := range latency {
		p.latency[k] = millis(ms)
	}
	var err error
	if p.failureRate, err = p.floatParam("failure_rate", 0, 0, 1); err != nil {
		return nil, err
	}
	if p.seed, err = p.intParam("seed", 0, math.MinInt64, math.MaxInt64); err != nil {
		return nil, err
	}
	return p, nil
}

// intParam is the integer params[name], or def if absent; an integer-valued float (1e6) is accepted.
func (p *params) intParam(name string, def, lo, hi int64) (int64, error) {
	v, ok := p.raw[name]
	if !ok {
		return def, nil
	}
	bad := fmt.Errorf("%s is an integer from %d to %d, got %s", name, lo, hi, show(v))
	n, isNum := v.(json.Number)
	if !isNum {
		return 0, bad
	}
	i, err := n.Int64()
	if err != nil {
		f, ferr := n.Float64()
		if ferr != nil || f != math.Trunc(f) || f < -9.2e18 || f > 9.2e18 {
			return 0, bad
		}
		i = int64(f)
	}
	if i < lo || i > hi {
		return 0, bad
	}
	return i, nil
}

func (p *params) floatParam(name string, def, lo, hi float64) (float64, error) {
	v, ok := p.raw[name]
	if !ok {
		return def, nil
	}
	f, err := number(v)
	if err != nil || f < lo || f > hi {
		return 0, fmt.Errorf("%s is a number from %g to %g, got %s", name, lo, hi, show(v))
	}
	return f, nil
}

func (p *params) boolParam(name string, def bool) (bool, error) {
	v, ok := p.raw[name]
	if !ok {
		return def, nil
	}
	b, isBool := v.(bool)
	if !isBool {
		return false, fmt.Errorf("%s is true or false, got %s", name, show(v))
	}
	return b, nil
}

func number(v any) (float64, error) {
	n, ok := v.(json.Number)
	if !ok {
		return 0, errors.New("not a number")
	}
	f, err := n.Float64()
	if err != nil || math.IsInf(f, 0) {
		return 0, errors.New("not a finite number")
	}
	return f, nil
}

// millis converts milliseconds (possibly fractional) to a Duration.
func millis(ms float64) time.Duration {
	return time.Duration(ms * float64(time.Millisecond))
}

// show is a value as it was written in the params, for error messages.
func show(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}
