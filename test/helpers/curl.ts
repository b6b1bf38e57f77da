/** The real curl, as a user runs it: exit code and output, never a throw for a failed transfer. */
import { execFile } from 'node:child_process';

export function curl(url: string, extra: readonly string[] = []): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    execFile('curl', ['-sS', '--max-time', '20', ...extra, url], (err, stdout, stderr) => {
      if (err && (err as NodeJS.ErrnoException).code === 'ENOENT') return reject(new Error('curl is not installed (apt-get install curl; the pretest step of npm test installs it as root)'));
      resolve({ code: err ? Number((err as { code?: unknown }).code) : 0, stdout, stderr });
    });
  });
}
