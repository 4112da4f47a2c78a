/**
 * Per-key FIFO mutex with a bounded wait: the per-client lock that keeps two connections
 * of the same client from interleaving writes to one archive (the original had none,
 * cldcb-protocol §6.3). A waiter that times out is removed from the queue.
 */
export type Release = () => void;

interface Waiter {
  grant: (r: Release) => void;
  timer: ReturnType<typeof setTimeout> | undefined;
}

export class KeyedLock {
  private readonly held = new Map<string, Waiter[]>();

  /** Number of keys currently held (tests, diagnostics). */
  get heldCount(): number {
    return this.held.size;
  }

  /**
   * Take the lock for `key`, waiting at most `timeoutMs` (undefined = forever).
   * @returns a release function (idempotent), or null on timeout.
   */
  acquire(key: string, timeoutMs?: number): Promise<Release | null> {
    const queue = this.held.get(key);
    if (!queue) {
      this.held.set(key, []);
      return Promise.resolve(this.releaser(key));
    }
    return new Promise<Release | null>((resolve) => {
      const w: Waiter = { grant: (r) => resolve(r), timer: undefined };
      if (timeoutMs !== undefined)
        w.timer = setTimeout(() => {
          const q = this.held.get(key);
          const i = q ? q.indexOf(w) : -1;
          if (i >= 0) q!.splice(i, 1);
          resolve(null);
        }, timeoutMs);
      queue.push(w);
    });
  }

  private releaser(key: string): Release {
    let done = false;
    return () => {
      if (done) return;
      done = true;
      const q = this.held.get(key);
      const next = q?.shift();
      if (!next) {
        this.held.delete(key);
        return;
      }
      clearTimeout(next.timer);
      next.grant(this.releaser(key));
    };
  }
}
