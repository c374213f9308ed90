import { Cron } from 'croner';
import { z } from 'zod';
import { CoreError } from './errors.ts';
import { parseMasterKey } from './secrets/secret-box.ts';

/**
 * The environment, parsed and validated once at start-up. Names are a public contract (DESIGN.md §5);
 * a bad value stops start-up with one line naming the variable.
 */
const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

const portMessage = 'must be a port number 1-65535';
const port = z.coerce.number({ error: portMessage }).int(portMessage).min(1, portMessage).max(65535, portMessage);
const emptyAsUndefined = (v: unknown) => (typeof v === 'string' && v.trim() === '' ? undefined : v);
const optional = <T extends z.ZodType>(schema: T) => z.preprocess(emptyAsUndefined, schema.optional());
const idList = z.preprocess(
  (v) => (typeof v === 'string' ? v.split(/[\s,]+/).filter(Boolean) : []),
  z.array(z.string().regex(/^[A-Z0-9]+$/, 'must be a comma-separated list of Slack IDs (like U0123ABC)')),
);

/** A croner pattern (5 fields, or 6 with seconds), checked by croner itself. */
const cronPattern = (fallback: string) =>
  z.preprocess(
    emptyAsUndefined,
    z
      .string()
      .default(fallback)
      .refine((p) => {
        try {
          new Cron(p, { paused: true });
          return true;
        } catch {
          return false;
        }
      }, 'must be a cron pattern like "*/10 * * * *"'),
  );
const seconds = (fallback: number) =>
  z.preprocess(
    emptyAsUndefined,
    z.coerce.number({ error: 'must be a number of seconds' }).min(0, 'must be ≥ 0').default(fallback),
  );

