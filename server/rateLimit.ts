/**
 * Token bucket: `burst` requests at once, then one every `intervalMs`. Used per connection
 * for recognition listings and downloads (both are open to any key and cost the server
 * reads and bandwidth). Over the limit, the request is delayed, not refused, so a
 * legitimate recovering client still gets its answer; a flooding one is slowed to the rate.
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

  /** Take one token; returns how long the caller must wait first (0 = go now). */
  take(): number {
    const t = this.now();
    if (this.intervalMs > 0) {
      this.tokens = Math.min(this.burst, this.tokens + (t - this.last) / this.intervalMs);
    } else this.tokens = this.burst;
    this.last = t;
    this.tokens -= 1;
    if (this.tokens >= 0) return 0;
    return Math.ceil(-this.tokens * this.intervalMs);
  }
}
