/**
 * A button value or view metadata read back as a JSON object, or null for anything else. Both come back
 * from Slack in a signed request, but what they say is still checked field by field by the caller.
 */
export function parseJsonObject(raw: string | undefined): Record<string, unknown> | null {
  let v: unknown;
  try {
    v = JSON.parse(raw ?? '');
  } catch {
    return null;
  }
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : null;
}
