/**
 * Approval ids are UUIDs (the store's column type). An id of any other shape is refused before a lookup:
 * handed to the database it would fail as an internal error, not a clean "no such approval".
 */
export function isApprovalId(value: unknown): value is string {
  return typeof value === 'string' && /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(value);
}