const schema = z.object({
  DATABASE_URL: optional(z.string().regex(/^postgres(ql)?:\/\/.+/, 'must be a postgres:// or postgresql:// URL')),
  DATA_DIR: z.preprocess(emptyAsUndefined, z.string().default('./data')),
  MASTER_KEY: optional(z.string()),
  /** Keys that still open values sealed before a rotation (comma-separated); MASTER_KEY seals. */
  MASTER_KEY_PREVIOUS: z.preprocess(
    (v) => (typeof v === 'string' ? v.split(/[\s,]+/).filter(Boolean) : []),
    z.array(
      z.string().refine((k) => {
        try {
          parseMasterKey(k);
          return true;
        } catch {
          return false;
        }
      }, 'must be a comma-separated list of base64 32-byte keys (each as openssl rand -base64 32 makes them)'),
    ),
  ),
  RESPONDER_HOST: z.preprocess(emptyAsUndefined, z.string().default('0.0.0.0')),
  RESPONDER_PORT: z.preprocess(emptyAsUndefined, port.default(8080)),
  TLS_ALPN_PORT: optional(port),
  SLACK_BOT_TOKEN: optional(z.string().startsWith('xoxb-', 'must start with xoxb-')),
  SLACK_SIGNING_SECRET: optional(z.string().min(8, 'is too short to be a signing secret')),
  SLACK_APP_TOKEN: optional(z.string().startsWith('xapp-', 'must start with xapp-')),
  SLACK_PORT: z.preprocess(emptyAsUndefined, port.default(3000)),
  SLACK_API_URL: optional(z.url()),
  SLACK_NOTIFY_CHANNEL: optional(z.string()),
  SLACK_ADMINS: idList,
  /** Slack user IDs (U…) and user group IDs (S…, resolved with usergroups.users.list) that may decide. */
  SLACK_APPROVERS: idList,
  /** DM each approver (in SLACK_APPROVERS, groups expanded) the approval request with its buttons, beside the channel. */
  SLACK_APPROVER_DM: z.preprocess(
    emptyAsUndefined,
    z
      .enum(['true', 'false', '1', '0'], { error: 'must be true or false' })
      .default('false')
      .transform((v) => v === 'true' || v === '1'),
  ),
  /**
   * OS user names that may decide approvals from the CLI (the actor `cli:<name>` comes from the process's uid,
   * never from $USER). Empty: nobody may decide from the CLI (fail closed, like SLACK_APPROVERS).
   */
  CLI_APPROVERS: z.preprocess(
    (v) => (typeof v === 'string' ? v.split(/[\s,]+/).filter(Boolean) : []),
    z.array(
      z
        .string()
        .regex(
          /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}\$?$/,
          'must be a comma-separated list of OS user names (like alice,ops-bot)',
        ),
    ),
  ),
  /** Whether whoever asked for an approval (a CSR from Slack, say) may decide it too. Off: four eyes. */
  APPROVAL_ALLOW_SELF: z.preprocess(
    emptyAsUndefined,
    z
      .enum(['true', 'false', '1', '0'], { error: 'must be true or false' })
      .default('false')
      .transform((v) => v === 'true' || v === '1'),
  ),
  /** How the core reaches the built-in responder's challenge-hook (default: http://127.0.0.1:RESPONDER_PORT). */
  RESPONDER_URL: optional(z.url({ protocol: /^https?$/, error: 'must be an http:// or https:// URL' })),
  /** CIDRs that domain API endpoints may use although they are link-local or metadata addresses. */
  ENDPOINT_ALLOW_CIDRS: z.preprocess(
    (v) => (typeof v === 'string' ? v.split(/[\s,]+/).filter(Boolean) : []),
    z.array(
      z.string().regex(/^[0-9a-fA-F:.]+\/\d{1,3}$/, 'must be a comma-separated list of CIDRs (like 169.254.0.0/16)'),
    ),
  ),
  /** PEM file of extra CA certificates to trust for the ACME server (private CAs, Pebble in tests). */
  ACME_CA_FILE: optional(z.string()),
  /** Bound on each request to the CA, connecting included: a CA that accepts and never answers fails after it. */
  ACME_TIMEOUT_SECONDS: z.preprocess(
    emptyAsUndefined,
    z.coerce
      .number({ error: 'must be a number of seconds' })
      .min(1, 'must be at least 1 second')
      .max(300, 'must be at most 300 seconds')
      .default(10),
  ),
  LOG_LEVEL: z.preprocess(emptyAsUndefined, z.enum(LOG_LEVELS).default('info')),
  // Where Test Connection looks before asking the CA: the CA dials 80/443 of the name's public addresses.
  CHALLENGE_HTTP_PORT: z.preprocess(emptyAsUndefined, port.default(80)),
  CHALLENGE_TLS_PORT: z.preprocess(emptyAsUndefined, port.default(443)),
  CHALLENGE_DNS_SERVERS: z.preprocess(
    (v) => (typeof v === 'string' ? v.split(/[\s,]+/).filter(Boolean) : []),
    z.array(z.string().regex(/^[0-9a-fA-F:.[\]]+$/, 'must be a comma-separated list of ip or ip:port')),
  ),
  // A deploy's last step: a TLS handshake with each bound virtual server must show the new serial. `off` for a
  // host that cannot reach the virtual servers' addresses (the deploy then trusts the device's own answers).
  DEPLOY_HANDSHAKE_CHECK: z.preprocess(emptyAsUndefined, z.enum(['required', 'off']).default('required')),
  // The worker role's schedules (UTC) and its claims on work shared with other replicas.
  JOBS_RENEW_CRON: cronPattern('*/10 * * * *'),
  JOBS_DEPLOY_CRON: cronPattern('*/5 * * * *'),
  JOBS_RECONFIGURE_CRON: cronPattern('17 * * * *'),
  JOBS_CLEANUP_CRON: cronPattern('43 3 * * *'),
  /** Each scheduled run first waits a random 0…N seconds (certbot's 0–8 min), so replicas spread out. */
  JOBS_START_DELAY_MAX_SECONDS: seconds(480),
  /** How long a claim on a certificate lasts without renewal; a dead worker's work is taken over after it. */
  JOBS_LEASE_SECONDS: z.preprocess(
    emptyAsUndefined,
    z.coerce.number({ error: 'must be a number of seconds' }).min(1, 'must be ≥ 1').default(60),
  ),
});

export type Config = z.infer<typeof schema>;

const SECRET_VARIABLES = /^MASTER_KEY|TOKEN|SECRET/;

export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const result = schema.safeParse(env);
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  const variable = String(issue.path[0] ?? 'environment');
  const raw = env[variable];
  // Never echo a secret, a database password, or a multi-line value into the one-line error.
  const redacted = variable === 'DATABASE_URL' ? raw?.replace(/\/\/[^@/]*@/, '//***@') : raw;
  const shown =
    raw === undefined || SECRET_VARIABLES.test(variable) ? '' : ` (got ${JSON.stringify(redacted!.slice(0, 200))})`;
  throw new CoreError('config_invalid', `${variable} ${issue.message}${shown}`);
}

/** How the core reaches its own responder's challenge-hook: RESPONDER_URL, else the local RESPONDER_PORT. */
export function builtinResponderUrl(config: Pick<Config, 'RESPONDER_URL' | 'RESPONDER_PORT'>): string {
  return config.RESPONDER_URL ?? `http://127.0.0.1:${config.RESPONDER_PORT}`;
}
