"""The same update under a lock: check and act become one step for every other thread."""

import threading
import time

balances = {"order-42": 100}
lock = threading.Lock()


def withdraw(key: str, amount: int) -> None:
    with lock:
        current = balances[key]
        time.sleep(0.001)
        balances[key] = current - amount


threads = [threading.Thread(target=withdraw, args=("order-42", 10)) for _ in range(5)]
for t in threads:
    t.start()
for t in threads:
    t.join()
print(f"fixed: 5 withdrawals of 10 from 100 leave {balances['order-42']} (expected 50)")
