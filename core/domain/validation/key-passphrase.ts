/** The shortest passphrase that may encrypt a private key on the BIG-IP; shorter ones are refused, not padded. */
export const MIN_KEY_PASSPHRASE = 4;

/** Whether an optional key passphrase is acceptable: absent, or at least MIN_KEY_PASSPHRASE characters. */
export function isKeyPassphraseLongEnough(passphrase: string | null | undefined): boolean {
  return passphrase === null || passphrase === undefined || passphrase.length >= MIN_KEY_PASSPHRASE;
}

/** The passphrase rule as a field problem: why it is refused, or null when it is acceptable. */
export function keyPassphraseProblem(passphrase: string | null | undefined): string | null {
  return isKeyPassphraseLongEnough(passphrase)
    ? null
    : `the key passphrase must be at least ${MIN_KEY_PASSPHRASE} characters (or none at all)`;
}
