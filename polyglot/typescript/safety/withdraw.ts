// TypeScript's memory-safety demo: no data race (one thread runs all JavaScript), but a check-then-act
// across an `await` on a shared Map, which neither the type checker nor the runtime notices.
// Compiled by the project's tsc (strict) and run by safety/run.sh; not part of build.sh.

import { setTimeout as sleep } from "node:timers/promises";

/** A database round trip: the event loop runs other tasks while this one waits. */
const fakeIo = (): Promise<void> => sleep(10);

type Accounts = Map<string, number>;

/** Naive: read the balance, check it, await the I/O, write the balance read before the await. */
async function withdrawNaive(accounts: Accounts, id: string, amount: number): Promise<void> {
  const balance = accounts.get(id) ?? 0; // check...
  if (balance < amount) throw new Error(`insufficient funds for ${amount}`);
  await fakeIo(); // ...every other withdrawal runs here...
  accounts.set(id, balance - amount); // ...act on a stale read: the last writer wins
}

/** A per-key lock: the tasks on one key form a queue, each runs after the previous one settled. */
class KeyedLock {
  private readonly tails = new Map<string, Promise<void>>();

  run<T>(key: string, critical: () => Promise<T>): Promise<T> {
    const result = (this.tails.get(key) ?? Promise.resolve()).then(critical);
    const tail = result.then(() => undefined, () => undefined);
    this.tails.set(key, tail);
    void tail.then(() => { if (this.tails.get(key) === tail) this.tails.delete(key); });
    return result;
  }
}

const lock = new KeyedLock();

/** Fixed: the same code, the whole read-await-write under the account's lock. */
const withdrawFixed = (accounts: Accounts, id: string, amount: number): Promise<void> =>
  lock.run(id, () => withdrawNaive(accounts, id, amount));

type Withdraw = (accounts: Accounts, id: string, amount: number) => Promise<void>;

/** The other languages' scenario: five concurrent withdrawals of 10 from a balance of 100. */
async function fiveWithdrawals(label: string, withdraw: Withdraw): Promise<void> {
  const accounts: Accounts = new Map([["order-42", 100]]);
  await Promise.all(Array.from({ length: 5 }, () => withdraw(accounts, "order-42", 10)));
  console.log(`${label}: 5 withdrawals of 10 from 100 leave ${accounts.get("order-42")} (expected 50)`);
}

const version = process.argv[2] ?? "naive";
if (version !== "naive" && version !== "fixed") {
  console.error(`usage: node withdraw.js [naive|fixed] (not ${JSON.stringify(version)})`);
  process.exit(2);
}
void fiveWithdrawals(version, version === "naive" ? withdrawNaive : withdrawFixed);
