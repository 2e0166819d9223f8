package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// -- experiment concurrency: n instances in flight at once, one goroutine each ----------------------------

const maxInstances = 1_000_000 // NATIVE.md: n from 1 to 10⁶

func concurrency(p *params) (fields, error) {
	if _, ok := p.raw["n"]; !ok {
		return nil, errors.New("concurrency needs n, the number of instances (1 to 1000000)")
	}
	n64, err := p.intParam("n", 0, 1, maxInstances)
	if err != nil {
		return nil, err
	}
	n := int(n64)
	idle := readRSS()
	var completed, failed, inFlight, inFlightPeak atomic.Int64
	var wg sync.WaitGroup
	// The starting gun: every goroutine is created first and parks here until the last one exists, so all
	// n are in flight together (as with the asyncio reference, whose tasks start when main awaits). Without
	// it, 30 ms instances spawned over a second would mostly be done before the last one starts, and the
	// memory slope would not be per in-flight instance.
	gate := make(chan struct{})
	t0 := time.Now()
	wg.Add(n)
	for i := 0; i < n; i++ {
		go func(i int) {
			defer wg.Done()
			<-gate
			raise(&inFlightPeak, inFlight.Add(1))
			if workflow(p, i, 0) {
				completed.Add(1)
			} else {
				failed.Add(1)
			}
			inFlight.Add(-1)
		}(i)
	}
	spawned := time.Since(t0)
	goroutines := runtime.NumGoroutine() // all n parked on the gate, plus main
	close(gate)
	wg.Wait()
	wall := time.Since(t0)
	peak := readRSS()
	return fields{
		{"rss_idle", idle.rss}, {"rss_peak", peak.hwm},
		{"spawn_seconds", spawned.Seconds()}, {"wall_seconds", wall.Seconds()},
		{"completed", completed.Load()}, {"failed", failed.Load()},
		{"in_flight_peak", inFlightPeak.Load()}, {"goroutines_at_spawn", goroutines},
	}, nil
}

// raise sets max to v if v is larger.
func raise(max *atomic.Int64, v int64) {
	for {
		m := max.Load()
		if v <= m || max.CompareAndSwap(m, v) {
			return
		}
	}
}

// -- experiment cpu_step: one instance in `every` has a CPU-bound payment --------------------------------

func cpuStep(p *params) (fields, error) {
	n64, err := p.intParam("n", 1000, 1, maxInstances)
	if err != nil {
		return nil, err
	}
	cpuMs, err := p.floatParam("cpu_ms", 50, 0, 60_000)
	if err != nil {
		return nil, err
	}
	every, err := p.intParam("every", 100, 1, math.MaxInt32)
	if err != nil {
		return nil, err
	}
	// fix is read, checked and echoed, and changes nothing: the Go scheduler already preempts a CPU-bound
	// goroutine (asynchronously, since Go 1.14) and runs the others on its GOMAXPROCS Ps meanwhile.
	// There is no spawn_blocking, worker or executor to move the work to: it is a goroutine already.
	if _, err := p.boolParam("fix", false); err != nil {
		return nil, err
	}
	n, cpu := int(n64), millis(cpuMs)
	latencies := make([]time.Duration, n) // each goroutine writes only its own element
	var wg sync.WaitGroup
	t0 := time.Now()
	wg.Add(n)
	for i := 0; i < n; i++ {
		go func(i int) {
			defer wg.Done()
			time.Sleep(time.Until(t0.Add(time.Second * time.Duration(i) / time.Duration(n)))) // a steady arrival rate over one second
			began, work := time.Now(), time.Duration(0)
			if i%int(every) == 0 {
				work = cpu
			}
			workflow(p, i, work)
			latencies[i] = time.Since(began)
		}(i)
	}
	wg.Wait()
	wall := time.Since(t0)
	var others []float64
	for i, d := range latencies {
		if i%int(every) != 0 {
			others = append(others, d.Seconds())
		}
	}
	sort.Float64s(others)
	var max any
	if len(others) > 0 {
		max = others[len(others)-1]
	}
	return fields{
		{"p50", percentile(others, 50)}, {"p99", percentile(others, 99)}, {"max", max},
		{"wall_seconds", wall.Seconds()}, {"heavy_instances", n - len(others)},
		{"fix_changes", "nothing"},
		{"note", fmt.Sprintf("Go needs no fix: the scheduler preempts a CPU-bound goroutine (asynchronous "+
			"preemption since Go 1.14) and its GOMAXPROCS=%d Ps (%s) keep running the other goroutines, "+
			"so fix changes nothing here — while a P is free: with GOMAXPROCS=1, or more CPU work than Ps, the "+
			"others wait", runtime.GOMAXPROCS(0), gomaxprocsSource())},
	}, nil
}

