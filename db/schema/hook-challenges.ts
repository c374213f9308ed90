import { index, pgTable, text, timestamp, uuid } from 'drizzle-orm/pg-core';
import type { PayloadType } from '../../core/domain/challenge-payload.ts';

/** Challenge content published through the responder's challenge-hook (web servers, automation, the core). */
export const hookChallenges = pgTable(
  'hook_challenges',
  {
    id: uuid('id').primaryKey(),
    domainName: text('domain_name').notNull(),
    type: text('type').$type<PayloadType>().notNull(),
    /** HTTP-01 file name (the token); null for dns and tls. */
    token: text('token'),
    /** Key authorization, TXT value, or PEM certificate. */
    content: text('content').notNull(),
    /** Sealed (AES-256-GCM, see core/secrets): the TLS-ALPN-01 challenge key. */
    keySealed: text('key_sealed'),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [index('hook_challenges_token_idx').on(t.token), index('hook_challenges_domain_idx').on(t.domainName)],
);
