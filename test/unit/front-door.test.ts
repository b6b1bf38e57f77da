/**
 * relay/public/front-door.ts and refusal-log.ts, with the clock driven by hand: allow and deny lists,
 * caps per publication, per source and overall, rates with their burst and refill, IPv6 sources counted
 * per /64, bounded tables under 100,000 sources, idempotent release, and refusals logged once per source
 * and reason per window.
 */
import test from 'ava';
import { parseCidrList, type CidrList } from '../../relay/public/cidr-list.js';
import { type Admission, DEFAULT_FRONT_DOOR_LIMITS, FrontDoor, type FrontDoorLimits } from '../../relay/public/front-door.js';
import { RefusalLog, type RefusalLine } from '../../relay/public/refusal-log.js';

function cidr(entries: string[]): CidrList {
  const result = parseCidrList(entries);
  if (!result.ok) throw new Error(result.message);
  return result.list;
}

function door(limits: Partial<FrontDoorLimits> = {}): FrontDoor {
  return new FrontDoor({ ...DEFAULT_FRONT_DOOR_LIMITS, ...limits });
}

function reason(a: Admission): string {
  return a.ok ? 'ok' : a.reason;
}

function release(a: Admission): void {
  if (a.ok) a.release();
}

test('deny wins over allow; with an allow list only listed sources pass; v4-mapped sources match v4 rules', (t) => {
  const d = door();
  const rules = { allow: cidr(['10.0.0.0/8', '2001:db8::/32']), deny: cidr(['10.6.6.0/24']) };
  t.is(reason(d.admit('10.1.1.1', 'web', rules, 0)), 'ok');
  t.is(reason(d.admit('::ffff:10.1.1.2', 'web', rules, 0)), 'ok');
  t.is(reason(d.admit('10.6.6.6', 'web', rules, 0)), 'denied');
  t.is(reason(d.admit('::ffff:10.6.6.7', 'web', rules, 0)), 'denied');
  t.is(reason(d.admit('11.0.0.1', 'web', rules, 0)), 'denied');
  t.is(reason(d.admit('2001:db8::5', 'web', rules, 0)), 'ok');
  t.is(reason(d.admit('2001:db9::5', 'web', rules, 0)), 'denied');
  t.is(reason(d.admit('10.6.6.6', 'web', { deny: cidr(['10.6.6.6']) }, 0)), 'denied');
  t.is(reason(d.admit('10.6.6.5', 'web', { deny: cidr(['10.6.6.6']) }, 0)), 'ok');
  t.is(d.open, 4);
});

test("a publication's cap counts its open connections; release frees a place, twice releases once", (t) => {
  const d = door();
  const rules = { maxConns: 2 };
  const a = d.admit('1.1.1.1', 'ssh', rules, 0);
  const b = d.admit('2.2.2.2', 'ssh', rules, 0);
  t.is(reason(d.admit('3.3.3.3', 'ssh', rules, 0)), 'publication-cap');
  t.is(reason(d.admit('3.3.3.3', 'web', rules, 0)), 'ok', 'another publication has its own count');
  release(a);
  release(a);
  t.is(d.openOf('ssh'), 1, 'a second release changes nothing');
  const c = d.admit('3.3.3.3', 'ssh', rules, 0);
  t.is(reason(c), 'ok');
  t.is(reason(d.admit('4.4.4.4', 'ssh', rules, 0)), 'publication-cap');
  release(b);
  release(c);
  t.is(d.openOf('ssh'), 0);
  t.is(d.open, 1);
});

test('per-source caps: over all public ports, and per publication', (t) => {
  const d = door({ perSourceConns: 3 });
  const held = [d.admit('5.5.5.5', 'a', {}, 0), d.admit('5.5.5.5', 'b', {}, 0), d.admit('5.5.5.5', 'c', {}, 0)];
  t.deepEqual(held.map(reason), ['ok', 'ok', 'ok']);
  t.is(reason(d.admit('5.5.5.5', 'd', {}, 0)), 'source-cap');
  t.is(reason(d.admit('5.5.5.6', 'd', {}, 0)), 'ok', 'another source is not held back');
  release(held[0]!);
  t.is(reason(d.admit('5.5.5.5', 'd', {}, 0)), 'ok');

  const p = door();
  const one = { perSourceConns: 1 };
  const first = p.admit('6.6.6.6', 'mail', one, 0);
  t.is(reason(p.admit('6.6.6.6', 'mail', one, 0)), 'source-cap');
  t.is(reason(p.admit('6.6.6.6', 'web', one, 0)), 'ok');
  t.is(reason(p.admit('6.6.6.7', 'mail', one, 0)), 'ok');
  release(first);
  t.is(reason(p.admit('6.6.6.6', 'mail', one, 0)), 'ok');
});

