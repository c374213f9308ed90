CREATE TABLE "hook_challenges" (
	"id" uuid PRIMARY KEY NOT NULL,
	"domain_name" text NOT NULL,
	"type" text NOT NULL,
	"token" text,
	"content" text NOT NULL,
	"key_sealed" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "domains" ADD COLUMN "endpoint_password_verifier" text;--> statement-breakpoint
CREATE INDEX "hook_challenges_token_idx" ON "hook_challenges" USING btree ("token");--> statement-breakpoint
CREATE INDEX "hook_challenges_domain_idx" ON "hook_challenges" USING btree ("domain_name");--> statement-breakpoint
-- Hook-published HTTP-01 tokens reach every responder's cache the same way authorizations do (0001).
CREATE OR REPLACE FUNCTION bigip_acme_notify_hook_challenge() RETURNS trigger AS $$
BEGIN
  IF TG_OP = 'DELETE' THEN
    IF OLD.token IS NOT NULL THEN PERFORM pg_notify('bigip_acme_challenges', OLD.token); END IF;
    RETURN OLD;
  END IF;
  IF NEW.token IS NOT NULL THEN PERFORM pg_notify('bigip_acme_challenges', NEW.token); END IF;
  RETURN NEW;
END;
$$ LANGUAGE plpgsql;
--> statement-breakpoint
CREATE TRIGGER hook_challenges_notify
AFTER INSERT OR DELETE OR UPDATE ON hook_challenges
FOR EACH ROW EXECUTE FUNCTION bigip_acme_notify_hook_challenge();
