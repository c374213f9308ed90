/**
 * The master keys this process holds, as the key rotation sees them: the primary seals new values, every key in
 * the ring opens. Where they come from decides what rotation may do: keys from a file (embedded mode,
 * `DATA_DIR/master.key`) can be replaced by the process itself; keys from the environment are the operator's to
 * change on every process, so the process can only use what it was given.
 */
export interface MasterKeys {
  readonly source: 'file' | 'environment';
  /** Key ids, the primary first, then the keys that still open (each once). */
  keyIds(): string[];
  /**
   * File source only: makes a new key the primary while the current one keeps opening, durably on disk before
   * anything is sealed under it. Returns the new key's id.
   */
  generatePrimary(): string;
  /** Stops a non-primary key from opening: from the file (file source) and from this process's ring. */
  dropKey(keyId: string): void;
}
