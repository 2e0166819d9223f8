//! The same update, as the compiler asks for it: the map shared by `Arc` (owned by every thread, freed
//! by the last) behind a `Mutex` (one thread at a time), the lock held across the check and the act.

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
            let mut map = balances.lock().unwrap(); // held until the end of the closure
            let current = map["order-42"];
            thread::sleep(Duration::from_millis(1));
            map.insert("order-42", current - 10);
        }));
    }
    for t in threads {
        t.join().unwrap();
    }
    println!("fixed: 5 withdrawals of 10 from 100 leave {} (expected 50)", balances.lock().unwrap()["order-42"]);
}
