/**
 * What a start-up has acquired, to release in reverse order: the same stack serves a start that fails
 * half-way (everything acquired so far is released before the error is rethrown) and the close() of
 * one that succeeded. A cleanup that throws does not keep the others from running.
 */
export class CleanupStack {
  readonly #steps: { what: string; run: () => unknown }[] = [];

  /** Adds a release step for something just acquired. */
  push(what: string, run: () => unknown): void {
    this.#steps.push({ what, run });
  }

  /** Releases everything, last acquired first; returns what failed to release. */
  async release(): Promise<{ what: string; err: unknown }[]> {
    const failed: { what: string; err: unknown }[] = [];
    for (let step = this.#steps.pop(); step; step = this.#steps.pop()) {
      try {
        await step.run();
      } catch (err) {
        failed.push({ what: step.what, err });
      }
    }
    return failed;
  }

  /** Runs `start`; if it throws, releases what was acquired so far and rethrows. */
  async guard<T>(start: () => Promise<T>): Promise<T> {
    try {
      return await start();
    } catch (err) {
      await this.release();
      throw err;
    }
  }
}
