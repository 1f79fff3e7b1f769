-- Dumped by `supabase db diff` from a project built in the dashboard: quoted identifiers,
-- constraints added after the tables, casts spelled out, one GRANT per privilege.

SET statement_timeout = 0;
SET lock_timeout = 0;
SET client_encoding = 'UTF8';
SET standard_conforming_strings = on;
SELECT pg_catalog.set_config('search_path', '', false);
SET check_function_bodies = false;

CREATE OR REPLACE FUNCTION "public"."is_member_of"("ws" "uuid") RETURNS boolean
    LANGUAGE "sql" STABLE SECURITY DEFINER
    SET "search_path" TO ''
    AS $$
  select exists (
    select 1 from public.workspace_members wm
    where wm.workspace_id = ws and wm.user_id = (select auth.uid())
  );
$$;

ALTER FUNCTION "public"."is_member_of"("ws" "uuid") OWNER TO "postgres";

CREATE OR REPLACE FUNCTION "public"."has_role_in"("ws" "uuid", "roles" "text"[]) RETURNS boolean
    LANGUAGE "sql" STABLE SECURITY DEFINER
    SET "search_path" TO ''
    AS $$
  select exists (
    select 1 from public.workspace_members wm
    where wm.workspace_id = ws and wm.user_id = (select auth.uid()) and wm.role = any (roles)
  );
$$;

ALTER FUNCTION "public"."has_role_in"("ws" "uuid", "roles" "text"[]) OWNER TO "postgres";

SET default_tablespace = '';

SET default_table_access_method = "heap";

CREATE TABLE IF NOT EXISTS "public"."invoices" (
    "id" "uuid" DEFAULT "gen_random_uuid"() NOT NULL,
    "workspace_id" "uuid" NOT NULL,
    "number" "text" NOT NULL,
    "status" "text" DEFAULT 'draft'::"text" NOT NULL,
    "total_cents" bigint DEFAULT 0 NOT NULL,
    "issued_at" timestamp with time zone,
    "created_at" timestamp with time zone DEFAULT "now"() NOT NULL,
    CONSTRAINT "invoices_status_check" CHECK (("status" = ANY (ARRAY['draft'::"text", 'sent'::"text", 'paid'::"text", 'void'::"text"])))
);

ALTER TABLE "public"."invoices" OWNER TO "postgres";

COMMENT ON TABLE "public"."invoices" IS 'Bills a workspace sends to its customers.';

CREATE TABLE IF NOT EXISTS "public"."invoice_lines" (
    "id" "uuid" DEFAULT "gen_random_uuid"() NOT NULL,
    "invoice_id" "uuid" NOT NULL,
    "order_id" "uuid",
    "description" "text" NOT NULL,
    "quantity" integer DEFAULT 1 NOT NULL,
    "unit_cents" bigint NOT NULL,
    CONSTRAINT "invoice_lines_quantity_check" CHECK (("quantity" > 0))
);

ALTER TABLE "public"."invoice_lines" OWNER TO "postgres";

ALTER TABLE ONLY "public"."invoices"
    ADD CONSTRAINT "invoices_pkey" PRIMARY KEY ("id");

ALTER TABLE ONLY "public"."invoices"
    ADD CONSTRAINT "invoices_workspace_id_number_key" UNIQUE ("workspace_id", "number");

ALTER TABLE ONLY "public"."invoice_lines"
    ADD CONSTRAINT "invoice_lines_pkey" PRIMARY KEY ("id");

CREATE INDEX "invoice_lines_invoice_id_idx" ON "public"."invoice_lines" USING "btree" ("invoice_id");

ALTER TABLE ONLY "public"."invoices"
    ADD CONSTRAINT "invoices_workspace_id_fkey" FOREIGN KEY ("workspace_id") REFERENCES "public"."workspaces"("id") ON DELETE CASCADE;

ALTER TABLE ONLY "public"."invoice_lines"
    ADD CONSTRAINT "invoice_lines_invoice_id_fkey" FOREIGN KEY ("invoice_id") REFERENCES "public"."invoices"("id") ON DELETE CASCADE;

ALTER TABLE ONLY "public"."invoice_lines"
    ADD CONSTRAINT "invoice_lines_order_id_fkey" FOREIGN KEY ("order_id") REFERENCES "public"."orders"("id") ON DELETE SET NULL;

CREATE POLICY "Members read invoices" ON "public"."invoices" FOR SELECT TO "authenticated" USING ("public"."is_member_of"("workspace_id"));

CREATE POLICY "Admins write invoices" ON "public"."invoices" FOR INSERT TO "authenticated" WITH CHECK ("public"."has_role_in"("workspace_id", ARRAY['owner'::"text", 'admin'::"text"]));

CREATE POLICY "Admins edit invoices" ON "public"."invoices" FOR UPDATE TO "authenticated" USING ("public"."has_role_in"("workspace_id", ARRAY['owner'::"text", 'admin'::"text"])) WITH CHECK ("public"."has_role_in"("workspace_id", ARRAY['owner'::"text", 'admin'::"text"]));

