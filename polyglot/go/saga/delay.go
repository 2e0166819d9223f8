package saga

import (
	"math/bits"
	"strconv"
)

// Fnv1a64 is the 64-bit FNV-1a hash of data.
func Fnv1a64(data []byte) uint64 {
	h := uint64(0xcbf29ce484222325)
	for _, b := range data {
		h = (h ^ uint64(b)) * 0x100000001b3
	}
	return h
}

// Splitmix64 is one step of the SplitMix64 generator: a bijective mix of x.
func Splitmix64(x uint64) uint64 {
	z := x + 0x9e3779b97f4a7c15
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// Draw is the protocol's keyed draw rand(instance, step, phase, action, k): 64 bits that depend on
// the attempt's name only, so a replay or another arrival order draws the same numbers.
func Draw(seed uint64, instance int64, step string, phase Phase, action, k int64) uint64 {
	key := make([]byte, 0, len(step)+48)
	key = strconv.AppendInt(key, instance, 10)
	key = append(append(append(key, '/'), step...), '/')
	key = append(append(key, phase...), '/')
	key = strconv.AppendInt(key, action, 10)
	key = append(key, '/')
	key = strconv.AppendInt(key, k, 10)
	return Splitmix64(seed ^ Fnv1a64(key))
}

// Delay is the wait in µs before attempt k + 1 (k ≥ 1). last is the previous wait of the same
// task, if it had one (decorrelated jitter grows from it); u32 is the top 32 bits of the draw.
// Every product is computed exactly in 128 bits, so no input can overflow.
func (p Policy) Delay(k int64, last *int64, u32 uint32) int64 {
	i, b, m := uint64(p.InitialUS), uint64(p.CoefficientMilli), uint64(p.MaxUS)
	var d uint64
	switch p.Backoff {
	case Exponential:
		d = i
		for n := int64(1); n < k; n++ {
			next := minU64(m, mulDiv(d, b, 1000))
			if next == d { // a fixed point: every further step gives d again
				break
			}
			d = next
		}
	case Linear:
		d = minU64(m, mulDiv(i, uint64(k), 1))
	default:
		d = minU64(m, i)
	}
	f := func(x uint64) uint64 { // (u × x) >> 32, exactly
		hi, lo := bits.Mul64(uint64(u32), x)
		return hi<<32 | lo>>32
	}
	switch p.Jitter {
	case Full:
		d = f(d)
	case Equal:
		d = d/2 + f(d-d/2)
	case Decorrelated:
		prev := i
		if last != nil {
			prev = uint64(*last)
		}
		hi := maxU64(i, mulDiv(3, prev, 1))
		d = minU64(m, i+f(hi-i))
	}
	return int64(d)
}

// mulDiv is floor(x × y ÷ z), saturated at the largest uint64.
func mulDiv(x, y, z uint64) uint64 {
	hi, lo := bits.Mul64(x, y)
	if hi >= z {
		return ^uint64(0)
	}
	q, _ := bits.Div64(hi, lo, z)
	return q
}

func minU64(a, b uint64) uint64 {
	if a < b {
		return a
	}
	return b
}

func maxU64(a, b uint64) uint64 {
	if a > b {
		return a
	}
	return b
}
