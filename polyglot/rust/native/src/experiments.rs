//! The four experiments of polyglot/NATIVE.md. Each takes the checked params and the runtime of the
//! chosen flavor, and returns the experiment's own fields (main.rs adds language, flavor, ...).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{json, Map, Value};
use tokio::runtime::Runtime;
use tokio::time::{sleep, timeout};

use crate::params::{Flavor, Params};
use crate::workflow::{workflow, CpuStep};

pub type Fields = Result<Map<String, Value>, String>;

/// VmRSS and VmHWM from /proc/self/status, in bytes; None where there is no /proc.
pub fn rss() -> (Option<u64>, Option<u64>) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| {
        let line = status.lines().find(|l| l.starts_with(name))?;
        line[name.len()..].split_whitespace().next()?.parse::<u64>().ok().map(|kb| kb * 1024)
    };
    (field("VmRSS:"), field("VmHWM:"))
}

/// The `q`th percentile, nearest rank (as the Python reference computes it).
pub fn percentile(sorted: &[f64], q: f64) -> Option<f64> {
    if sorted.is_empty() {
        return None;
    }
    let rank = (sorted.len() as f64 * q / 100.0).ceil() as usize;
    Some(sorted[rank.max(1) - 1])
}

fn fields(value: Value) -> Map<String, Value> {
    match value {
        Value::Object(map) => map,
        _ => unreachable!("fields are built with json!({{...}})"),
    }
}

/// `n` instances at once, one tokio task each; memory, spawn time and wall time.
pub fn concurrency(p: &'static Params, rt: &Runtime) -> Fields {
    let n = p.int("n", None, 1, 1_000_000)?;
    let (idle, _) = rss();
    let (spawned, wall, completed) = rt.block_on(async move {
        let t0 = Instant::now();
        let mut tasks = Vec::with_capacity(n as usize);
        for i in 0..n {
            tasks.push(tokio::spawn(workflow(p, i, None)));
        }
        let spawned = t0.elapsed();
        let mut completed = 0u64;
        for task in tasks {
            completed += task.await.expect("an instance panicked") as u64;
        }
        (spawned, t0.elapsed(), completed)
    });
    let (_, peak) = rss();
    Ok(fields(json!({
        "rss_idle": idle, "rss_peak": peak,
        "spawn_seconds": spawned.as_secs_f64(), "wall_seconds": wall.as_secs_f64(),
        "completed": completed, "failed": n - completed,
    })))
}

/// Instances arriving over one second; one in `every` pays with CPU work. Latency of the others.
pub fn cpu_step(p: &'static Params, rt: &Runtime) -> Fields {
    let n = p.int("n", Some(1000), 1, 1_000_000)?;
    let every = p.int("every", Some(100), 1, u64::MAX)?;
    let cpu = CpuStep { work: p.millis("cpu_ms", 50.0, 0.0, 60_000.0)?, fix: p.flag("fix")? };
    let (mut latencies, wall) = rt.block_on(async move {
        let t0 = Instant::now();
        let tasks: Vec<_> = (0..n)
            .map(|i| {
                tokio::spawn(async move {
                    sleep(Duration::from_secs_f64(i as f64 / n as f64)).await; // a steady arrival rate
                    let start = Instant::now();
                    let heavy = i % every == 0;
                    workflow(p, i, if heavy { Some(cpu) } else { None }).await;
                    if heavy {
                        None
                    } else {
                        Some(start.elapsed().as_secs_f64())
                    }
                })
            })
            .collect();
        let mut latencies = Vec::with_capacity(n as usize);
        for task in tasks {
            latencies.extend(task.await.expect("an instance panicked"));
        }
        (latencies, t0.elapsed())
    });
    latencies.sort_by(|a, b| a.partial_cmp(b).expect("latencies are finite"));
    let note = match (p.flavor, cpu.fix) {
        (Flavor::CurrentThread, false) => "the CPU loop runs inline on the runtime's only thread: every instance waits",
        (Flavor::MultiThread, false) => "the CPU loop runs inline on a worker thread: the tasks queued there wait",
        (_, true) => "spawn_blocking runs the CPU loop on tokio's blocking pool; the runtime polls the rest",
    };
    Ok(fields(json!({
        "p50": percentile(&latencies, 50.0), "p99": percentile(&latencies, 99.0), "max": latencies.last(),
        "wall_seconds": wall.as_secs_f64(), "note": note,
    })))
}

/// The fake service whose work takes `work` and has an effect at its end.
async fn service(work: Duration, effects: Arc<AtomicU64>) {
    sleep(work).await;
    effects.fetch_add(1, Ordering::SeqCst);
}

/// One call, up to `attempts` attempts with a timeout each. The work is a spawned task; on a timeout,
/// without `cancel`, the JoinHandle is just dropped, which detaches the task: it runs on and takes
/// effect. With `cancel`, `JoinHandle::abort` stops it at its next await (dropping a future that was
/// never spawned, as in `timeout(t, service(..))`, would stop it the same way).
async fn call(attempts: u64, limit: Duration, work: Duration, cancel: bool, effects: Arc<AtomicU64>) -> u64 {
    let mut made = 0;
    for _ in 0..attempts {
        made += 1;
        let mut task = tokio::spawn(service(work, effects.clone()));
        match timeout(limit, &mut task).await {
            Ok(_) => return made,
            Err(_elapsed) if cancel => task.abort(),
            Err(_elapsed) => {} // `task` goes out of scope: only the waiting stops
        }
    }
    made
}

