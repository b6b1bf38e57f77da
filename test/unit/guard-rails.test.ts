/**
 * The project's shape, kept true by tests (issue 14): roles import only shared/ (never each other),
 * shared/ imports no role, sans-IO cores and the protocol touch no socket, timer or clock, every error
 * code that may travel on the wire is documented in docs/PROTOCOL.md, tests assert codes rather than
 * message text, and test helpers never bind port 0, close the listener and reuse its number.
 */
import test from 'ava';
import { readdir, readFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ERROR_CODES } from '../../shared/errors.js';

/** The repository root: dist/test/unit/ is three levels below it. */
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

async function sources(dir: string): Promise<{ path: string; text: string }[]> {
  const out: { path: string; text: string }[] = [];
  for (const entry of await readdir(join(ROOT, dir), { withFileTypes: true, recursive: true })) {
    if (!entry.isFile() || !entry.name.endsWith('.ts')) continue;
    const full = join(entry.parentPath, entry.name);
    out.push({ path: relative(ROOT, full), text: await readFile(full, 'utf8') });
  }
  return out;
}

/** Module specifiers a file imports (static and dynamic). */
function imports(text: string): string[] {
  return [...text.matchAll(/(?:from|import)\s*\(?\s*'([^']+)'/g)].map((m) => m[1]!);
}

const ROLES = ['relay', 'skeleton', 'client'] as const;

test('roles import only shared/ (never each other), and shared/ imports no role', async (t) => {
  const found: string[] = [];
  for (const role of ROLES) {
    const files = await sources(role);
    t.true(files.length > 5, `found ${role}/ sources`);
    for (const f of files) {
      for (const spec of imports(f.text)) {
        if (!spec.startsWith('.')) continue;
        const target = relative(ROOT, join(ROOT, f.path, '..', spec));
        const top = target.split('/')[0];
        if (top !== role && top !== 'shared') found.push(`${f.path} imports ${spec}`);
      }
    }
  }
  for (const f of await sources('shared')) {
    for (const spec of imports(f.text)) {
      const top = relative(ROOT, join(ROOT, f.path, '..', spec)).split('/')[0];
      if (spec.startsWith('.') && (ROLES as readonly string[]).includes(top!)) found.push(`${f.path} imports ${spec}`);
    }
  }
  t.deepEqual(found, []);
});

test('cores and the protocol import no socket, timer or clock: time and randomness are parameters', async (t) => {
  const dirs = ['relay/core', 'skeleton/core', 'client/core', 'shared/protocol', 'shared/transport', 'shared/udp'];
  const found: string[] = [];
  let count = 0;
  for (const dir of dirs) {
    for (const f of await sources(dir)) {
      count++;
      // Comments may speak of clocks; only code counts.
      const code = f.text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/\/\/.*$/gm, '');
      for (const m of code.matchAll(/import\s+(?:type\s+)?\{([^}]*)\}\s+from\s+'node:(net|tls|dgram|http|https|timers|timers\/promises)'/g)) {
        // node:net's address predicates are pure functions, not sockets.
        const names = m[1]!.split(',').map((n) => n.trim()).filter(Boolean);
        if (m[2] !== 'net' || names.some((n) => !/^(type\s+)?(isIP|isIPv4|isIPv6)$/.test(n))) found.push(`${f.path}: node:${m[2]} { ${names.join(', ')} }`);
      }
      if (/from\s+'node:(net|tls|dgram|http|https|timers)'/.test(code) && !/import\s+(type\s+)?\{/.test(code)) found.push(`${f.path}: a default import of a socket or timer module`);
      for (const call of ['Date.now(', 'new Date(', 'setTimeout(', 'setInterval(', 'setImmediate(', 'performance.now(', 'process.hrtime']) {
        if (code.includes(call)) found.push(`${f.path}: ${call}`);
      }
    }
  }
  t.true(count > 20, `scanned ${count} files`);
  t.deepEqual(found, []);
});

test('every error code that may travel on the wire is documented in docs/PROTOCOL.md', async (t) => {
  const doc = await readFile(join(ROOT, 'docs/PROTOCOL.md'), 'utf8');
  const wire = Object.entries(ERROR_CODES).filter(([, spec]) => spec.wire).map(([code]) => code);
  t.true(wire.length > 10);
  const table = doc.slice(doc.indexOf('## Errors'));
  t.deepEqual(wire.filter((code) => !new RegExp(`^\\| \`${code}\` \\|`, 'm').test(table)), [], 'each has a row in the table of *Errors*');
});

test('tests assert error codes, never message text', async (t) => {
  const files = [...await sources('test/unit'), ...await sources('test/e2e'), ...await sources('test/security')];
  t.true(files.length > 50);
  const found: string[] = [];
  for (const f of files.filter((file) => !file.path.endsWith('guard-rails.test.ts'))) {
    f.text.split('\n').forEach((line, i) => {
      // An assertion on an error's message: t.is(err.message, ...), t.regex(err.message, ...), { message: ... } in throws.
      if (/t\.(is|regex|deepEqual|like|true)\([^)]*\berr\w*\.message\b/.test(line) || /throws(Async)?\([^)]*\{\s*message:/.test(line)) found.push(`${f.path}:${i + 1}`);
    });
  }
  t.deepEqual(found, []);
});

test('test helpers never bind port 0, close the listener and reuse its number (the kernel hands it out again)', async (t) => {
  const helpers = await sources('test/helpers');
  t.true(helpers.length > 10);
  const found = helpers.filter((f) => /\bfreePort\b|\bgetPort\b|\{ port \} = \w+\.address\(\)[\s\S]{0,200}\.close\(/.test(f.text)).map((f) => f.path);
  t.deepEqual(found, []);
});
