CREATE TABLE "bindings" (
	"id" uuid PRIMARY KEY NOT NULL,
	"certificate_id" uuid NOT NULL,
	"device_id" uuid NOT NULL,
	"profile_path" text NOT NULL,
	"create_profile" boolean DEFAULT false NOT NULL,
	"parent_profile" text DEFAULT '/Common/clientssl' NOT NULL,
	"deployed_fingerprint" text,
	"deployed_serial" text,
	"deployed_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "deployments" (
	"id" uuid PRIMARY KEY NOT NULL,
	"certificate_id" uuid NOT NULL,
	"device_id" uuid NOT NULL,
	"serial" text NOT NULL,
	"objects" jsonb NOT NULL,
	"profiles" text[] DEFAULT '{}' NOT NULL,
	"old_fingerprints" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"new_fingerprint" text NOT NULL,
	"result" text NOT NULL,
	"step" text NOT NULL,
	"error" jsonb,
	"outcome" text,
	"actor" text NOT NULL,
	"started_at" timestamp with time zone NOT NULL,
	"finished_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "device_objects" (
	"id" uuid PRIMARY KEY NOT NULL,
	"device_id" uuid NOT NULL,
	"certificate_id" uuid NOT NULL,
	"kind" text NOT NULL,
	"full_path" text NOT NULL,
	"serial" text NOT NULL,
	"installed_at" timestamp with time zone NOT NULL,
	"removed_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "devices" (
	"id" uuid PRIMARY KEY NOT NULL,
	"name" text NOT NULL,
	"url" text NOT NULL,
	"username" text NOT NULL,
	"password_sealed" text NOT NULL,
	"partition" text DEFAULT 'Common' NOT NULL,
	"ca_pem" text,
	"insecure" boolean DEFAULT false NOT NULL,
	"hostname" text,
	"version" text,
	"last_test" jsonb,
	"last_test_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "devices_name_unique" UNIQUE("name")
);
--> statement-breakpoint
ALTER TABLE "domains" ADD COLUMN "data_group_device_ids" uuid[] DEFAULT '{}' NOT NULL;--> statement-breakpoint
ALTER TABLE "domains" ADD COLUMN "data_group_path" text;--> statement-breakpoint
ALTER TABLE "bindings" ADD CONSTRAINT "bindings_certificate_id_certificates_id_fk" FOREIGN KEY ("certificate_id") REFERENCES "public"."certificates"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "bindings" ADD CONSTRAINT "bindings_device_id_devices_id_fk" FOREIGN KEY ("device_id") REFERENCES "public"."devices"("id") ON DELETE restrict ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "deployments" ADD CONSTRAINT "deployments_certificate_id_certificates_id_fk" FOREIGN KEY ("certificate_id") REFERENCES "public"."certificates"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "deployments" ADD CONSTRAINT "deployments_device_id_devices_id_fk" FOREIGN KEY ("device_id") REFERENCES "public"."devices"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "device_objects" ADD CONSTRAINT "device_objects_device_id_devices_id_fk" FOREIGN KEY ("device_id") REFERENCES "public"."devices"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "device_objects" ADD CONSTRAINT "device_objects_certificate_id_certificates_id_fk" FOREIGN KEY ("certificate_id") REFERENCES "public"."certificates"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "bindings_device_profile_uq" ON "bindings" USING btree ("device_id","profile_path");--> statement-breakpoint
CREATE INDEX "bindings_certificate_idx" ON "bindings" USING btree ("certificate_id");--> statement-breakpoint
CREATE INDEX "deployments_certificate_device_idx" ON "deployments" USING btree ("certificate_id","device_id","started_at");--> statement-breakpoint
CREATE UNIQUE INDEX "device_objects_device_path_uq" ON "device_objects" USING btree ("device_id","full_path");