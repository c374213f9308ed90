ALTER TABLE "certificates" ADD COLUMN "renewal_state" text;--> statement-breakpoint
ALTER TABLE "certificates" ADD COLUMN "renewal_key_sealed" text;--> statement-breakpoint
ALTER TABLE "certificates" ADD COLUMN "renewal_csr_pem" text;--> statement-breakpoint
ALTER TABLE "certificates" ADD COLUMN "last_renewal_error" jsonb;--> statement-breakpoint
ALTER TABLE "certificates" ADD COLUMN "last_renewal_attempt_at" timestamp with time zone;--> statement-breakpoint
CREATE INDEX "certificates_retry_idx" ON "certificates" USING btree ("next_attempt_at") WHERE failed_attempts > 0;--> statement-breakpoint
-- Renewals in flight before this migration ran in the certificate's own columns, and had already replaced
-- the live key: they move to the renewal columns, and the certificate is `issued` again (its chain is still
-- on the row; deploying it needs the renewal to finish, as before, since the old key is gone).
UPDATE "certificates" SET
  "renewal_state" = "state",
  "renewal_key_sealed" = "key_sealed",
  "renewal_csr_pem" = "csr_pem",
  "key_sealed" = NULL,
  "csr_pem" = NULL,
  "last_renewal_error" = CASE WHEN "problem" IS NULL THEN NULL ELSE jsonb_build_object(
    'code', COALESCE("problem"->>'type', 'acme_error'),
    'message', COALESCE("problem"->>'detail', ''),
    'at', to_char("updated_at" AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')) END,
  "problem" = NULL,
  "renewal_started_at" = COALESCE("renewal_started_at", "updated_at"),
  "state" = 'issued'
WHERE "serial" IS NOT NULL AND "state" <> 'issued';
