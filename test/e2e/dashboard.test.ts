/**
 * The dashboard in a real browser: Debian's chromium driven by playwright-core (no browser download).
 * With BURROW_SCREENSHOT=1 it also saves docs/dashboard.png.
 */
import test from 'ava';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { connect } from '../../client/index.js';
import { Redacted } from '../../shared/redacted.js';
import { received } from '../helpers/streams.js';
import { connectTestClient, echoServer, newSecret, server, startTestSkeleton, startWorld } from '../helpers/world.js';

const CHROMIUM = '/usr/bin/chromium';
/** Compiled tests live in dist/test/e2e/; the screenshot goes to the source tree's docs/. */
const SCREENSHOT = fileURLToPath(new URL('../../../docs/dashboard.png', import.meta.url));
const TOKEN = 'dash-' + randomBytes(18).toString('base64url');

test('the dashboard, behind a token, shows the online server and the live stream in a real browser', async (t) => {
  if (!existsSync(CHROMIUM)) {
    t.fail(`${CHROMIUM} is missing: install Debian's chromium package (apt-get install -y chromium; npm test's pretest does it as root)`);
    return;
  }
  const world = await startWorld(t, { relay: { adminToken: TOKEN } });
  const echo = await echoServer(t);
  const secret = newSecret();
  await startTestSkeleton(t, world, [server('home-echo', echo.port, secret, { description: 'echo at home', protocol: 'echo' })]);
  const client = await connectTestClient(t, world);
  const stream = await client.open('home-echo', { secret });
  // Teardown stops the relay under the running stream: that cut is expected, not a failure.
  stream.on('error', (err) => t.log(`stream ended: ${(err as { code?: string }).code ?? err.message}`));
  const echoed = received(stream, 300_000);
  stream.write(randomBytes(300_000));
  await echoed;
  // A failed login, so the table of failed logins has a row.
  await t.throwsAsync(connect({ relay: world.clientTarget, user: 'mallory', password: new Redacted('guess') }));

  const browser = await chromium.launch({ executablePath: CHROMIUM });
  t.teardown(() => browser.close());
  const page = await browser.newPage({ viewport: { width: 1280, height: 860 } });
  const problems: string[] = [];
  page.on('console', (msg) => { if (msg.type() === 'error') problems.push(msg.text()); });
  page.on('pageerror', (err) => problems.push(err.message));

  // Without the token the page asks for it.
  await page.goto(world.relay.admin!.url);
  await page.locator('#login.show').waitFor();
  t.is(await page.textContent('#status'), 'token needed');

  await page.fill('#token', TOKEN);
  await page.click('#login button');
  await page.locator('#servers td', { hasText: 'home-echo' }).waitFor();
  await page.locator('#streams td', { hasText: 'home-echo' }).waitFor();
  t.is(await page.textContent('#status'), 'live');
  t.is(await page.locator('#servers td:nth-child(2)').first().textContent(), 'home', 'the skeleton account');
  t.regex((await page.textContent('#streams'))!, /alice/);
  t.regex((await page.textContent('#streams'))!, /KiB/, 'bytes of the running stream');
  await page.locator('#failed td', { hasText: 'mallory' }).waitFor();
  // Traffic while the page watches shows in the chart: its peak is in KiB/s or more.
  const more = received(stream, 300_000);
  stream.write(randomBytes(300_000));
  await more;
  await page.locator('#peak', { hasText: /[KMG]iB\/s/ }).waitFor();
  t.regex((await page.getAttribute('#line-up', 'points')) ?? '', /^0\.0,[\d.]+ ([\d.]+,[\d.]+ ){58}600\.0,[\d.]+$/);
  t.false((await page.content()).includes(TOKEN), 'the token is not written into the page');
  if (process.env.BURROW_SCREENSHOT === '1') await page.screenshot({ path: SCREENSHOT, fullPage: true });
  t.deepEqual(problems.filter((p) => !/401/.test(p)), [], 'no script error and no CSP violation');
  stream.end();
});
