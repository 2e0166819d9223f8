//! A shared balance updated from many threads, check-then-act across a call: the lost update of
//! ../../python/safety/naive.py, written the naive way in Rust. It does not compile: the borrow checker
//! refuses to let several threads hold a `&mut` to the same map, or a borrow that may outlive it.

use std::collections::HashMap;
use std::thread;
use std::time::Duration;

fn main() {
    let mut balances: HashMap<&str, i64> = HashMap::new();
    balances.insert("order-42", 100);

    let mut threads = Vec::new();
    for _ in 0..5 {
        threads.push(thread::spawn(|| {
            let current = balances["order-42"]; // check...
            thread::sleep(Duration::from_millis(1)); // ...a call to another service...
            balances.insert("order-42", current - 10); // ...then act, on a stale value
        }));
    }
    for t in threads {
        t.join().unwrap();
    }
    println!("naive: 5 withdrawals of 10 from 100 leave {} (expected 50)", balances["order-42"]);
}
