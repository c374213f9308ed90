/**
 * Waits, bounded, until a DNS-01 TXT value is visible where the CA will look: at the zone's authoritative
 * servers. Asking the CA to validate before then burns a rate-limited attempt and invalidates the
 * authorization.
 */
export interface PropagationResult {
  ok: boolean;
  /** One human line: which servers were asked and what each returned, never a secret. */
  detail: string;
  /** Time spent polling, including the pauses between polls. */
  waitedMs: number;
}

export interface DnsPropagation {
  /**
   * Resolves once every authoritative server that answers has `value` among the TXT records of `recordName`
   * (e.g. `_acme-challenge.example.com`), or with `ok: false` after `timeoutMs`. Never throws.
   */
  waitForTxt(
    recordName: string,
    value: string,
    opts?: {
      /** Default 120000. */
      timeoutMs?: number;
      /** Pause between polls; default 2000. */
      intervalMs?: number;
    },
  ): Promise<PropagationResult>;
}
