package saga

import (
	"errors"
	"fmt"
)

// MaxDuration is the largest duration the protocol carries: 2^32 − 1 µs, about 71 minutes.
const MaxDuration = 1<<32 - 1

// ErrInvalidWorkflow is wrapped by every complaint about a workflow or a policy.
var ErrInvalidWorkflow = errors.New("invalid workflow")

// Backoff is how the base wait grows with the attempt number.
type Backoff string

// Jitter is how a base wait is spread with the keyed draw.
type Jitter string

const (
	Exponential Backoff = "exponential"
	Linear      Backoff = "linear"
	Constant    Backoff = "constant"

	NoJitter     Jitter = "none"
	Full         Jitter = "full"
	Equal        Jitter = "equal"
	Decorrelated Jitter = "decorrelated"
)

// Policy is a retry policy as the canonical workflow carries it: integers only.
type Policy struct {
	MaxAttempts      int64
	Backoff          Backoff
	InitialUS        int64
	CoefficientMilli int64 // the backoff coefficient × 1000
	MaxUS            int64
	Jitter           Jitter
	NonRetryable     []string
}

// Step is what the decisions need of one workflow step.
type Step struct {
	Name         string
	Awaited      bool // false for a fire-and-forget step: published, never awaited
	DependsOn    []string
	TimeoutUS    int64
	Retry        Policy
	Compensation int // how many compensation actions it has, run in order
}

// Workflow is the canonical workflow: steps in declaration order and the compensation retry policy.
type Workflow struct {
	Steps             []Step
	CompensationRetry Policy

	index       map[string]int // step name -> position in Steps
	deps        [][]int        // dependencies of each step, as positions
	order       []int          // the topological order, ties by declaration (Kahn, FIFO)
	descendants [][]int        // the steps depending on each step, directly or transitively
}

// Order is the steps' names in the topological order the rules use.
func (w *Workflow) Order() []string {
	names := make([]string, len(w.order))
	for i, s := range w.order {
		names[i] = w.Steps[s].Name
	}
	return names
}

// compile checks the workflow and derives the order, dependency positions and descendants.
func (w *Workflow) compile() error {
	index := make(map[string]int, len(w.Steps))
	for i, s := range w.Steps {
		if _, dup := index[s.Name]; dup {
			return fmt.Errorf("%w: step %q is declared twice", ErrInvalidWorkflow, s.Name)
		}
		index[s.Name] = i
		if s.TimeoutUS < 0 || s.TimeoutUS > MaxDuration {
			return fmt.Errorf("%w: step %q: timeout_us %d is outside [0, %d]", ErrInvalidWorkflow, s.Name, s.TimeoutUS, MaxDuration)
		}
		if s.Compensation < 0 {
			return fmt.Errorf("%w: step %q: negative compensation count", ErrInvalidWorkflow, s.Name)
		}
		if err := s.Retry.check(); err != nil {
			return fmt.Errorf("step %q: retry: %w", s.Name, err)
		}
	}
	if err := w.CompensationRetry.check(); err != nil {
		return fmt.Errorf("compensation_retry: %w", err)
	}
	deps := make([][]int, len(w.Steps))
	dependents := make([][]int, len(w.Steps))
	for i, s := range w.Steps {
		for _, name := range s.DependsOn {
			d, ok := index[name]
			if !ok {
				return fmt.Errorf("%w: step %q depends on %q, which is not a step", ErrInvalidWorkflow, s.Name, name)
			}
			deps[i] = append(deps[i], d)
			dependents[d] = append(dependents[d], i)
		}
	}
	// Kahn's algorithm: ready steps leave first-in first-out, in the order they became ready.
	indegree := make([]int, len(w.Steps))
	var ready, order []int
	for i := range w.Steps {
		indegree[i] = len(deps[i])
		if indegree[i] == 0 {
			ready = append(ready, i)
		}
	}
	for len(ready) > 0 {
		s := ready[0]
		ready = ready[1:]
		order = append(order, s)
		for _, d := range dependents[s] {
			if indegree[d]--; indegree[d] == 0 {
				ready = append(ready, d)
			}
		}
	}
	if len(order) != len(w.Steps) {
		return fmt.Errorf("%w: the dependencies form a cycle", ErrInvalidWorkflow)
	}
	// A step's descendants: every step reached through dependents, listed in the topological order.
	descendants := make([][]int, len(w.Steps))
	for s := range w.Steps {
		reached := make([]bool, len(w.Steps))
		for stack := append([]int(nil), dependents[s]...); len(stack) > 0; {
			d := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			if !reached[d] {
				reached[d] = true
				stack = append(stack, dependents[d]...)
			}
		}
		for _, d := range order {
			if reached[d] {
				descendants[s] = append(descendants[s], d)
			}
		}
	}
	w.index, w.deps, w.order, w.descendants = index, deps, order, descendants
	return nil
}

func (p Policy) check() error {
	switch {
	case p.MaxAttempts < 1:
		return fmt.Errorf("%w: max_attempts %d is less than 1", ErrInvalidWorkflow, p.MaxAttempts)
	case p.Backoff != Exponential && p.Backoff != Linear && p.Backoff != Constant:
		return fmt.Errorf("%w: unknown backoff %q", ErrInvalidWorkflow, p.Backoff)
	case p.Jitter != NoJitter && p.Jitter != Full && p.Jitter != Equal && p.Jitter != Decorrelated:
		return fmt.Errorf("%w: unknown jitter %q", ErrInvalidWorkflow, p.Jitter)
	case p.InitialUS < 0 || p.InitialUS > MaxDuration || p.MaxUS < 0 || p.MaxUS > MaxDuration:
		return fmt.Errorf("%w: initial_us and max_us must be in [0, %d]", ErrInvalidWorkflow, MaxDuration)
	case p.CoefficientMilli < 0:
		return fmt.Errorf("%w: negative coefficient_milli %d", ErrInvalidWorkflow, p.CoefficientMilli)
	}
	return nil
}

func (p Policy) retryable(err *string) bool {
	if err == nil {
		return true
	}
	for _, e := range p.NonRetryable {
		if e == *err {
			return false
		}
	}
	return true
}
