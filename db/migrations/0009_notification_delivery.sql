ALTER TABLE "events" ADD COLUMN "delivery_attempts" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "events" ADD COLUMN "last_delivery_error" text;--> statement-breakpoint
ALTER TABLE "events" ADD COLUMN "next_delivery_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "events" ADD COLUMN "given_up_at" timestamp with time zone;