// Per-key exponential backoff: base * 2^(failures-1), capped; forgotten on success.
export class ExponentialBackoff {
  private readonly failures = new Map<string, number>();

  constructor(
    private readonly baseMs = 500,
    private readonly maxMs = 5 * 60_000,
  ) {}

  /** Records a failure of `key` and returns how long to wait before its retry. */
  next(key: string): number {
    const n = (this.failures.get(key) ?? 0) + 1;
    this.failures.set(key, n);
    return Math.min(this.maxMs, this.baseMs * 2 ** (n - 1));
  }

  retries(key: string): number {
    return this.failures.get(key) ?? 0;
  }

  forget(key: string): void {
    this.failures.delete(key);
  }
}