// percentile is the nearest-rank q-th percentile of sorted xs (as the Python reference), or nil if empty.
func percentile(sorted []float64, q float64) any {
	if len(sorted) == 0 {
		return nil
	}
	k := int(math.Ceil(float64(len(sorted))*q/100)) - 1
	if k < 0 {
		k = 0
	}
	return sorted[k]
}

// -- experiment cancellation: does the work stop when an attempt times out? ------------------------------

func cancellation(p *params) (fields, error) {
	calls, err := p.intParam("n", 200, 1, maxInstances)
	if err != nil {
		return nil, err
	}
	timeoutMs, err := p.floatParam("timeout_ms", 20, 0, 3.6e6)
	if err != nil {
		return nil, err
	}
	workMs, err := p.floatParam("work_ms", 50, 0, 3.6e6)
	if err != nil {
		return nil, err
	}
	attempts, err := p.intParam("attempts", 3, 1, 1000)
	if err != nil {
		return nil, err
	}
	cancel, err := p.boolParam("cancel", false)
	if err != nil {
		return nil, err
	}
	timeout, work := millis(timeoutMs), millis(workMs)
	var effects, made atomic.Int64

	// The fake service. Its effect (the counter) happens at the end of its work.
	ignoresContext := func(_ context.Context) bool { // the context is passed, and nobody looks at it
		time.Sleep(work)
		effects.Add(1)
		return true
	}
	honoursContext := func(ctx context.Context) bool {
		t := time.NewTimer(work)
		defer t.Stop()
		select {
		case <-ctx.Done():
			return false // cancelled: the work stops, no effect
		case <-t.C:
		}
		if ctx.Err() != nil { // both ready at once (a late wake-up): still check before the effect
			return false
		}
		effects.Add(1)
		return true
	}
	service := ignoresContext
	if cancel {
		service = honoursContext
	}

	var running, callers sync.WaitGroup
	t0 := time.Now()
	callers.Add(int(calls))
	for c := int64(0); c < calls; c++ {
		go func() {
			defer callers.Done()
			for a := int64(0); a < attempts; a++ {
				made.Add(1)
				ctx, stop := context.WithTimeout(context.Background(), timeout)
				done := make(chan bool, 1) // buffered: a worker whose caller gave up never blocks
				running.Add(1)
				go func() {
					defer running.Done()
					done <- service(ctx)
				}()
				select {
				case ok := <-done:
					stop()
					if ok {
						return
					}
				case <-ctx.Done(): // the attempt timed out: stop waiting (and, if the work checks ctx, stop it)
					stop()
				}
			}
		}()
	}
	callers.Wait()
	time.Sleep(work) // stragglers: work_ms more, as NATIVE.md says...
	running.Wait()   // ...and every worker goroutine really finished, so a loaded machine cannot undercount
	return fields{
		{"calls", calls}, {"attempts_made", made.Load()}, {"effects", effects.Load()},
		{"wall_seconds", time.Since(t0).Seconds()},
		{"note", map[bool]string{
			false: "without cancel: the attempt's context.WithTimeout expires and the caller stops waiting, " +
				"but the work goroutine ignores its context and completes, so every attempt has its effect",
			true: "with cancel: the work selects on ctx.Done() of the attempt's context.WithTimeout, so it " +
				"stops at the timeout and has no effect",
		}[cancel]},
	}, nil
}

// -- RSS from /proc/self/status -------------------------------------------------------------------------

type rssReading struct {
	rss, hwm *int64 // bytes; nil where /proc/self/status is missing
}

func readRSS() rssReading {
	var r rssReading
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return r
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		key, value, ok := strings.Cut(s.Text(), ":")
		if !ok || (key != "VmRSS" && key != "VmHWM") {
			continue
		}
		parts := strings.Fields(value) // "  123456 kB"
		if len(parts) == 0 {
			continue
		}
		kb, err := strconv.ParseInt(parts[0], 10, 64)
		if err != nil {
			continue
		}
		bytes := kb * 1024
		if key == "VmRSS" {
			r.rss = &bytes
		} else {
			r.hwm = &bytes
		}
	}
	return r
}