/// Every attempt times out by construction (work_ms > timeout_ms): how many effects happen anyway?
pub fn cancellation(p: &'static Params, rt: &Runtime) -> Fields {
    let calls = p.int("n", Some(200), 1, 1_000_000)?;
    let attempts = p.int("attempts", Some(3), 1, 1000)?;
    let limit = p.millis("timeout_ms", 20.0, 0.0, 60_000.0)?;
    let work = p.millis("work_ms", 50.0, 0.0, 60_000.0)?;
    let cancel = p.flag("cancel")?;
    let effects = Arc::new(AtomicU64::new(0));
    let counter = effects.clone();
    let made = rt.block_on(async move {
        let tasks: Vec<_> =
            (0..calls).map(|_| tokio::spawn(call(attempts, limit, work, cancel, counter.clone()))).collect();
        let mut made = 0;
        for task in tasks {
            made += task.await.expect("a call panicked");
        }
        sleep(work * 2).await; // stragglers finish, as they would in a process that goes on
        made
    });
    Ok(fields(json!({"calls": calls, "attempts_made": made, "effects": effects.load(Ordering::SeqCst)})))
}

/// From the program's entry to its result: the cost of starting the runtime (built by main).
pub fn startup(_p: &'static Params, rt: &Runtime, entry: Instant) -> Fields {
    rt.block_on(async { tokio::task::yield_now().await });
    Ok(fields(json!({"seconds_to_ready": entry.elapsed().as_secs_f64()})))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::params::FLAVORS;

    fn params(v: Value) -> &'static Params {
        Box::leak(Box::new(Params::parse(v).unwrap()))
    }

    fn each_flavor(mut f: impl FnMut(&'static str, &Runtime)) {
        for flavor in FLAVORS {
            let p = params(json!({ "flavor": flavor }));
            f(flavor, &p.flavor.runtime().unwrap());
        }
    }

    #[test]
    fn percentiles_are_nearest_rank() {
        let xs: Vec<f64> = (1..=100).map(f64::from).collect();
        assert_eq!(percentile(&xs, 50.0), Some(50.0));
        assert_eq!(percentile(&xs, 99.0), Some(99.0));
        assert_eq!(percentile(&[3.0], 99.0), Some(3.0));
        assert_eq!(percentile(&[], 50.0), None);
    }

    #[test]
    fn rss_reads_proc() {
        let (now, peak) = rss();
        assert!(now.unwrap() > 0 && peak.unwrap() >= now.unwrap());
    }

    #[test]
    fn concurrency_completes_every_instance() {
        each_flavor(|flavor, rt| {
            let p = params(json!({"flavor": flavor, "n": 2000, "latency_ms": [1, 2, 2, 2, 1]}));
            let r = concurrency(p, rt).unwrap();
            assert_eq!((r["completed"].as_u64(), r["failed"].as_u64()), (Some(2000), Some(0)), "{flavor}");
            assert!(r["wall_seconds"].as_f64().unwrap() >= 0.006);
            assert!(r["spawn_seconds"].as_f64().unwrap() <= r["wall_seconds"].as_f64().unwrap());
            assert!(r["rss_peak"].as_u64().unwrap() >= r["rss_idle"].as_u64().unwrap());
        });
    }

    #[test]
    fn failures_follow_the_failure_rate() {
        each_flavor(|flavor, rt| {
            let all = params(json!({"flavor": flavor, "n": 50, "failure_rate": 1.0, "latency_ms": [0, 0, 0, 0, 0]}));
            assert_eq!(concurrency(all, rt).unwrap()["failed"], 50);
            // Each instance makes 5 draws at 10%: about 41% fail.
            let some = params(
                json!({"flavor": flavor, "n": 2000, "failure_rate": 0.1, "seed": 3, "latency_ms": [0, 0, 0, 0, 0]}),
            );
            let failed = concurrency(some, rt).unwrap()["failed"].as_u64().unwrap();
            assert!((600..1050).contains(&failed), "{failed}");
        });
    }

    #[test]
    fn without_cancel_every_timed_out_attempt_still_takes_effect() {
        each_flavor(|flavor, rt| {
            let p = params(json!({"flavor": flavor, "n": 20, "timeout_ms": 5, "work_ms": 30, "attempts": 3}));
            let r = cancellation(p, rt).unwrap();
            assert_eq!(r["attempts_made"], 60);
            assert_eq!(r["effects"], 60, "{flavor}");
        });
    }

    #[test]
    fn with_cancel_no_attempt_takes_effect() {
        each_flavor(|flavor, rt| {
            let p = params(json!({"flavor": flavor, "n": 20, "timeout_ms": 5, "work_ms": 30, "cancel": true}));
            let r = cancellation(p, rt).unwrap();
            assert_eq!((r["attempts_made"].as_u64(), r["effects"].as_u64()), (Some(60), Some(0)), "{flavor}");
        });
    }

    #[test]
    fn an_inline_cpu_step_stalls_a_current_thread_runtime_and_spawn_blocking_does_not() {
        // 100 instances over 1 s, 30 ms of waits each (about 3 in flight); every 10th burns 150 ms of CPU.
        let base = json!({"flavor": FLAVORS[0], "n": 100, "every": 10, "cpu_ms": 150});
        let run = |fix: bool| {
            let mut v = base.clone();
            v["fix"] = json!(fix);
            let p = params(v);
            cpu_step(p, &p.flavor.runtime().unwrap()).unwrap()
        };
        let (blocked, fixed) = (run(false), run(true));
        // Some instance was in flight during a burn: it waited the burn out.
        assert!(blocked["max"].as_f64().unwrap() >= 0.1, "{blocked:?}");
        assert!(fixed["p50"].as_f64().unwrap() < 0.1, "{fixed:?}");
    }

    #[test]
    fn startup_reports_a_time() {
        each_flavor(|_, rt| {
            let r = startup(params(json!({})), rt, Instant::now()).unwrap();
            assert!(r["seconds_to_ready"].as_f64().unwrap() >= 0.0);
        });
    }
}
