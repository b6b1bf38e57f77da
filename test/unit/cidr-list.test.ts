/**
 * relay/public/cidr-list.ts: allow and deny lists match IPv4 and IPv6 networks and bare addresses,
 * IPv4-mapped sources as IPv4, keep the families apart otherwise, and name a bad entry.
 */
import test from 'ava';
import { type CidrList, parseAddress, parseCidrList } from '../../relay/public/cidr-list.js';

function list(entries: string[]): CidrList {
  const result = parseCidrList(entries);
  if (!result.ok) throw new Error(result.message);
  return result.list;
}

test('IPv4 networks and bare addresses', (t) => {
  const l = list(['10.0.0.0/8', '192.168.1.7', '172.16.0.0/12']);
  t.is(l.size, 3);
  for (const yes of ['10.0.0.1', '10.255.255.255', '192.168.1.7', '172.31.0.1']) t.true(l.matches(yes), yes);
  for (const no of ['11.0.0.1', '192.168.1.8', '172.32.0.1', '9.255.255.255']) t.false(l.matches(no), no);
});

test('IPv6 networks, compressed forms, zones and embedded IPv4 tails', (t) => {
  const l = list(['2001:db8::/32', 'fe80::1', '64:ff9b::/96']);
  for (const yes of ['2001:db8::1', '2001:DB8:ffff::', '2001:0db8:0000:0000:0000:0000:0000:0001', 'fe80::1%eth0', '64:ff9b::192.0.2.1']) t.true(l.matches(yes), yes);
  for (const no of ['2001:db9::1', 'fe80::2', '::1', '10.0.0.1']) t.false(l.matches(no), no);
});

test('an IPv4-mapped source matches IPv4 rules, a mapped rule is an IPv4 rule, and ::/0 is IPv6 only', (t) => {
  t.true(list(['1.2.3.0/24']).matches('::ffff:1.2.3.4'));
  t.true(list(['1.2.3.0/24']).matches('::FFFF:1.2.3.4'));
  t.true(list(['::ffff:1.2.3.0/120']).matches('1.2.3.99'));
  t.false(list(['::ffff:1.2.3.0/120']).matches('1.2.4.1'));
  t.false(list(['::/0']).matches('1.2.3.4'));
  t.true(list(['::/0']).matches('2001:db8::1'));
  t.true(list(['0.0.0.0/0']).matches('::ffff:8.8.8.8'));
  t.false(list(['0.0.0.0/0']).matches('2001:db8::1'));
  t.deepEqual(parseAddress('::ffff:0102:0304'), { family: 4, value: 0x01020304n });
});

test('host bits below the prefix are ignored; an unparseable source matches nothing', (t) => {
  t.true(list(['10.1.2.3/8']).matches('10.200.0.1'));
  t.true(list(['2001:db8::1/64']).matches('2001:db8::ffff'));
  t.false(list(['0.0.0.0/0']).matches('not-an-address'));
});

test('a bad entry is refused and named', (t) => {
  for (const bad of ['10.0.0.0/33', '2001:db8::/129', '10.0.0/8', 'example.com', '10.0.0.0/8/8', '10.0.0.0/x', '::ffff:1.2.3.0/64', '']) {
    const result = parseCidrList(['10.0.0.0/8', bad]);
    t.false(result.ok, bad);
    if (!result.ok) {
      t.is(result.entry, bad);
      t.true(result.message.includes(`"${bad}"`), result.message);
    }
  }
});
