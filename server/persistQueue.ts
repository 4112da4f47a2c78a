/**
 * Coalescing writer for a small whole-file store: `save()` resolves once a write that
 * started after the call has reached the disk (temp + fsync + rename + dir fsync).
 * Concurrent saves share one write; writes never overlap. Tracks whether the file holds
 * the latest state, so an unchanged store is not rewritten — unless a previous write failed.
 */
export class PersistQueue {
  private running: Promise<void> | null = null;
  private next: Promise<void> | null = null;
  private generation = 0;
  private savedGeneration = 0;

  constructor(private readonly write: () => Promise<void>) {}

  /** Call after every change of the in-memory state. */
  changed(): void {
    this.generation++;
  }

  /** True when the file holds the latest state. */
  get saved(): boolean {
    return this.savedGeneration === this.generation;
  }

  /** Persist the current state. Rejects when that write fails. */
  save(): Promise<void> {
    if (this.next) return this.next;
    if (!this.running) {
      const gen = this.generation;
      this.running = this.write()
        .then(() => {
          this.savedGeneration = Math.max(this.savedGeneration, gen);
        })
        .finally(() => {
          this.running = null;
        });
      return this.running;
    }
    const after = this.running.catch(() => {});
    this.next = after.then(() => {
      this.next = null;
      return this.save();
    });
    return this.next;
  }

  /** Wait for every pending write (errors ignored: they were reported to their callers). */
  async flush(): Promise<void> {
    while (this.running || this.next) await (this.next ?? this.running)!.catch(() => {});
  }
}
