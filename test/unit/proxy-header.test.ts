/**
 * shared/net/proxy-header.ts against the HAProxy PROXY protocol spec, with the expected bytes written out
 * by hand: v1 is one ASCII line "PROXY TCP4|TCP6 SRC DST SRCPORT DSTPORT\r\n"; v2 is the 12-byte signature,
 * 0x21 (version 2, PROXY), 0x11 (TCP over IPv4) or 0x21 (TCP over IPv6), a u16 length of the address
 * block (12 or 36), then source address, destination address, source port, destination port.
 */
import test from 'ava';
import { proxyHeader } from '../../shared/net/proxy-header.js';
import { throwsCode } from '../helpers/unit-errors.js';

const SIG = '0d0a0d0a000d0a515549540a';
const V4 = { src: '192.0.2.1', srcPort: 56324, dst: '198.51.100.7', dstPort: 443 };
const V6 = { src: '2001:db8::1', srcPort: 56324, dst: '2001:db8::2', dstPort: 443 };

test('S10: PROXY v1 over IPv4: one line with TCP4, addresses, ports and CRLF', (t) => {
  t.is(proxyHeader('v1', V4).toString('latin1'), 'PROXY TCP4 192.0.2.1 198.51.100.7 56324 443\r\n');
});

test('S10: PROXY v1 over IPv6: one line with TCP6', (t) => {
  t.is(proxyHeader('v1', V6).toString('latin1'), 'PROXY TCP6 2001:db8::1 2001:db8::2 56324 443\r\n');
});

test('S10: PROXY v1: IPv4-mapped IPv6 addresses (a dual-stack listener) are sent as TCP4 with dotted quads', (t) => {
  const mapped = { ...V4, src: '::ffff:192.0.2.1', dst: '::FFFF:198.51.100.7' };
  t.is(proxyHeader('v1', mapped).toString('latin1'), 'PROXY TCP4 192.0.2.1 198.51.100.7 56324 443\r\n');
});

test('S10: PROXY v1: the longest possible line stays within the spec\'s 107 bytes', (t) => {
  const max = 'ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff';
  const line = proxyHeader('v1', { src: max, srcPort: 65535, dst: max, dstPort: 65535 });
  t.is(line.toString('latin1'), `PROXY TCP6 ${max} ${max} 65535 65535\r\n`);
  t.true(line.length <= 107);
});

test('S10: PROXY v2 over IPv4: signature, 0x21 0x11, length 12, addresses, ports', (t) => {
  const expected = `${SIG}2111000c` + 'c0000201' + 'c6336407' + 'dc04' + '01bb';
  t.is(proxyHeader('v2', V4).toString('hex'), expected);
});

test('S10: PROXY v2 over IPv6: signature, 0x21 0x21, length 36, 16-byte addresses, ports', (t) => {
  const expected = `${SIG}21210024`
    + '20010db8000000000000000000000001'
    + '20010db8000000000000000000000002'
    + 'dc04' + '01bb';
  t.is(proxyHeader('v2', V6).toString('hex'), expected);
});

test('S10: PROXY v2: IPv4-mapped addresses become TCP4; a mixed pair becomes TCP6 with the IPv4 side mapped', (t) => {
  t.is(proxyHeader('v2', { ...V4, src: '::ffff:192.0.2.1', dst: '::ffff:198.51.100.7' }).toString('hex'), proxyHeader('v2', V4).toString('hex'));
  const mixed = proxyHeader('v2', { src: '192.0.2.1', srcPort: 1, dst: '2001:db8::2', dstPort: 2 });
  t.is(mixed.toString('hex'), `${SIG}21210024` + '00000000000000000000ffffc0000201' + '20010db8000000000000000000000002' + '0001' + '0002');
});

test('S10: PROXY v2: every IPv6 textual form gives the same 16 bytes; ports 0 and 65535 are exact', (t) => {
  const forms = ['2001:db8:0:0:0:0:0:1', '2001:0DB8:0000:0000:0000:0000:0000:0001', '2001:db8::0:1', '2001:db8::1'];
  for (const src of forms) {
    t.is(proxyHeader('v2', { src, srcPort: 0, dst: '::', dstPort: 65535 }).toString('hex'),
      `${SIG}21210024` + '20010db8000000000000000000000001' + '00000000000000000000000000000000' + '0000' + 'ffff', src);
  }
  t.is(proxyHeader('v2', { src: '::1', srcPort: 1, dst: 'fe80::', dstPort: 2 }).subarray(16, 48).toString('hex'),
    '00000000000000000000000000000001' + 'fe800000000000000000000000000000');
});

test('S10: PROXY headers need IP addresses: a host name is ERR_INVALID_REQUEST', (t) => {
  for (const version of ['v1', 'v2'] as const) {
    throwsCode(t, () => proxyHeader(version, { ...V4, src: 'client.example' }), 'ERR_INVALID_REQUEST', version);
  }
});

// Regression (was a bug): shared/net/proxy-header.ts:34-42 (ipv6Bytes) splits an IPv6 address on ':' and parses every group as
// hex, so the dotted-quad tail that RFC 4291 allows (and that isIPv6() accepts, e.g. NAT64 64:ff9b::192.0.2.1
// or ::192.0.2.1, which libuv prints for IPv4-compatible addresses) becomes one wrong group: 64:ff9b::192.0.2.1
// is sent as 64:ff9b::192 (bytes ...0000 0192 instead of ...c000 0201). Fix: if the last group contains '.',
// replace it by two hex groups from its four octets before expanding '::'.
test('S10: PROXY v2: an IPv6 address written with an embedded IPv4 tail gives its real 16 bytes', (t) => {
  const header = proxyHeader('v2', { src: '64:ff9b::192.0.2.1', srcPort: 1, dst: '::192.0.2.2', dstPort: 2 });
  t.is(header.subarray(16, 48).toString('hex'), '0064ff9b0000000000000000c0000201' + '000000000000000000000000c0000202');
});

test('PROXY v2 for UDP: 0x12 (UDP over IPv4) or 0x22 (UDP over IPv6), the same address block; v1 cannot say UDP', (t) => {
  t.is(proxyHeader('v2', V4, 'dgram').toString('hex'), `${SIG}2112000cc0000201c6336407dc0401bb`);
  t.is(proxyHeader('v2', V6, 'dgram').subarray(12, 16).toString('hex'), '21220024');
  throwsCode(t, () => proxyHeader('v1', V4, 'dgram'), 'ERR_INVALID_REQUEST');
});
