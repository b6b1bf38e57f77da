/**
 * Heal within 5 s of the relay being back, whatever the outage, without a thundering herd (issue 14):
 * 1,000 skeleton cores (the real SkeletonCore, seeded randomness) and a hand-driven clock. The relay
 * dies at t = 0 (every session drops at once, as a kill -9's FIN says), refuses every attempt while
 * it is away (the kernel's RST: free for it), and accepts each attempt once it is back. We measure, for
 * each outage length, the time from the relay's return to the last skeleton's login (the heal time)
 * and the most logins the relay sees in any one second (the herd).
 */
import test from 'ava';
import { DEFAULT_BACKOFF } from '../../shared/backoff.js';
import { SkeletonCore, type SkeletonCommand } from '../../skeleton/core/skeleton-core.js';

const SKELETONS = 1_000;

/** mulberry32: a small seeded PRNG, so the simulation is the same on every run. */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A binary min-heap of [time, skeleton]. */
class Schedule {
  readonly #heap: [number, number][] = [];
  get size(): number {
    return this.#heap.length;
  }
  push(item: [number, number]): void {
    const h = this.#heap;
    h.push(item);
    for (let i = h.length - 1; i > 0;) {
      const p = (i - 1) >> 1;
      if (h[p]![0] <= h[i]![0]) break;
      [h[p], h[i]] = [h[i]!, h[p]!];
      i = p;
    }
  }
  pop(): [number, number] {
    const h = this.#heap;
    const top = h[0]!;
    const last = h.pop()!;
    if (h.length > 0) {
      h[0] = last;
      for (let i = 0; ;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < h.length && h[l]![0] < h[m]![0]) m = l;
        if (r < h.length && h[r]![0] < h[m]![0]) m = r;
        if (m === i) break;
        [h[m], h[i]] = [h[i]!, h[m]!];
        i = m;
      }
    }
    return top;
  }
}

interface HealResult {
  /** From the relay's return to the last skeleton's login. */
  healMs: number;
  /** The most logins the relay saw in any one-second window after its return. */
  peakLoginsPerSecond: number;
  /** The most refused attempts in any one second while it was away (SYNs answered by the kernel). */
  peakRefusedPerSecond: number;
}

function simulate(outageMs: number, how: 'crash' | 'goodbye', seed = 1): HealResult {
  const random = seeded(seed);
  const cores = Array.from({ length: SKELETONS }, () => new SkeletonCore({ pool: 0, poolMax: 0, random }));
  const schedule = new Schedule();
  const reconnect = (i: number, cmds: SkeletonCommand[], now: number): void => {
    for (const c of cmds) if (c.type === 'reconnect') schedule.push([now + c.afterMs, i]);
  };
  // Logged in long ago, so the backoff starts from its first step.
  cores.forEach((c) => c.handle({ type: 'connected' }, -3_600_000));
  cores.forEach((c, i) => reconnect(i, c.handle(how === 'crash' ? { type: 'disconnected', code: 'ERR_CONNECTION_CLOSED' } : { type: 'goodbye', retryAfterMs: 1_000 }, 0), 0));
  const logins = new Map<number, number>();
  const refused = new Map<number, number>();
  const bump = (m: Map<number, number>, k: number): void => void m.set(k, (m.get(k) ?? 0) + 1);
  let lastLogin = 0;
  while (schedule.size > 0) {
    const [now, i] = schedule.pop();
    if (now < outageMs) {
      bump(refused, Math.floor(now / 1000));
      reconnect(i, cores[i]!.handle({ type: 'disconnected', code: 'ERR_RELAY_UNREACHABLE' }, now), now);
    } else {
      bump(logins, Math.floor((now - outageMs) / 1000));
      cores[i]!.handle({ type: 'connected' }, now);
      lastLogin = Math.max(lastLogin, now);
    }
  }
  return {
    healMs: lastLogin - outageMs,
    peakLoginsPerSecond: Math.max(...logins.values()),
    peakRefusedPerSecond: refused.size > 0 ? Math.max(...refused.values()) : 0,
  };
}

for (const [label, outageMs] of [['2 s', 2_000], ['10 s', 10_000], ['60 s', 60_000], ['10 min', 600_000]] as const) {
  test(`relay back after a ${label} outage: all ${SKELETONS} skeletons log in within 5 s, spread over seconds`, (t) => {
    for (const seed of [1, 2, 3]) {
      const r = simulate(outageMs, 'crash', seed);
      t.log(`seed ${seed}: heal ${r.healMs} ms, peak ${r.peakLoginsPerSecond} logins/s, ${r.peakRefusedPerSecond} refused attempts/s at most while away`);
      t.true(r.healMs < 5_000, `heal ${r.healMs} ms`);
      t.true(r.healMs < DEFAULT_BACKOFF.soonMaxMs, 'bounded by the low ceiling');
      // No herd: the jitter spreads the logins over the seconds of the heal window, never all in one.
      t.true(r.peakLoginsPerSecond <= SKELETONS * 0.7, `peak ${r.peakLoginsPerSecond} logins/s`);
    }
  });
}

test('a planned restart (Goodbye, retryAfter 1 s) that takes 3 s: all skeletons back within 5 s of the relay', (t) => {
  const r = simulate(3_000, 'goodbye');
  t.log(`heal ${r.healMs} ms, peak ${r.peakLoginsPerSecond} logins/s`);
  t.true(r.healMs < 5_000, `heal ${r.healMs} ms`);
});
