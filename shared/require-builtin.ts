/**
 * A node built-in loaded where it is first needed instead of with its importer: node compiles a built-in
 * on its first require (node:readline ~5 ms, node:http ~8 ms), which a short command that never uses it
 * should not pay. require(), not import(): the bundle keeps no dynamic import() (bin/code-cache.ts).
 */
import { createRequire } from 'node:module';

const load = createRequire(import.meta.url);

export function requireBuiltin<T>(name: `node:${string}`): T {
  return load(name) as T;
}
