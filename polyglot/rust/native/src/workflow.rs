//! The order workflow against in-process fake services: validate → (reserve ∥ pay) → ship → confirm.
//!
//! Each step is a timer wait of its latency (the instance is waiting on I/O, not spinning), then
//! success or failure drawn from a PRNG seeded with the seed and the instance number.

use std::collections::hash_map::DefaultHasher;
use std::hash::Hasher;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use tokio::time::sleep;

use crate::params::Params;

/// SplitMix64: small, fast, and enough to draw failures (native mode compares runtimes, not traces).
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64, instance: u64) -> Rng {
        Rng(seed.wrapping_mul(1_000_003).wrapping_add(instance))
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A float in [0, 1).
    pub fn next_f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// Does a call succeed, when it fails with probability `failure_rate`?
    pub fn succeeds(&mut self, failure_rate: f64) -> bool {
        self.next_f64() >= failure_rate
    }
}

/// Where `process-payment` is CPU work instead of a wait (experiment `cpu_step`).
#[derive(Clone, Copy, Debug)]
pub struct CpuStep {
    pub work: Duration,
    /// Run it with `spawn_blocking` on tokio's blocking pool instead of inline on a worker thread.
    pub fix: bool,
}

/// Where the CPU work's result goes, so the optimiser cannot drop the loop.
static SINK: AtomicU64 = AtomicU64::new(0);

/// CPU work for about `work`: hashing a counter until the clock says so. Returns how many hashes.
pub fn burn(work: Duration) -> u64 {
    let end = Instant::now() + work;
    let (mut h, mut n) = (0u64, 0u64);
    while Instant::now() < end {
        let mut hasher = DefaultHasher::new();
        hasher.write_u64(h);
        hasher.write_u64(n);
        h = hasher.finish();
        n += 1;
    }
    SINK.fetch_xor(h, Ordering::Relaxed);
    n
}

/// `process-payment`: a wait, or (in one instance in `every` of `cpu_step`) CPU work.
async fn payment(latency: Duration, cpu: Option<CpuStep>) {
    match cpu {
        None => sleep(latency).await,
        // Inline: the loop holds this worker thread; on a current-thread runtime, the whole runtime.
        Some(CpuStep { work, fix: false }) => {
            burn(work);
        }
        // The idiomatic fix: the blocking pool, while this task (and every other) awaits as usual.
        Some(CpuStep { work, fix: true }) => {
            tokio::task::spawn_blocking(move || burn(work)).await.expect("the CPU step panicked");
        }
    }
}

/// One workflow instance; true if every step succeeded (a failed step fails it: no retries, no saga).
pub async fn workflow(p: &'static Params, instance: u64, cpu: Option<CpuStep>) -> bool {
    let mut rng = Rng::new(p.seed, instance);
    sleep(p.latency[0]).await; // validate-order
    if !rng.succeeds(p.failure_rate) {
        return false;
    }
    let (reserved, paid) = (rng.succeeds(p.failure_rate), rng.succeeds(p.failure_rate));
    tokio::join!(sleep(p.latency[1]), payment(p.latency[2], cpu)); // reserve-inventory ∥ process-payment
    if !(reserved && paid) {
        return false;
    }
    sleep(p.latency[3]).await; // ship-order
    if !rng.succeeds(p.failure_rate) {
        return false;
    }
    sleep(p.latency[4]).await; // send-confirmation
    rng.succeeds(p.failure_rate)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rng_is_seeded_by_seed_and_instance() {
        let draw = |seed, i| {
            let mut r = Rng::new(seed, i);
            (0..4).map(|_| r.next_u64()).collect::<Vec<_>>()
        };
        assert_eq!(draw(7, 3), draw(7, 3));
        assert_ne!(draw(7, 3), draw(7, 4));
        assert_ne!(draw(7, 3), draw(8, 3));
        let mut r = Rng::new(0, 0);
        let mean = (0..10_000).map(|_| r.next_f64()).sum::<f64>() / 10_000.0;
        assert!((mean - 0.5).abs() < 0.02, "mean {mean}");
    }

    #[test]
    fn burn_spins_for_about_its_duration() {
        let t = Instant::now();
        assert!(burn(Duration::from_millis(20)) > 0);
        assert!(t.elapsed() >= Duration::from_millis(20));
    }
}
