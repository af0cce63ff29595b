CREATE TYPE "public"."policy_state" AS ENUM('draft', 'backtested', 'shadow', 'active', 'retired');--> statement-breakpoint
CREATE TABLE "policy_approvals" (
	"id" integer PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "policy_approvals_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 2147483647 START WITH 1 CACHE 1),
	"policy" text NOT NULL,
	"version" integer NOT NULL,
	"approver" text NOT NULL,
	"reason" text,
	"at" timestamp with time zone NOT NULL,
	CONSTRAINT "policy_approvals_once" UNIQUE("policy","version","approver")
);
--> statement-breakpoint
CREATE TABLE "policy_audit" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "policy_audit_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"at" timestamp with time zone NOT NULL,
	"actor" text NOT NULL,
	"action" text NOT NULL,
	"policy" text NOT NULL,
	"version" integer,
	"from_state" text,
	"to_state" text,
	"reason" text,
	"diff" text,
	"detail" jsonb
);
--> statement-breakpoint
CREATE TABLE "policy_backtests" (
	"id" integer PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "policy_backtests_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 2147483647 START WITH 1 CACHE 1),
	"policy" text NOT NULL,
	"version" integer NOT NULL,
	"report" jsonb NOT NULL,
	"actor" text NOT NULL,
	"at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "policy_shadow_decisions" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "policy_shadow_decisions_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"policy" text NOT NULL,
	"version" integer NOT NULL,
	"active_version" integer,
	"event_id" text NOT NULL,
	"ts" bigint NOT NULL,
	"account" text,
	"candidate_outcome" text NOT NULL,
	"candidate_score" double precision NOT NULL,
	"active_outcome" text,
	"active_score" double precision,
	"agree" boolean NOT NULL,
	"candidate" jsonb NOT NULL,
	"active" jsonb,
	"recorded_at" timestamp with time zone NOT NULL,
	CONSTRAINT "policy_shadow_decisions_event" UNIQUE("policy","version","event_id")
);
--> statement-breakpoint
CREATE TABLE "policy_shadow_reports" (
	"id" integer PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "policy_shadow_reports_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 2147483647 START WITH 1 CACHE 1),
	"policy" text NOT NULL,
	"version" integer NOT NULL,
	"report" jsonb NOT NULL,
	"actor" text NOT NULL,
	"at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "policy_versions" (
	"id" integer PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "policy_versions_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 2147483647 START WITH 1 CACHE 1),
	"policy" text NOT NULL,
	"version" integer NOT NULL,
	"state" "policy_state" DEFAULT 'draft' NOT NULL,
	"doc" jsonb NOT NULL,
	"content_hash" text NOT NULL,
	"author" text NOT NULL,
	"reason" text,
	"created_at" timestamp with time zone NOT NULL,
	"backtested_at" timestamp with time zone,
	"shadow_at" timestamp with time zone,
	"activated_at" timestamp with time zone,
	"retired_at" timestamp with time zone,
	CONSTRAINT "policy_versions_policy_version" UNIQUE("policy","version"),
	CONSTRAINT "policy_versions_policy_content" UNIQUE("policy","content_hash")
);
--> statement-breakpoint
ALTER TABLE "policy_approvals" ADD CONSTRAINT "policy_approvals_version_fk" FOREIGN KEY ("policy","version") REFERENCES "public"."policy_versions"("policy","version") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "policy_backtests" ADD CONSTRAINT "policy_backtests_version_fk" FOREIGN KEY ("policy","version") REFERENCES "public"."policy_versions"("policy","version") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "policy_shadow_decisions" ADD CONSTRAINT "policy_shadow_decisions_version_fk" FOREIGN KEY ("policy","version") REFERENCES "public"."policy_versions"("policy","version") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "policy_shadow_reports" ADD CONSTRAINT "policy_shadow_reports_version_fk" FOREIGN KEY ("policy","version") REFERENCES "public"."policy_versions"("policy","version") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "policy_audit_policy" ON "policy_audit" USING btree ("policy","id");--> statement-breakpoint
CREATE INDEX "policy_backtests_version" ON "policy_backtests" USING btree ("policy","version");--> statement-breakpoint
CREATE INDEX "policy_shadow_decisions_ts" ON "policy_shadow_decisions" USING btree ("policy","version","ts");--> statement-breakpoint
CREATE INDEX "policy_shadow_reports_version" ON "policy_shadow_reports" USING btree ("policy","version");--> statement-breakpoint
CREATE UNIQUE INDEX "policy_versions_one_active" ON "policy_versions" USING btree ("policy") WHERE "policy_versions"."state" = 'active';