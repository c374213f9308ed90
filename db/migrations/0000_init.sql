CREATE TABLE "audit_log" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"at" timestamp with time zone DEFAULT now() NOT NULL,
	"actor" text NOT NULL,
	"action" text NOT NULL,
	"object_type" text NOT NULL,
	"object_id" text,
	"object_name" text,
	"result" text NOT NULL,
	"detail" jsonb DEFAULT '{}'::jsonb NOT NULL
);
--> statement-breakpoint
CREATE TABLE "certificates" (
	"id" uuid PRIMARY KEY NOT NULL,
	"name" text NOT NULL,
	"profile_id" uuid NOT NULL,
	"partition" text DEFAULT 'Common' NOT NULL,
	"common_name" text NOT NULL,
	"sans" text[] DEFAULT '{}' NOT NULL,
	"key_spec" text NOT NULL,
	"key_sealed" text,
	"passphrase_sealed" text,
	"csr_pem" text,
	"state" text NOT NULL,
	"order_url" text,
	"finalize_url" text,
	"authorization_urls" text[] DEFAULT '{}' NOT NULL,
	"order_status" text,
	"order_attempts" integer DEFAULT 0 NOT NULL,
	"problem" jsonb,
	"chain_pem" text,
	"serial" text,
	"not_before" timestamp with time zone,
	"not_after" timestamp with time zone,
	"fingerprint_sha256" text,
	"subject" text,
	"issuer" text,
	"issued_at" timestamp with time zone,
	"requested_by" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "certificates_name_unique" UNIQUE("name")
);
--> statement-breakpoint
CREATE TABLE "authorizations" (
	"id" uuid PRIMARY KEY NOT NULL,
	"domain_id" uuid NOT NULL,
	"url" text NOT NULL,
	"identifier" text NOT NULL,
	"wildcard" boolean DEFAULT false NOT NULL,
	"status" text NOT NULL,
	"expires_at" timestamp with time zone,
	"challenges" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"http_token" text,
	"http_key_authorization" text,
	"dns_txt_value" text,
	"tls_cert_pem" text,
	"tls_key_sealed" text,
	"answered_type" text,
	"problem" jsonb,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "authorizations_url_unique" UNIQUE("url")
);
--> statement-breakpoint
CREATE TABLE "domains" (
	"id" uuid PRIMARY KEY NOT NULL,
	"profile_id" uuid NOT NULL,
	"name" text NOT NULL,
	"challenge_type" text NOT NULL,
	"status" text DEFAULT 'pending' NOT NULL,
	"current_authorization_id" uuid,
	"problem" jsonb,
	"last_checked_at" timestamp with time zone,
	"last_check_detail" text,
	"endpoint_url" text,
	"endpoint_username" text,
	"endpoint_password_sealed" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "profiles" (
	"id" uuid PRIMARY KEY NOT NULL,
	"name" text NOT NULL,
	"directory_url" text NOT NULL,
	"key_spec" text NOT NULL,
	"contact" text[] DEFAULT '{}' NOT NULL,
	"tos_agreed" boolean NOT NULL,
	"tos_url" text,
	"eab_kid" text,
	"eab_hmac_key_sealed" text,
	"account_key_sealed" text NOT NULL,
	"account_url" text NOT NULL,
	"acme_profile" text,
	"auto_renew" boolean DEFAULT true NOT NULL,
	"renew_days_before" integer DEFAULT 7 NOT NULL,
	"auto_deploy" boolean DEFAULT true NOT NULL,
	"deploy_time" text DEFAULT '00:00' NOT NULL,
	"deploy_time_zone" text DEFAULT 'UTC' NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "profiles_name_unique" UNIQUE("name")
);
--> statement-breakpoint
ALTER TABLE "certificates" ADD CONSTRAINT "certificates_profile_id_profiles_id_fk" FOREIGN KEY ("profile_id") REFERENCES "public"."profiles"("id") ON DELETE restrict ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "authorizations" ADD CONSTRAINT "authorizations_domain_id_domains_id_fk" FOREIGN KEY ("domain_id") REFERENCES "public"."domains"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "domains" ADD CONSTRAINT "domains_profile_id_profiles_id_fk" FOREIGN KEY ("profile_id") REFERENCES "public"."profiles"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "audit_log_object_idx" ON "audit_log" USING btree ("object_id");--> statement-breakpoint
CREATE INDEX "authorizations_http_token_idx" ON "authorizations" USING btree ("http_token");--> statement-breakpoint
CREATE INDEX "authorizations_identifier_idx" ON "authorizations" USING btree ("identifier");--> statement-breakpoint
CREATE UNIQUE INDEX "domains_profile_name_uq" ON "domains" USING btree ("profile_id","name");--> statement-breakpoint
CREATE INDEX "domains_name_idx" ON "domains" USING btree ("name");