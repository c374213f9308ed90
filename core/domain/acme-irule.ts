/**
 * The iRule that answers HTTP-01 from an internal string data-group on the BIG-IP itself (the kojot-acme
 * pattern): the core adds `token → key authorization` records before validation and removes them after.
 * Only the prefix is compared case-insensitively; the token is taken from the original path because tokens
 * are case-sensitive. Runs at priority 2, ahead of the virtual server's other rules, and stops there.
 */
export const DEFAULT_DATA_GROUP = '/Common/acme_responder_dg';
export const DEFAULT_RESPONDER_RULE = '/Common/bigip_acme_responder';

const FULL_PATH = /^\/[A-Za-z][A-Za-z0-9._-]{0,63}(\/[A-Za-z][A-Za-z0-9._-]{0,127}){1,2}$/;

export function isFullPath(path: string): boolean {
  return FULL_PATH.test(path);
}

export function acmeResponderRule(dataGroupPath: string): string {
  if (!isFullPath(dataGroupPath)) throw new Error(`not a BIG-IP full path: ${dataGroupPath}`);
  return `# bigip-acme: answers ACME HTTP-01 challenges from data-group ${dataGroupPath}. Managed by bigip-acme.
when HTTP_REQUEST priority 2 {
  if { [string tolower [HTTP::path]] starts_with "/.well-known/acme-challenge/" } {
    set acme_token [string range [HTTP::path] 28 end]
    set acme_response [class lookup $acme_token ${dataGroupPath}]
    if { $acme_response ne "" } {
      HTTP::respond 200 content $acme_response noserver Content-Type "text/plain" Cache-Control "no-store"
    } else {
      HTTP::respond 503 content "<html><body><h1>503 - Error</h1><p>Content not found.</p></body></html>" noserver Content-Type "text/html"
    }
    event disable
    return
  }
}
`;
}

/** The virtual server's rule list with the responder rule added once, after the rules already there. */
export function mergeRules(existing: readonly string[], rule: string): string[] {
  return existing.includes(rule) ? [...existing] : [...existing, rule];
}
