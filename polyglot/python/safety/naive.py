"""A shared balance updated from many threads, check-then-act across a call: a lost update.

The GIL makes each bytecode atomic, so a dict is never corrupted (no data race in
the memory-safety sense), but `read, call something, write` is three steps, and
another thread runs between them. Nothing in Python catches this: it runs, and
the money is wrong.
"""

import threading
import time

balances = {"order-42": 100}


def withdraw(key: str, amount: int) -> None:
    current = balances[key]          # check...
    time.sleep(0.001)                # ...a call to another service (any I/O lets other threads run)...
    balances[key] = current - amount  # ...then act, on a stale value


threads = [threading.Thread(target=withdraw, args=("order-42", 10)) for _ in range(5)]
for t in threads:
    t.start()
for t in threads:
    t.join()
print(f"naive: 5 withdrawals of 10 from 100 leave {balances['order-42']} (expected 50)")
