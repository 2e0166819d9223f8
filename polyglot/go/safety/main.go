// Command safety is Go's memory-safety demo (polyglot/NATIVE.md): the lost update of
// ../../python/safety/ — five goroutines withdraw 10 from one balance in a shared map, each reading it,
// calling something slow, then writing it back, with no lock. It compiles, `go vet` has nothing to
// say, and it runs and prints a wrong balance; only the race detector (`go run -race ./safety`)
// reports the data race, at run time, and only because this run happened to exercise it.
//
//	go run -race ./safety               # naive: the race detector's report, then the wrong balance
//	go run -race ./safety locked-twice  # a lock around each access: no data race, still a lost update
//	go run -race ./safety fixed         # the lock held across the check and the act: 50
//	go run ./safety increment           # no sleep, just balances[k]++ in a tight loop from 8 goroutines:
//	                                    # the map's own cheap check may kill it (concurrent map writes)
//
// Not built by ../build.sh: it is a demo, run by run.sh.
package main

import (
	"fmt"
	"os"
	"sync"
	"time"
)

const withdrawals, amount = 5, 10

func main() {
	mode := "naive"
	if len(os.Args) > 1 {
		mode = os.Args[1]
	}
	if mode == "increment" {
		increment()
		return
	}
	withdraw, ok := map[string]func(map[string]int, *sync.Mutex){
		"naive": naive, "locked-twice": lockedTwice, "fixed": fixed,
	}[mode]
	if !ok {
		fmt.Fprintln(os.Stderr, "usage: safety [naive|locked-twice|fixed|increment]")
		os.Exit(2)
	}
	balances := map[string]int{"order-42": 100}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for i := 0; i < withdrawals; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			withdraw(balances, &mu)
		}()
	}
	wg.Wait()
	fmt.Printf("%s: %d withdrawals of %d from 100 leave %d (expected %d)\n",
		mode, withdrawals, amount, balances["order-42"], 100-withdrawals*amount)
}

// naive reads and writes the shared map from every goroutine with no synchronisation: a data race.
func naive(balances map[string]int, _ *sync.Mutex) {
	current := balances["order-42"]         // check...
	time.Sleep(time.Millisecond)            // ...a call to another service...
	balances["order-42"] = current - amount // ...then act, on a stale value
}

// lockedTwice takes the lock for each access: no data race (the detector is satisfied), yet the
// check-then-act still spans the call, so updates are still lost. -race finds data races, not this.
func lockedTwice(balances map[string]int, mu *sync.Mutex) {
	mu.Lock()
	current := balances["order-42"]
	mu.Unlock()
	time.Sleep(time.Millisecond)
	mu.Lock()
	balances["order-42"] = current - amount
	mu.Unlock()
}

// fixed holds the lock across the check and the act: one step, for every other goroutine.
func fixed(balances map[string]int, mu *sync.Mutex) {
	mu.Lock()
	defer mu.Unlock()
	current := balances["order-42"]
	time.Sleep(time.Millisecond)
	balances["order-42"] = current - amount
}

// increment is the bare counter: 8 goroutines each add 1 to one map entry 100,000 times, no lock, no
// call in between. Go's map notices a write while another is in progress (a best-effort flag, not the
// race detector) and stops the program with "fatal error: concurrent map writes" — when it catches it.
func increment() {
	const goroutines, each = 8, 100_000
	counts := map[string]int{}
	var wg sync.WaitGroup
	for g := 0; g < goroutines; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < each; i++ {
				counts["order-42"]++
			}
		}()
	}
	wg.Wait()
	fmt.Printf("increment: %d goroutines × %d increments leave %d (expected %d)\n",
		goroutines, each, counts["order-42"], goroutines*each)
}
