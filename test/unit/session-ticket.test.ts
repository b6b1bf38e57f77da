import test from 'ava';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { issueTicket, TicketKeys, verifyTicket } from '../../shared/crypto/session-ticket.js';
import { Redacted } from '../../shared/redacted.js';

function keys(): TicketKeys {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  return new TicketKeys(privateKey, publicKey);
}

const NOW = 1_800_000_000_000;

test('a ticket carries the attach key sealed: it opens only with the cluster identity', async (t) => {
  const k = keys();
  const attachKey = randomBytes(32);
  const ticket = await issueTicket(k, { sid: 'sid1', user: 'home', port: 'skeleton', relay: 'r1', attachKey: new Redacted(attachKey) }, NOW, 60);
  // The key never appears in the clear in the ticket.
  const payload = Buffer.from(ticket.split('.')[1]!, 'base64url').toString();
  t.false(payload.includes(attachKey.toString('base64url')));
  t.false(Buffer.from(ticket).includes(attachKey));
  const claims = await verifyTicket(k, ticket, NOW + 1000);
  t.true(claims.attachKey.reveal().equals(attachKey));
  t.like(claims, { sid: 'sid1', user: 'home', port: 'skeleton', relay: 'r1' });
  await t.throwsAsync(verifyTicket(keys(), ticket, NOW), { code: 'ERR_AUTH_FAILED' } as never);
});

test('an expired or tampered ticket is refused', async (t) => {
  const k = keys();
  const ticket = await issueTicket(k, { sid: 'sid1', user: 'home', port: 'skeleton', relay: 'r1', attachKey: new Redacted(randomBytes(32)) }, NOW, 60);
  await t.throwsAsync(verifyTicket(k, ticket, NOW + 120_000), { code: 'ERR_AUTH_FAILED' } as never);
  const [h, p, s] = ticket.split('.');
  const claims = JSON.parse(Buffer.from(p!, 'base64url').toString()) as Record<string, unknown>;
  claims.sub = 'mallory';
  const forged = `${h}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.${s}`;
  await t.throwsAsync(verifyTicket(k, forged, NOW), { code: 'ERR_AUTH_FAILED' } as never);
});
