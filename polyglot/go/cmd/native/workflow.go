package main

import (
	"crypto/sha256"
	"encoding/binary"
	"time"
)

// rng is splitmix64: eight bytes of state per instance. (math/rand's Source is ~5 KB, which at a
// million instances would measure the generator, not the runtime.)
type rng uint64

// newRNG seeds an instance's generator with the run's seed and the instance number.
func newRNG(seed int64, instance int) rng {
	return rng(uint64(seed)*1_000_003 + uint64(instance))
}

func (r *rng) next() uint64 {
	*r += 0x9E3779B97F4A7C15
	z := uint64(*r)
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9
	z = (z ^ (z >> 27)) * 0x94D049BB133111EB
	return z ^ (z >> 31)
}

// float is uniform in [0, 1).
func (r *rng) float() float64 {
	return float64(r.next()>>11) / (1 << 53)
}

// call is one call to a fake service: a timer wait of the step's latency (the goroutine is parked, as
// it would be waiting on a socket), then the outcome its caller drew.
func call(latency time.Duration, ok bool) bool {
	time.Sleep(latency)
	return ok
}

// workflow runs instance i on the calling goroutine: validate → (reserve ∥ pay) → ship → confirm, the
// payment on a goroutine of its own. With cpu > 0, process-payment is CPU work of that long instead of a
// wait. A failed step fails the instance (no retries, no compensation).
func workflow(p *params, i int, cpu time.Duration) bool {
	r := newRNG(p.seed, i)
	succeeds := func() bool { return r.float() >= p.failureRate }
	if !call(p.latency[validateOrder], succeeds()) {
		return false
	}
	reserveOK, payOK := succeeds(), succeeds() // drawn here, so the two branches never share the generator
	paid := make(chan bool, 1)
	go func() {
		if cpu > 0 {
			burn(cpu)
			paid <- payOK
			return
		}
		paid <- call(p.latency[processPayment], payOK)
	}()
	reserved := call(p.latency[reserveInventory], reserveOK)
	if payment := <-paid; !reserved || !payment { // both branches are awaited, whatever their outcome
		return false
	}
	return call(p.latency[shipOrder], succeeds()) && call(p.latency[sendConfirmation], succeeds())
}

// burn is CPU work for about d: hashing a counter until the clock says d has passed.
func burn(d time.Duration) byte {
	end := time.Now().Add(d)
	var buf [sha256.Size + 8]byte
	for n := uint64(0); time.Now().Before(end); n++ {
		binary.LittleEndian.PutUint64(buf[sha256.Size:], n)
		h := sha256.Sum256(buf[:])
		copy(buf[:sha256.Size], h[:])
	}
	return buf[0]
}