CREATE POLICY "Members read lines" ON "public"."invoice_lines" FOR SELECT TO "authenticated" USING ((EXISTS ( SELECT 1
   FROM "public"."invoices" "i"
  WHERE (("i"."id" = "invoice_lines"."invoice_id") AND "public"."is_member_of"("i"."workspace_id")))));

CREATE POLICY "Members add lines" ON "public"."invoice_lines" FOR INSERT TO "authenticated" WITH CHECK ((EXISTS ( SELECT 1
   FROM "public"."invoices" "i"
  WHERE (("i"."id" = "invoice_lines"."invoice_id") AND "public"."is_member_of"("i"."workspace_id")))));

ALTER TABLE "public"."invoices" ENABLE ROW LEVEL SECURITY;

ALTER TABLE "public"."invoice_lines" ENABLE ROW LEVEL SECURITY;

ALTER PUBLICATION "supabase_realtime" ADD TABLE ONLY "public"."invoices";

GRANT ALL ON FUNCTION "public"."is_member_of"("ws" "uuid") TO "anon";
GRANT ALL ON FUNCTION "public"."is_member_of"("ws" "uuid") TO "authenticated";
GRANT ALL ON FUNCTION "public"."is_member_of"("ws" "uuid") TO "service_role";
GRANT ALL ON FUNCTION "public"."has_role_in"("ws" "uuid", "roles" "text"[]) TO "anon";
GRANT ALL ON FUNCTION "public"."has_role_in"("ws" "uuid", "roles" "text"[]) TO "authenticated";
GRANT ALL ON FUNCTION "public"."has_role_in"("ws" "uuid", "roles" "text"[]) TO "service_role";

GRANT SELECT ON TABLE "public"."invoices" TO "anon";
GRANT INSERT ON TABLE "public"."invoices" TO "anon";
GRANT UPDATE ON TABLE "public"."invoices" TO "anon";
GRANT DELETE ON TABLE "public"."invoices" TO "anon";
GRANT TRUNCATE ON TABLE "public"."invoices" TO "anon";
GRANT REFERENCES ON TABLE "public"."invoices" TO "anon";
GRANT TRIGGER ON TABLE "public"."invoices" TO "anon";
GRANT SELECT ON TABLE "public"."invoices" TO "authenticated";
GRANT INSERT ON TABLE "public"."invoices" TO "authenticated";
GRANT UPDATE ON TABLE "public"."invoices" TO "authenticated";
GRANT DELETE ON TABLE "public"."invoices" TO "authenticated";
GRANT TRUNCATE ON TABLE "public"."invoices" TO "authenticated";
GRANT REFERENCES ON TABLE "public"."invoices" TO "authenticated";
GRANT TRIGGER ON TABLE "public"."invoices" TO "authenticated";
GRANT SELECT ON TABLE "public"."invoices" TO "service_role";
GRANT INSERT ON TABLE "public"."invoices" TO "service_role";
GRANT UPDATE ON TABLE "public"."invoices" TO "service_role";
GRANT DELETE ON TABLE "public"."invoices" TO "service_role";
GRANT TRUNCATE ON TABLE "public"."invoices" TO "service_role";
GRANT REFERENCES ON TABLE "public"."invoices" TO "service_role";
GRANT TRIGGER ON TABLE "public"."invoices" TO "service_role";

GRANT SELECT ON TABLE "public"."invoice_lines" TO "anon";
GRANT INSERT ON TABLE "public"."invoice_lines" TO "anon";
GRANT UPDATE ON TABLE "public"."invoice_lines" TO "anon";
GRANT DELETE ON TABLE "public"."invoice_lines" TO "anon";
GRANT TRUNCATE ON TABLE "public"."invoice_lines" TO "anon";
GRANT REFERENCES ON TABLE "public"."invoice_lines" TO "anon";
GRANT TRIGGER ON TABLE "public"."invoice_lines" TO "anon";
GRANT SELECT ON TABLE "public"."invoice_lines" TO "authenticated";
GRANT INSERT ON TABLE "public"."invoice_lines" TO "authenticated";
GRANT UPDATE ON TABLE "public"."invoice_lines" TO "authenticated";
GRANT DELETE ON TABLE "public"."invoice_lines" TO "authenticated";
GRANT TRUNCATE ON TABLE "public"."invoice_lines" TO "authenticated";
GRANT REFERENCES ON TABLE "public"."invoice_lines" TO "authenticated";
GRANT TRIGGER ON TABLE "public"."invoice_lines" TO "authenticated";
GRANT SELECT ON TABLE "public"."invoice_lines" TO "service_role";
GRANT INSERT ON TABLE "public"."invoice_lines" TO "service_role";
GRANT UPDATE ON TABLE "public"."invoice_lines" TO "service_role";
GRANT DELETE ON TABLE "public"."invoice_lines" TO "service_role";
GRANT TRUNCATE ON TABLE "public"."invoice_lines" TO "service_role";
GRANT REFERENCES ON TABLE "public"."invoice_lines" TO "service_role";
GRANT TRIGGER ON TABLE "public"."invoice_lines" TO "service_role";
