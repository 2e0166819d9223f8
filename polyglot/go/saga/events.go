package saga

// The vocabulary of the rules: the events an activation brings and the commands that answer it.

// Phase says whether a call is the step itself or one of its compensation actions.
type Phase string

const (
	Do   Phase = "do"
	Undo Phase = "undo"
)

// Outcome is how an invoked call ended.
type Outcome string

const (
	OK       Outcome = "ok"
	Failed   Outcome = "error"
	TimedOut Outcome = "timeout" // indefinite: the work may have happened
)

// Call names one attempt of a step (Do, action 0) or of one of its compensation actions (Undo).
type Call struct {
	Instance int64
	Step     string
	Phase    Phase
	Action   int64
	Attempt  int64
}

// Event is one of Start, Result, TimerFired.
type Event interface{ isEvent() }

// Start begins a new instance of the workflow.
type Start struct{ Instance int64 }

// Result is the outcome of an invoked call; Error names the error of a Failed outcome.
type Result struct {
	Call
	Outcome Outcome
	Error   *string
}

// TimerFired reports that a timer the orchestrator started has fired.
type TimerFired struct{ Call }

func (Start) isEvent()      {}
func (Result) isEvent()     {}
func (TimerFired) isEvent() {}

// Command is one of Invoke, StartTimer, RecordStep, Finish.
type Command interface{ isCommand() }

// Invoke calls a step's service or a compensation action. TimeoutUS is nil for a fire-and-forget step.
type Invoke struct {
	Call
	TimeoutUS *int64
}

// StartTimer asks for a TimerFired for Call (the attempt it will start) after DelayUS.
type StartTimer struct {
	Call
	DelayUS int64
}

// RecordStep records a step's fate. Attempt and Info may be absent (nil).
type RecordStep struct {
	Instance int64
	Step     string
	Status   string // completed, failed, skipped, compensated, exhausted
	Attempt  *int64
	Info     *string
}

// Finish ends an instance: completed, compensated, failed or needs_intervention.
type Finish struct {
	Instance int64
	Status   string
}

func (Invoke) isCommand()     {}
func (StartTimer) isCommand() {}
func (RecordStep) isCommand() {}
func (Finish) isCommand()     {}
