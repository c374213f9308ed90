-- Every change to an authorization's HTTP-01 token is announced on one channel, whoever wrote it, so every
-- responder replica (LISTEN) updates its in-memory cache at once instead of querying per request.
CREATE OR REPLACE FUNCTION bigip_acme_notify_challenge() RETURNS trigger AS $$
BEGIN
  IF TG_OP = 'DELETE' THEN
    IF OLD.http_token IS NOT NULL THEN
      PERFORM pg_notify('bigip_acme_challenges', OLD.http_token);
    END IF;
    RETURN OLD;
  END IF;
  IF NEW.http_token IS NOT NULL THEN
    PERFORM pg_notify('bigip_acme_challenges', NEW.http_token);
  END IF;
  IF TG_OP = 'UPDATE' AND OLD.http_token IS DISTINCT FROM NEW.http_token AND OLD.http_token IS NOT NULL THEN
    PERFORM pg_notify('bigip_acme_challenges', OLD.http_token);
  END IF;
  RETURN NEW;
END;
$$ LANGUAGE plpgsql;
--> statement-breakpoint
CREATE TRIGGER authorizations_notify_challenge
AFTER INSERT OR DELETE OR UPDATE OF status, http_token, http_key_authorization ON authorizations
FOR EACH ROW EXECUTE FUNCTION bigip_acme_notify_challenge();
