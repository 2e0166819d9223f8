//! What the compiler does not check: the map behind `Arc<Mutex<…>>` as the compiler asks, but the lock
//! taken once to read and again to write. No data race, so it compiles; the check-then-act still spans
//! the call, so updates are still lost — a logic race, which no type system here can see.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

fn main() {
    let balances: Arc<Mutex<HashMap<&str, i64>>> = Arc::new(Mutex::new(HashMap::new()));
    balances.lock().unwrap().insert("order-42", 100);

    let mut threads = Vec::new();
    for _ in 0..5 {
        let balances = Arc::clone(&balances);
        threads.push(thread::spawn(move || {
            let current = balances.lock().unwrap()["order-42"]; // the guard is dropped at the `;`
            thread::sleep(Duration::from_millis(1));
            balances.lock().unwrap().insert("order-42", current - 10);
        }));
    }
    for t in threads {
        t.join().unwrap();
    }
    println!("locked-twice: 5 withdrawals of 10 from 100 leave {} (expected 50)", balances.lock().unwrap()["order-42"]);
}
