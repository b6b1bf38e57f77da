import test from 'ava';
import type { BurrowError } from '../../shared/errors.js';
import { Semaphore } from '../../shared/semaphore.js';

test('at most limit holders; waiters get permits in FIFO order', async (t) => {
  const sem = new Semaphore(2);
  const r1 = await sem.acquire();
  const r2 = await sem.acquire();
  t.is(sem.active, 2);
  const order: number[] = [];
  const w3 = sem.acquire().then((release) => (order.push(3), release));
  const w4 = sem.acquire().then((release) => (order.push(4), release));
  t.is(sem.waiting, 2);
  r1();
  const r3 = await w3;
  t.deepEqual(order, [3]);
  t.is(sem.active, 2);
  t.is(sem.waiting, 1);
  r2();
  const r4 = await w4;
  t.deepEqual(order, [3, 4]);
  r3();
  r4();
  t.is(sem.active, 0);
});

test('releasing twice frees only one permit', async (t) => {
  const sem = new Semaphore(1);
  const release = await sem.acquire();
  release();
  release();
  t.is(sem.active, 0);
  await sem.acquire();
  t.is(sem.active, 1);
  let got = false;
  void sem.acquire().then(() => (got = true));
  await Promise.resolve();
  t.false(got);
  t.is(sem.waiting, 1);
});

test('run releases the permit when the task throws, and never exceeds the limit', async (t) => {
  const sem = new Semaphore(2);
  let running = 0;
  let peak = 0;
  const task = async (i: number): Promise<number> => {
    running++;
    peak = Math.max(peak, running);
    await new Promise((resolve) => setImmediate(resolve));
    running--;
    if (i % 3 === 0) throw new Error(`task ${i}`);
    return i;
  };
  const results = await Promise.allSettled(Array.from({ length: 10 }, (_, i) => sem.run(() => task(i))));
  t.is(peak, 2);
  t.is(results.filter((r) => r.status === 'rejected').length, 4);
  t.is(sem.active, 0);
  t.is(sem.waiting, 0);
});

test('limit must be a positive integer', (t) => {
  for (const limit of [0, -1, 1.5, Number.NaN]) t.is(t.throws<BurrowError>(() => new Semaphore(limit))?.code, 'ERR_CONFIG');
});