test('IPv6 sources are counted per /64, across address forms and over the whole relay', (t) => {
  const d = door({ perSourceConns: 2 });
  t.is(reason(d.admit('2001:db8:1:2::1', 'a', {}, 0)), 'ok');
  t.is(reason(d.admit('2001:db8:1:2:ffff:ffff:ffff:ffff', 'b', {}, 0)), 'ok');
  t.is(reason(d.admit('2001:0db8:0001:0002:0:0:0:99', 'c', {}, 0)), 'source-cap');
  t.is(reason(d.admit('2001:db8:1:3::1', 'c', {}, 0)), 'ok', 'the next /64 is another source');
  t.is(d.tracked.sources, 2);
});

test('relay-wide rate: a burst, then refills by the clock given', (t) => {
  const d = door({ perSourceRate: 10, perSourceBurst: 5 });
  for (let i = 0; i < 5; i++) release(d.admit('7.7.7.7', 'a', {}, 1000));
  t.is(reason(d.admit('7.7.7.7', 'b', {}, 1000)), 'source-rate');
  t.is(reason(d.admit('7.7.7.8', 'b', {}, 1000)), 'ok', 'another source has its own bucket');
  t.is(reason(d.admit('7.7.7.7', 'b', {}, 1099)), 'source-rate', 'not quite one token back');
  t.is(reason(d.admit('7.7.7.7', 'b', {}, 1100)), 'ok');
  t.is(reason(d.admit('7.7.7.7', 'b', {}, 1100)), 'source-rate');
  let ok = 0;
  for (let i = 0; i < 10; i++) if (d.admit('7.7.7.7', 'b', {}, 100_000).ok) ok++;
  t.is(ok, 5, 'refilled to the burst, never beyond');
});

test("a publication's own rate (burst twice the rate unless given) and caps are checked before rates", (t) => {
  const d = door();
  const rules = { perSourceRate: 1 };
  t.is(reason(d.admit('8.8.8.8', 'web', rules, 0)), 'ok');
  t.is(reason(d.admit('8.8.8.8', 'web', rules, 0)), 'ok');
  t.is(reason(d.admit('8.8.8.8', 'web', rules, 0)), 'source-rate');
  t.is(reason(d.admit('8.8.8.8', 'other', rules, 0)), 'ok', 'per publication');
  t.is(reason(d.admit('8.8.8.8', 'web', rules, 1000)), 'ok');
  t.is(reason(d.admit('9.9.9.9', 'web', { perSourceRate: 1, perSourceBurst: 1 }, 0)), 'ok');
  t.is(reason(d.admit('9.9.9.9', 'web', { perSourceRate: 1, perSourceBurst: 1 }, 0)), 'source-rate');

  const capped = door({ perSourceRate: 1, perSourceBurst: 1, perSourceConns: 1 });
  const held = capped.admit('4.3.2.1', 'a', {}, 0);
  for (let i = 0; i < 20; i++) t.is(reason(capped.admit('4.3.2.1', 'a', {}, 0)), 'source-cap');
  release(held);
  t.is(reason(capped.admit('4.3.2.1', 'a', {}, 1000)), 'ok', 'cap refusals took no tokens');
});

test('the total cap holds over all sources and publications', (t) => {
  const d = door({ maxTotal: 3 });
  const held = ['1.0.0.1', '1.0.0.2', '1.0.0.3'].map((s, i) => d.admit(s, `p${i}`, {}, 0));
  t.is(reason(d.admit('1.0.0.4', 'p9', {}, 0)), 'total-cap');
  release(held[1]!);
  t.is(reason(d.admit('1.0.0.4', 'p9', {}, 0)), 'ok');
});

