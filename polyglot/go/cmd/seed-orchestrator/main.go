// Command seed-orchestrator is the outline's Go listing (Phase 2, OrderFulfillmentWorkflow) ported
// onto polyglot/PROTOCOL.md with its control flow and bugs kept (package seed). It speaks the
// protocol exactly as the conforming orchestrator does — the same wire package — but its decisions
// are the listing's. $SEED_FIXES lists the bugs to fix ("1,3"), numbered as in polyglot/LISTINGS.md.
// Bad input, or a bad $SEED_FIXES, ends in {"type":"error","message":...} on stdout and exit status 2.
package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"

	"polyglot/seed"
	"polyglot/wire"
)

func main() {
	os.Exit(run(os.Stdin, os.Stdout, os.Stderr, os.Getenv("SEED_FIXES")))
}

var errBeforeHello = errors.New("an activation before hello")

// run serves the protocol until shutdown or the end of its input and returns the exit status:
// 0, 2 after bad input (answered with the protocol's error line), 1 if stdin or stdout fails.
func run(stdin io.Reader, stdout, stderr io.Writer, fixes string) (status int) {
	in, out := bufio.NewReaderSize(stdin, 1<<16), bufio.NewWriterSize(stdout, 1<<16)
	write := func(line []byte) error {
		if _, err := out.Write(line); err != nil {
			return err
		}
		return out.Flush()
	}
	n := 0
	defer func() { // a bug still ends in the protocol's error line, never in a trace on stdout
		if p := recover(); p != nil {
			fmt.Fprintf(stderr, "seed-orchestrator: internal error at line %d: %v\n", n, p)
			_ = write(wire.Error(fmt.Sprintf("line %d: internal error: %v", n, p)))
			status = 2
		}
	}()
	s := &server{}
	s.fixes, s.fixesErr = seed.ParseFixes(fixes)
	for {
		line, err := in.ReadBytes('\n')
		if len(line) == 0 && errors.Is(err, io.EOF) {
			return 0
		}
		if err != nil && !errors.Is(err, io.EOF) {
			fmt.Fprintf(stderr, "seed-orchestrator: reading stdin: %v\n", err)
			return 1
		}
		n++
		answer, stop, err := s.serve(line)
		if err != nil {
			fmt.Fprintf(stderr, "seed-orchestrator: line %d: %v\n", n, err)
			answer, stop, status = wire.Error(fmt.Sprintf("line %d: %v", n, err)), true, 2
		}
		if answer != nil {
			if err := write(answer); err != nil {
				fmt.Fprintf(stderr, "seed-orchestrator: writing stdout: %v\n", err)
				return 1
			}
		}
		if stop {
			return status
		}
	}
}

type server struct {
	fixes    seed.Fixes
	fixesErr error
	orch     *seed.Orchestrator
}

// serve answers one line: hello creates the orchestrator, an activation feeds it, shutdown stops.
func (s *server) serve(line []byte) (answer []byte, stop bool, err error) {
	msg, err := wire.Decode(line)
	if err != nil {
		return nil, true, err
	}
	switch msg := msg.(type) {
	case wire.Hello:
		if s.fixesErr != nil {
			return nil, true, s.fixesErr
		}
		o, err := seed.New(msg.Workflow, s.fixes)
		if err != nil {
			return nil, true, err
		}
		s.orch = o
		return wire.Ready(), false, nil
	case wire.Activation:
		if s.orch == nil {
			return nil, true, errBeforeHello
		}
		commands, err := s.orch.Activate(msg.Events)
		if err != nil {
			return nil, true, err
		}
		return wire.Commands(msg.TimeUS, commands), false, nil
	case wire.Shutdown:
		return nil, true, nil
	}
	return nil, true, fmt.Errorf("unhandled message %T", msg)
}
