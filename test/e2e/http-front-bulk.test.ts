/**
 * 1 GiB each way through the public HTTP front with curl outside this process: the bytes arrive
 * intact, and this process (front and backend) grows its memory by far less than a body.
 */
import { spawn } from 'node:child_process';
import test from 'ava';
import { backend, frontFor } from '../helpers/http-front-world.js';
import { expectedSha256, patternStream, sha256Of } from '../helpers/streams.js';

const GiB = 1024 * 1024 * 1024;
/** Memory this process may grow by while a 1 GiB body passes: a tenth of it. */
// The whole test process (other test files run in it too, in worker threads) may grow, but by far less than
// one body: a front that held a 1 GiB body would grow past it.
const MAX_GROWTH = 400 * 1024 * 1024;

class PeakRss {
  readonly base = process.memoryUsage().rss;
  peak = this.base;
  #n = 0;
  /** Samples every 256th call (memoryUsage is not free). */
  sample(): void {
    if (this.#n++ % 256 === 0) this.peak = Math.max(this.peak, process.memoryUsage().rss);
  }
  get growth(): number {
    return this.peak - this.base;
  }
}

/** Runs a shell pipeline (curl | sha256sum and the like); resolves with its stdout. Bounded by curl's --max-time. */
function sh(script: string, stdin?: NodeJS.ReadableStream): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn('sh', ['-c', script], { stdio: [stdin ? 'pipe' : 'ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout?.on('data', (c: Buffer) => (out += c.toString()));
    if (stdin && child.stdin) {
      child.stdin.on('error', () => undefined);
      stdin.pipe(child.stdin);
    }
    child.once('error', reject);
    child.once('close', (code) => (code === 0 ? resolve(out) : reject(new Error(`exit ${code}`))));
  });
}

test.serial('1 GiB download and 1 GiB upload stream through intact with bounded memory', async (t) => {
  const rss = new PeakRss();
  const a = await backend(t, 'A', (req, res) => {
    if (req.method === 'GET') {
      const body = patternStream(GiB, 'down');
      body.on('data', () => rss.sample());
      res.writeHead(200, { 'Content-Length': GiB });
      return void body.pipe(res);
    }
    req.on('data', () => rss.sample());
    void sha256Of(req).then(({ hex, bytes }) => res.end(`${bytes} ${hex}`));
  });
  const world = await frontFor(t, { 'bulk.example.test': { port: a.port } });
  const url = `http://127.0.0.1:${world.port}/bulk`;
  const curl = `curl --silent --show-error --fail --max-time 100 -H 'Host: bulk.example.test'`;

  const down = await sh(`${curl} ${url} | sha256sum`);
  t.is(down.split(' ')[0], await expectedSha256(GiB, 'down'));

  const up = await sh(`${curl} -T - ${url}`, patternStream(GiB, 'up'));
  t.is(up, `${GiB} ${await expectedSha256(GiB, 'up')}`);

  t.true(rss.growth < MAX_GROWTH, `rss grew by ${Math.round(rss.growth / 1048576)} MiB`);
  t.log(`rss growth ${Math.round(rss.growth / 1048576)} MiB`);
});