test('connections still reading their head have their own cap; headRead and release free it once', (t) => {
  const d = door({ maxReadingHeads: 2 });
  const a = d.admit('1.0.0.1', 'web', {}, 0);
  const b = d.admit('1.0.0.2', 'web', {}, 0);
  t.is(reason(d.admit('1.0.0.3', 'web', {}, 0)), 'total-cap');
  if (a.ok) {
    a.headRead();
    a.headRead();
  }
  t.is(d.reading, 1);
  const c = d.admit('1.0.0.3', 'web', {}, 0);
  t.is(reason(c), 'ok');
  t.is(reason(d.admit('1.0.0.4', 'web', {}, 0)), 'total-cap');
  release(b);
  release(a);
  t.is(d.reading, 1, 'release counts a head still being read once, a head read not again');
  t.is(d.open, 1);
  release(c);
  t.deepEqual([d.open, d.reading], [0, 0]);
});

test('100,000 distinct sources: the tables stay bounded, and idle sources are forgotten once refilled', (t) => {
  const d = door({ maxTrackedSources: 1000, maxTotal: 500 });
  const rules = { perSourceRate: 5 };
  const held: Admission[] = [];
  for (let i = 0; i < 100_000; i++) {
    const source = i % 2 ? `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}` : `2001:db8:${(i >> 16).toString(16)}:${(i & 0xffff).toString(16)}::1`;
    const a = d.admit(source, 'web', rules, i);
    t.true(a.ok || a.reason === 'total-cap');
    if (i % 400 === 0) held.push(a);
    else release(a);
    t.true(d.tracked.sources <= 1000 + 500 && d.tracked.publicationSources <= 1000 + 500);
  }
  t.is(d.open, held.length);
  t.true(d.tracked.sources >= held.length);
  for (const a of held) release(a);
  t.is(d.open, 0);
  // Long after, each admission forgets the oldest idle sources whose buckets are full again.
  for (let i = 0; i < 2000; i++) release(d.admit('192.0.2.1', 'web', rules, 10_000_000 + i * 1000));
  t.is(d.tracked.sources, 1);
  t.is(d.tracked.publicationSources, 1);
});

test('refusals are logged once per source unit and reason per window, with the count left out', (t) => {
  const log = new RefusalLog();
  const lines: RefusalLine[] = [];
  const write = (line: RefusalLine) => lines.push(line);
  for (let i = 0; i < 5; i++) log.note(`2001:db8::${i}`, 'web', 'source-rate', 0, write);
  log.note('2001:db8::9', 'web', 'denied', 0, write);
  log.note('2001:db8:0:1::9', 'web', 'source-rate', 0, write);
  t.deepEqual(lines.map((l) => `${l.source} ${l.reason}`), ['2001:db8::0 source-rate', '2001:db8::9 denied', '2001:db8:0:1::9 source-rate']);
  log.note('2001:db8::7', 'mail', 'source-rate', 60_000, write);
  t.deepEqual(lines.at(-1), { source: '2001:db8::7', publication: 'mail', reason: 'source-rate', suppressed: 4 });
});

test('one source holds at most its share of the connections reading their heads; a headless connection (a tcp publication) needs none', (t) => {
  const d = door({ maxReadingHeads: 100, perSourceReadingHeads: 2 });
  const slow = [d.admit('1.0.0.1', 'http', {}, 0), d.admit('1.0.0.1', 'http', {}, 0)];
  t.is(reason(d.admit('1.0.0.1', 'http', {}, 0)), 'source-cap');
  t.is(reason(d.admit('1.0.0.2', 'http', {}, 0)), 'ok', 'another source still gets in');
  t.is(reason(d.admit('1.0.0.1', 'tcp://:25', {}, 0, true)), 'ok', 'a tcp connection from the same source is not a head');
  const first = slow[0]!;
  if (first.ok) first.headRead();
  t.is(reason(d.admit('1.0.0.1', 'http', {}, 0)), 'ok', 'a head read frees its place');
  const full = door({ maxReadingHeads: 1 });
  full.admit('1.0.0.9', 'http', {}, 0);
  t.is(reason(full.admit('1.0.0.8', 'http', {}, 0)), 'total-cap');
  t.is(reason(full.admit('1.0.0.8', 'tcp://:25', {}, 0, true)), 'ok', 'slow heads elsewhere never shut a tcp publication');
});
