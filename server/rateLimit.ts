/**
 * Token bucket: `burst` requests at once, then one every `intervalMs`. Used per connection
 * and per source address ({@link AddressBuckets}) for recognition listings and downloads
 * (both are open to any key and cost the server reads and bandwidth). Over the limit, the
 * request is delayed, not refused, so a legitimate recovering client still gets its answer;
 * a flooding one is slowed to the rate.
 */
export class TokenBucket {
  private tokens: number;
  private last: number;

  constructor(
    private readonly burst: number,
    private readonly intervalMs: number,
    private readonly now: () => number = Date.now,
  ) {
    this.tokens = burst;
    this.last = now();
  }

  private refill(): void {
    const t = this.now();
    if (this.intervalMs > 0) {
      this.tokens = Math.min(this.burst, this.tokens + (t - this.last) / this.intervalMs);
    } else this.tokens = this.burst;
    this.last = t;
  }

  /** How long a request now would wait (0 = none), without taking a token. */
  wait(): number {
    this.refill();
    return this.tokens >= 1 ? 0 : Math.ceil((1 - this.tokens) * this.intervalMs);
  }

  /** Take one token; returns how long the caller must wait first (0 = go now). */
  take(): number {
    this.refill();
    this.tokens -= 1;
    if (this.tokens >= 0) return 0;
    return Math.ceil(-this.tokens * this.intervalMs);
  }

  /** Full again (nothing is owed): the bucket can be forgotten. */
  get idle(): boolean {
    this.refill();
    return this.tokens >= this.burst;
  }
}

/**
 * One {@link TokenBucket} per source address (addressKey in admission.ts), so a client that
 * opens many connections gets no more than one that opens one. A request that would wait
 * longer than `maxWaitMs` is refused instead (the caller closes that connection): queued
 * waits could otherwise pile up without bound and starve the next honest client from the
 * same address (behind NAT or Tor) for hours.
 */
export class AddressBuckets {
  private readonly buckets = new Map<string, TokenBucket>();

  constructor(
    private readonly burst: number,
    private readonly intervalMs: number,
    readonly maxWaitMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** @returns the wait before the request may go (ms), or null when it is over maxWaitMs (nothing taken). */
  take(address: string): number | null {
    let b = this.buckets.get(address);
    if (!b) {
      if (this.buckets.size >= 10_000) this.prune();
      this.buckets.set(address, (b = new TokenBucket(this.burst, this.intervalMs, this.now)));
    }
    if (b.wait() > this.maxWaitMs) return null;
    return b.take();
  }

  /** Forget buckets that are full again. */
  private prune(): void {
    for (const [a, b] of this.buckets) if (b.idle) this.buckets.delete(a);
  }

  get size(): number {
    return this.buckets.size;
  }
}
