/**
 * docs/SECURITY.md names, for every property and bound, the file and exact title of the tests that prove
 * it. This keeps that table true: every row's title is a test declared in the file it names (a title
 * written as a template, `S3: ... ${what} ...`, matches any text in place of the placeholder).
 */
import test from 'ava';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../../', import.meta.url));

/** The titles declared in a test file, each as a pattern. */
function declaredTitles(source: string): RegExp[] {
  const titles: RegExp[] = [];
  for (const m of source.matchAll(/\btest(?:\.serial)?\(\s*(?:'((?:[^'\\]|\\.)*)'|"((?:[^"\\]|\\.)*)"|`((?:[^`\\]|\\.)*)`)/g)) {
    const text = (m[1] ?? m[2] ?? m[3] ?? '').replace(/\\(.)/g, '$1');
    const parts = m[3] !== undefined ? text.split(/\$\{[^}]*\}/) : [text];
    titles.push(new RegExp(`^${parts.map((p) => p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('.+')}$`));
  }
  return titles;
}

test('every test named in docs/SECURITY.md is declared, with that title, in the file named beside it', async (t) => {
  const doc = await readFile(`${root}docs/SECURITY.md`, 'utf8');
  const rows = [...doc.matchAll(/^\| [^|]+ \| `(test\/[^`]+\.ts)` \| (.+?)(?: \*\(regression test[^)]*\)\*)? \|$/gm)];
  t.true(rows.length > 100, `found ${rows.length} rows`);
  const declared = new Map<string, RegExp[]>();
  for (const [, file, title] of rows) {
    if (!declared.has(file!)) declared.set(file!, declaredTitles(await readFile(`${root}${file}`, 'utf8')));
    t.true(declared.get(file!)!.some((re) => re.test(title!)), `${file}: ${title}`);
  }
});
