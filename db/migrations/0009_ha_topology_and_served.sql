ALTER TABLE "bindings" ADD COLUMN "served_serial" text;--> statement-breakpoint
ALTER TABLE "bindings" ADD COLUMN "served_verified_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "devices" ADD COLUMN "ha_topology" jsonb;