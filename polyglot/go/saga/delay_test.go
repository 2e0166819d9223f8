package saga

import "testing"

func TestHashReferenceValues(t *testing.T) {
	tests := []struct {
		name      string
		got, want uint64
	}{
		{`fnv1a64("")`, Fnv1a64(nil), 0xcbf29ce484222325},
		{`fnv1a64("a")`, Fnv1a64([]byte("a")), 0xaf63dc4c8601ec8c},
		{`splitmix64(0)`, Splitmix64(0), 0xe220a8397b1dcdaf},
		{`fnv1a64("12/process-payment/do/0/2")`, Fnv1a64([]byte("12/process-payment/do/0/2")), 0x680a1e95374089f3},
		// rand(7, 12, "process-payment", "do", 0, 2), as engine/decider.py computes it
		{"Draw", Draw(7, 12, "process-payment", Do, 0, 2), 0xb5e0820a71e48dfd},
		{"Draw is splitmix64(seed ^ fnv1a64(key))", Draw(7, 12, "process-payment", Do, 0, 2),
			Splitmix64(7 ^ Fnv1a64([]byte("12/process-payment/do/0/2")))},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("%s = %#x, want %#x", tt.name, tt.got, tt.want)
		}
	}
}

func TestDelay(t *testing.T) {
	const half, top = 1 << 31, 1<<32 - 1
	policy := func(b Backoff, j Jitter) Policy {
		return Policy{MaxAttempts: 9, Backoff: b, InitialUS: 1_000_000, CoefficientMilli: 2000, MaxUS: 5_000_000, Jitter: j}
	}
	last := func(d int64) *int64 { return &d }
	tests := []struct {
		name   string
		policy Policy
		k      int64
		last   *int64
		u      uint32
		want   int64
	}{
		{"exponential k=1", policy(Exponential, NoJitter), 1, nil, 0, 1_000_000},
		{"exponential k=2", policy(Exponential, NoJitter), 2, nil, 0, 2_000_000},
		{"exponential k=3", policy(Exponential, NoJitter), 3, nil, 0, 4_000_000},
		{"exponential k=4 capped", policy(Exponential, NoJitter), 4, nil, 0, 5_000_000},
		{"exponential k=50 capped", policy(Exponential, NoJitter), 50, nil, 0, 5_000_000},
		{"linear k=1", policy(Linear, NoJitter), 1, nil, 0, 1_000_000},
		{"linear k=3", policy(Linear, NoJitter), 3, nil, 0, 3_000_000},
		{"linear k=6 capped", policy(Linear, NoJitter), 6, nil, 0, 5_000_000},
		{"constant", policy(Constant, NoJitter), 4, nil, top, 1_000_000},
		{"full u=0", policy(Exponential, Full), 2, nil, 0, 0},
		{"full u=1/2", policy(Exponential, Full), 2, nil, half, 1_000_000},
		{"full u=max", policy(Exponential, Full), 2, nil, top, 1_999_999},
		{"equal u=0", policy(Exponential, Equal), 1, nil, 0, 500_000},
		{"equal u=1/2", policy(Exponential, Equal), 1, nil, half, 750_000},
		{"equal u=max", policy(Exponential, Equal), 1, nil, top, 999_999},
		{"equal odd", Policy{Backoff: Constant, InitialUS: 3, MaxUS: 3, Jitter: Equal}, 1, nil, half, 2},
		{"decorrelated first, from initial", policy(Exponential, Decorrelated), 1, nil, half, 2_000_000},
		{"decorrelated from last", policy(Exponential, Decorrelated), 2, last(2_000_000), half, 3_500_000},
		{"decorrelated capped", policy(Exponential, Decorrelated), 3, last(3_500_000), half, 5_000_000},
		{"decorrelated u=0", policy(Constant, Decorrelated), 1, nil, 0, 1_000_000},
		{"decorrelated u=max", policy(Constant, Decorrelated), 1, nil, top, 2_999_999},
		{"coefficient 1.333 floors", Policy{Backoff: Exponential, InitialUS: 1000, CoefficientMilli: 1333, MaxUS: 1_000_000,
			Jitter: NoJitter}, 3, nil, 0, 1776},
		{"first wait is not capped", Policy{Backoff: Exponential, InitialUS: 10, CoefficientMilli: 2000, MaxUS: 5,
			Jitter: NoJitter}, 1, nil, 0, 10},
		{"second wait is", Policy{Backoff: Exponential, InitialUS: 10, CoefficientMilli: 2000, MaxUS: 5,
			Jitter: NoJitter}, 2, nil, 0, 5},
		{"huge coefficient, exact", Policy{Backoff: Exponential, InitialUS: MaxDuration, CoefficientMilli: 1 << 40,
			MaxUS: MaxDuration, Jitter: NoJitter}, 3, nil, 0, MaxDuration},
		{"u × x beyond 2^53, exact", Policy{Backoff: Linear, InitialUS: MaxDuration, CoefficientMilli: 1000,
			MaxUS: MaxDuration, Jitter: Full}, 5, nil, top, MaxDuration - 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.policy.Delay(tt.k, tt.last, tt.u); got != tt.want {
				t.Errorf("Delay(k=%d, last=%v, u=%d) = %d, want %d", tt.k, tt.last, tt.u, got, tt.want)
			}
		})
	}
}
