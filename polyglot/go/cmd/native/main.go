// Command native is Go's native mode (polyglot/NATIVE.md): the order-fulfillment workflow run by many
// goroutines at once against in-process fake services, measured, and reported as one JSON object.
//
//	polyglot/go/bin/native concurrency '{"n": 100000}'
//	polyglot/go/bin/native cpu_step '{"fix": true}'
//	polyglot/go/bin/native cancellation '{"cancel": true}'
//	polyglot/go/bin/native startup '{}'
//
// One JSON object on stdout and exit status 0; on bad input {"error": ...} and exit status 2.
// Standard library only. It shares nothing with the protocol orchestrator (cmd/orchestrator).
package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"runtime"
	"time"
)

// start is the program's own entry: package-level variables are initialised before main runs, after
// the Go runtime itself has started (that part only the driver's clock, from exec, sees).
var start = time.Now()

const flavor = "goroutines"

func main() {
	os.Exit(run(os.Args[1:], os.Stdout))
}

// experiments by name; each returns its own fields, in order, or an error for bad params.
var experiments = map[string]func(*params) (fields, error){
	"concurrency":  concurrency,
	"cpu_step":     cpuStep,
	"cancellation": cancellation,
	"startup":      startup,
}

// run executes one experiment and writes its result; the exit status is 0, or 2 after bad input.
func run(args []string, stdout io.Writer) int {
	fail := func(err error) int {
		line, _ := json.Marshal(map[string]string{"error": err.Error()})
		fmt.Fprintf(stdout, "%s\n", line)
		return 2
	}
	if len(args) == 1 && experiments[args[0]] != nil {
		args = append(args, "{}") // startup needs no params; neither, with defaults, do most others
	}
	if len(args) != 2 || experiments[args[0]] == nil {
		return fail(fmt.Errorf("usage: native {concurrency|cpu_step|cancellation|startup} '<params as JSON>'"))
	}
	p, err := parseParams([]byte(args[1]))
	if err != nil {
		return fail(err)
	}
	result, err := experiments[args[0]](p)
	if err != nil {
		return fail(err)
	}
	var echo bytes.Buffer
	_ = json.Compact(&echo, []byte(args[1])) // valid: parseParams decoded it
	out := fields{
		{"language", "go"}, {"flavor", flavor}, {"experiment", args[0]}, {"params", json.RawMessage(echo.Bytes())},
		// the runtime this ran on: GOMAXPROCS is left at its default (the number of CPUs), never set here
		{"go_version", runtime.Version()}, {"gomaxprocs", runtime.GOMAXPROCS(0)}, {"num_cpu", runtime.NumCPU()},
		{"gomaxprocs_source", gomaxprocsSource()},
	}
	line, err := json.Marshal(append(out, result...))
	if err != nil { // a NaN or an infinity would land here; nothing produces one
		return fail(fmt.Errorf("internal error: %v", err))
	}
	fmt.Fprintf(stdout, "%s\n", line)
	return 0
}

// gomaxprocsSource says where GOMAXPROCS came from: this program never sets it, so it is the runtime's
// default (the number of CPUs the process may use) unless the environment variable overrides it.
func gomaxprocsSource() string {
	if v, ok := os.LookupEnv("GOMAXPROCS"); ok {
		return "environment: GOMAXPROCS=" + v
	}
	return "default: NumCPU"
}

// fields is a JSON object that keeps its keys in the order given (encoding/json sorts a map's).
type fields []field

type field struct {
	key   string
	value any
}

func (fs fields) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, f := range fs {
		if i > 0 {
			b.WriteByte(',')
		}
		k, _ := json.Marshal(f.key)
		v, err := json.Marshal(f.value)
		if err != nil {
			return nil, fmt.Errorf("field %s: %w", f.key, err)
		}
		b.Write(k)
		b.WriteByte(':')
		b.Write(v)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// -- experiment startup ---------------------------------------------------------------------------------

func startup(*params) (fields, error) {
	return fields{{"seconds_to_ready", time.Since(start).Seconds()}}, nil
}
