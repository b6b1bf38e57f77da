/** shared/peer/known-relays.ts: parsing (errors name file and line), lookup by normalised address, pinning. */
import test from 'ava';
import { findKnownRelay, parseKnownRelays, withPin } from '../../shared/peer/known-relays.js';
import { throwsCode } from '../helpers/unit-errors.js';

const A = 'SHA256:' + 'A'.repeat(43);
const B = 'SHA256:' + 'B'.repeat(43);
const PATH = '/home/u/.config/burrow/known_relays';

test('entries, comments and blank lines; hosts are matched case-insensitively, IPv6 in brackets', (t) => {
  const entries = parseKnownRelays(`# mine\n\nRelay.Example:7000 ${A}\n[::1]:7001   ${B}\n`, PATH);
  t.is(entries.length, 2);
  t.is(findKnownRelay(entries, 'relay.example', 7000)?.fingerprint, A);
  t.is(findKnownRelay(entries, '::1', 7001)?.fingerprint, B);
  t.is(findKnownRelay(entries, 'relay.example', 7001), undefined, 'pins are per port');
});

test('a malformed line is ERR_CONFIG naming the file and the line', (t) => {
  for (const [text, line] of [[`relay:7000 ${A}\nrelay ${A}\n`, 2], [`relay:7000 SHA256:short\n`, 1], [`relay:7000 ${A} extra\n`, 1], [`a:1 ${A}\n\na:1 ${B}\n`, 3]] as const) {
    const err = throwsCode(t, () => parseKnownRelays(text, PATH), 'ERR_CONFIG', text);
    t.true(err?.message.includes(`${PATH}: line ${line}`), err?.message);
  }
});

test('withPin appends a new address and replaces an existing one in place, keeping comments', (t) => {
  t.is(withPin('', 'relay:7000', A), `relay:7000 ${A}\n`);
  const text = `# keep me\nrelay:7000 ${A}\nother:1 ${A}\n`;
  t.is(withPin(text, 'relay:7001', B), `${text}relay:7001 ${B}\n`);
  t.is(withPin(text, 'relay:7000', B), `# keep me\nrelay:7000 ${B}\nother:1 ${A}\n`);
  t.is(withPin(`RELAY:7000 ${A}\n`, 'relay:7000', B), `relay:7000 ${B}\n`);
});
