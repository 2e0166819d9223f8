// Command orchestrator speaks polyglot/PROTOCOL.md on stdin and stdout: it reads the world's
// JSON lines, lets the saga core decide, and writes one line per hello and per activation.
// Bad input ends in {"type":"error","message":...} on stdout and exit status 2.
package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"

	"polyglot/saga"
	"polyglot/wire"
)

func main() {
	os.Exit(run(os.Stdin, os.Stdout, os.Stderr))
}

// errBeforeHello: an activation came before the hello that gives the workflow.
var errBeforeHello = errors.New("an activation before hello")

// run serves the protocol until shutdown or the end of its input and returns the exit status:
// 0, 2 after bad input (answered with the protocol's error line), 1 if stdin or stdout fails.
func run(stdin io.Reader, stdout, stderr io.Writer) (status int) {
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
			fmt.Fprintf(stderr, "orchestrator: internal error at line %d: %v\n", n, p)
			_ = write(wire.Error(fmt.Sprintf("line %d: internal error: %v", n, p)))
			status = 2
		}
	}()
	var decider *saga.Decider
	for {
		line, err := in.ReadBytes('\n')
		if len(line) == 0 && errors.Is(err, io.EOF) {
			return 0
		}
		if err != nil && !errors.Is(err, io.EOF) {
			fmt.Fprintf(stderr, "orchestrator: reading stdin: %v\n", err)
			return 1
		}
		n++
		answer, stop, err := serve(&decider, line)
		if err != nil {
			fmt.Fprintf(stderr, "orchestrator: line %d: %v\n", n, err)
			answer, stop, status = wire.Error(fmt.Sprintf("line %d: %v", n, err)), true, 2
		}
		if answer != nil {
			if err := write(answer); err != nil {
				fmt.Fprintf(stderr, "orchestrator: writing stdout: %v\n", err)
				return 1
			}
		}
		if stop {
			return status
		}
	}
}

// serve answers one line: hello creates the decider, an activation feeds it, shutdown stops.
func serve(decider **saga.Decider, line []byte) (answer []byte, stop bool, err error) {
	msg, err := wire.Decode(line)
	if err != nil {
		return nil, true, err
	}
	switch msg := msg.(type) {
	case wire.Hello:
		d, err := saga.New(msg.Workflow, msg.Seed)
		if err != nil {
			return nil, true, err
		}
		*decider = d
		return wire.Ready(), false, nil
	case wire.Activation:
		if *decider == nil {
			return nil, true, errBeforeHello
		}
		commands, err := (*decider).Activate(msg.Events)
		if err != nil {
			return nil, true, err
		}
		return wire.Commands(msg.TimeUS, commands), false, nil
	case wire.Shutdown:
		return nil, true, nil
	}
	return nil, true, fmt.Errorf("unhandled message %T", msg)
}
