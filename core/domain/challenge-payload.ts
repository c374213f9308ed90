import { z } from 'zod';
import { CoreError } from '../errors.ts';

/**
 * The seed's one wire format for challenge endpoints (DESIGN.md §5): what the core POSTs to a domain's API
 * endpoint, what the responder's challenge-hook accepts, and what its GET returns.
 */
const httpEntry = z.strictObject({
  type: z.literal('http'),
  content: z
    .string()
    .regex(/^[A-Za-z0-9_-]{22,128}\.[A-Za-z0-9_-]{43}$/, 'must be a key authorization (token.thumbprint)'),
  fileName: z.string().regex(/^[A-Za-z0-9_-]{22,128}$/, 'must be an ACME token'),
});
const dnsEntry = z.strictObject({
  type: z.literal('dns'),
  content: z.string().regex(/^[A-Za-z0-9_-]{43}$/, 'must be a DNS-01 TXT value (43 base64url characters)'),
});
const tlsEntry = z.strictObject({
  type: z.literal('tls'),
  content: z.string().max(16_384).includes('-----BEGIN CERTIFICATE-----', { message: 'must be a PEM certificate' }),
  keyContent: z
    .string()
    .max(16_384)
    .regex(/-----BEGIN [A-Z ]*PRIVATE KEY-----/, 'must be a PEM private key'),
});

export const challengePayloadSchema = z.strictObject({
  challenges: z
    .array(z.discriminatedUnion('type', [httpEntry, dnsEntry, tlsEntry]))
    .min(1)
    .max(10),
});

export type ChallengePayload = z.infer<typeof challengePayloadSchema>;
export type ChallengeEntry = ChallengePayload['challenges'][number];
export type PayloadType = ChallengeEntry['type'];

/** Parses a payload, naming the first wrong field (e.g. `challenges[0].fileName: must be an ACME token`). */
export function parseChallengePayload(value: unknown): ChallengePayload {
  const result = challengePayloadSchema.safeParse(value);
  if (result.success) {
    for (const entry of result.data.challenges) {
      if (entry.type === 'http' && entry.content.split('.')[0] !== entry.fileName) {
        throw new CoreError('input_invalid', 'challenges[].fileName: must equal the token part of content');
      }
    }
    return result.data;
  }
  const issue = result.error.issues[0]!;
  const path = issue.path
    .map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`))
    .join('')
    .replace(/^\./, '');
  throw new CoreError('input_invalid', `${path || 'body'}: ${issue.message}`);
}
