// Request latency as a log-bucketed histogram: constant memory whatever the traffic, and quantiles
// accurate to one bucket (5 %), which is what p50/p99 on a dashboard needs.
const RATIO = 1.05;
const MIN_MS = 0.01;
const BUCKETS = Math.ceil(Math.log(600_000 / MIN_MS) / Math.log(RATIO)) + 1; // up to 10 minutes

export class LatencyHistogram {
  private readonly counts = new Float64Array(BUCKETS);
  count = 0;
  sumMs = 0;
  maxMs = 0;

  record(ms: number): void {
    const b = ms <= MIN_MS ? 0 : Math.min(BUCKETS - 1, Math.ceil(Math.log(ms / MIN_MS) / Math.log(RATIO)));
    this.counts[b]!++;
    this.count++;
    this.sumMs += ms;
    if (ms > this.maxMs) this.maxMs = ms;
  }

  /** Upper edge of the bucket holding the q-quantile (never above the largest sample); 0 when empty. */
  quantile(q: number): number {
    if (this.count === 0) return 0;
    const rank = Math.max(1, Math.ceil(q * this.count));
    let seen = 0;
    for (let b = 0; b < BUCKETS; b++) {
      seen += this.counts[b]!;
      if (seen >= rank) return Math.min(this.maxMs, MIN_MS * RATIO ** b);
    }
    return this.maxMs;
  }

  summary(): { count: number; p50_ms: number; p99_ms: number; mean_ms: number; max_ms: number } {
    return {
      count: this.count,
      p50_ms: this.quantile(0.5),
      p99_ms: this.quantile(0.99),
      mean_ms: this.count === 0 ? 0 : this.sumMs / this.count,
      max_ms: this.maxMs,
    };
  }
}
