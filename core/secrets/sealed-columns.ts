/**
 * Every database column that holds a sealed value, with the associated data it is sealed for. Key rotation and
 * `secrets status` walk exactly this list, so a sealed column missing here would keep its old key forever; the
 * store tests check the schema's `*_sealed` columns and every `v1.` value in the database against it.
 */
export interface SealedColumn {
  /** Table name in the database. */
  table: string;
  /** Column name in the database. */
  column: string;
  /** The column part of the associated data (`table:rowId:<aadColumn>`, see core-deps.ts secretAad). */
  aadColumn: string;
}

export const SEALED_COLUMNS: readonly SealedColumn[] = [
  { table: 'profiles', column: 'account_key_sealed', aadColumn: 'account_key' },
  { table: 'profiles', column: 'eab_hmac_key_sealed', aadColumn: 'eab_hmac_key' },
  { table: 'certificates', column: 'key_sealed', aadColumn: 'key' },
  // A renewal's key is sealed for the certificate's `key` column: it becomes that key when the renewal lands.
  { table: 'certificates', column: 'renewal_key_sealed', aadColumn: 'key' },
  // The key of a certificate waiting to be revoked by its own key (`cert revoke --reissue`): moved over from
  // `key_sealed` unchanged, so sealed for `key` too.
  { table: 'certificates', column: 'pending_revocation_key_sealed', aadColumn: 'key' },
  { table: 'certificates', column: 'passphrase_sealed', aadColumn: 'passphrase' },
  { table: 'authorizations', column: 'tls_key_sealed', aadColumn: 'tls_key' },
  { table: 'hook_challenges', column: 'key_sealed', aadColumn: 'key' },
  { table: 'domains', column: 'endpoint_password_sealed', aadColumn: 'endpoint_password' },
  { table: 'domains', column: 'dns_secret_sealed', aadColumn: 'dns_secret' },
  { table: 'devices', column: 'password_sealed', aadColumn: 'password' },
];

/** `table.column`, the name progress lines and status use. */
export function sealedColumnName(c: SealedColumn): string {
  return `${c.table}.${c.column}`;
}
