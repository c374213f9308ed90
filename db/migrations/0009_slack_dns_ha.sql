CREATE TABLE "approval_messages" (
	"approval_id" uuid NOT NULL,
	"channel" text NOT NULL,
	"ts" text NOT NULL,
	"posted_at" timestamp with time zone NOT NULL,
	CONSTRAINT "approval_messages_channel_ts_pk" PRIMARY KEY("channel","ts")
);
--> statement-breakpoint
ALTER TABLE "domains" ADD COLUMN "dns_publisher" jsonb;--> statement-breakpoint
ALTER TABLE "domains" ADD COLUMN "dns_secret_sealed" text;--> statement-breakpoint
ALTER TABLE "bindings" ADD COLUMN "served_serial" text;--> statement-breakpoint
ALTER TABLE "bindings" ADD COLUMN "served_verified_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "devices" ADD COLUMN "ha_topology" jsonb;--> statement-breakpoint
ALTER TABLE "events" ADD COLUMN "delivery_attempts" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "events" ADD COLUMN "last_delivery_error" text;--> statement-breakpoint
ALTER TABLE "events" ADD COLUMN "next_delivery_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "events" ADD COLUMN "given_up_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "approval_messages" ADD CONSTRAINT "approval_messages_approval_id_approvals_id_fk" FOREIGN KEY ("approval_id") REFERENCES "public"."approvals"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "approval_messages_approval_idx" ON "approval_messages" USING btree ("approval_id");