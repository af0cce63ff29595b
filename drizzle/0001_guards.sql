-- Guards the database enforces whatever the application does (hand-written; drizzle-kit cannot express triggers).
-- Append-only tables: the audit trail and the approvals refuse UPDATE, DELETE and TRUNCATE.
CREATE FUNCTION riskloop_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP USING ERRCODE = 'insufficient_privilege';
END
$$;
--> statement-breakpoint
CREATE TRIGGER policy_audit_append_only BEFORE UPDATE OR DELETE ON policy_audit FOR EACH ROW EXECUTE FUNCTION riskloop_append_only();
--> statement-breakpoint
CREATE TRIGGER policy_audit_no_truncate BEFORE TRUNCATE ON policy_audit FOR EACH STATEMENT EXECUTE FUNCTION riskloop_append_only();
--> statement-breakpoint
CREATE TRIGGER policy_approvals_append_only BEFORE UPDATE OR DELETE ON policy_approvals FOR EACH ROW EXECUTE FUNCTION riskloop_append_only();
--> statement-breakpoint
CREATE TRIGGER policy_approvals_no_truncate BEFORE TRUNCATE ON policy_approvals FOR EACH STATEMENT EXECUTE FUNCTION riskloop_append_only();
--> statement-breakpoint
CREATE TRIGGER policy_backtests_append_only BEFORE UPDATE OR DELETE ON policy_backtests FOR EACH ROW EXECUTE FUNCTION riskloop_append_only();
--> statement-breakpoint
-- Versions are immutable: only the lifecycle state and its timestamps may change, and none is ever deleted.
CREATE FUNCTION riskloop_policy_version_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'DELETE' THEN
    RAISE EXCEPTION 'policy versions are immutable: DELETE of % v% refused', OLD.policy, OLD.version USING ERRCODE = 'insufficient_privilege';
  END IF;
  IF NEW.policy IS DISTINCT FROM OLD.policy OR NEW.version IS DISTINCT FROM OLD.version
     OR NEW.doc IS DISTINCT FROM OLD.doc OR NEW.content_hash IS DISTINCT FROM OLD.content_hash
     OR NEW.author IS DISTINCT FROM OLD.author OR NEW.reason IS DISTINCT FROM OLD.reason
     OR NEW.created_at IS DISTINCT FROM OLD.created_at THEN
    RAISE EXCEPTION 'policy versions are immutable: the content of % v% cannot change', OLD.policy, OLD.version USING ERRCODE = 'insufficient_privilege';
  END IF;
  RETURN NEW;
END
$$;
--> statement-breakpoint
CREATE TRIGGER policy_versions_immutable BEFORE UPDATE OR DELETE ON policy_versions FOR EACH ROW EXECUTE FUNCTION riskloop_policy_version_immutable();
--> statement-breakpoint
CREATE TRIGGER policy_versions_no_truncate BEFORE TRUNCATE ON policy_versions FOR EACH STATEMENT EXECUTE FUNCTION riskloop_append_only();
