/**
 * Nonces the CA has handed out and nobody has used yet. Every answer from the CA carries a `Replay-Nonce`
 * (RFC 8555 §6.5); keeping them saves the `HEAD newNonce` round trip a signed request would otherwise start
 * with. Newest first: the freshest nonce is the least likely to have expired at the CA. A nonce the CA no
 * longer accepts costs one badNonce answer, which brings a fresh nonce: no worse than asking for one.
 */
export class NoncePool {
  private readonly nonces: { value: string; at: number }[] = [];

  constructor(private readonly opts: { capacity?: number; maxAgeMs?: number; now?: () => number } = {}) {}

  private get capacity(): number {
    return this.opts.capacity ?? 32;
  }

  private now(): number {
    return (this.opts.now ?? Date.now)();
  }

  /** Keeps a nonce from an answer (ignores a missing one); the oldest is dropped when full. */
  put(nonce: string | undefined): void {
    if (!nonce) return;
    this.nonces.push({ value: nonce, at: this.now() });
    if (this.nonces.length > this.capacity) this.nonces.shift();
  }

  /** The newest unexpired nonce, removed from the pool so no two requests sign with it. */
  take(): string | undefined {
    const oldest = this.now() - (this.opts.maxAgeMs ?? 60_000);
    for (let entry = this.nonces.pop(); entry; entry = this.nonces.pop()) {
      if (entry.at >= oldest) return entry.value;
    }
    return undefined;
  }

  /** Takes this particular nonce out of the pool; false when it was never put or is already taken. */
  claim(nonce: string | undefined): boolean {
    const i = nonce ? this.nonces.findIndex((n) => n.value === nonce) : -1;
    if (i < 0) return false;
    this.nonces.splice(i, 1);
    return true;
  }

  get size(): number {
    return this.nonces.length;
  }
}
