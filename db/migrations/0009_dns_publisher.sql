ALTER TABLE "domains" ADD COLUMN "dns_publisher" jsonb;--> statement-breakpoint
ALTER TABLE "domains" ADD COLUMN "dns_secret_sealed" text;