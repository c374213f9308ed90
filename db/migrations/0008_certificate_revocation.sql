ALTER TABLE "certificates" ADD COLUMN "revoked_serial" text;--> statement-breakpoint
ALTER TABLE "certificates" ADD COLUMN "revoked_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "certificates" ADD COLUMN "revocation_reason" text;--> statement-breakpoint
ALTER TABLE "certificates" ADD COLUMN "revoked_by" text;--> statement-breakpoint
ALTER TABLE "certificates" ADD COLUMN "pending_revocation" jsonb;--> statement-breakpoint
ALTER TABLE "certificates" ADD COLUMN "pending_revocation_key_sealed" text;