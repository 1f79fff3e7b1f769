-- Hand-written migration kept as a test case: the suite must reject it.
-- Classic mistakes on purpose:
--   * GRANT ALL (TRUNCATE, REFERENCES, TRIGGER included) to anon and authenticated;
--   * timestamps defaulting to timezone('America/Bogota', now()), a naive local time
--     that timestamptz reads as UTC, five hours early;
--   * policies that call is_workspace_member()/is_workspace_admin() once per row
--     instead of once per statement, and that apply to PUBLIC (no TO clause).

CREATE TABLE carrier_configs (
  id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
  workspace_id UUID NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
  carrier TEXT NOT NULL DEFAULT 'coordinadora',
  portal_username TEXT,
  portal_password TEXT,
  is_enabled BOOLEAN NOT NULL DEFAULT false,
  created_at TIMESTAMPTZ NOT NULL DEFAULT timezone('America/Bogota', NOW()),
  updated_at TIMESTAMPTZ NOT NULL DEFAULT timezone('America/Bogota', NOW()),
  UNIQUE (workspace_id, carrier)
);

CREATE TRIGGER update_carrier_configs_updated_at
  BEFORE UPDATE ON carrier_configs
  FOR EACH ROW EXECUTE FUNCTION update_updated_at_column();

ALTER TABLE carrier_configs ENABLE ROW LEVEL SECURITY;

CREATE POLICY "Members can view carrier configs" ON carrier_configs
  FOR SELECT USING (is_workspace_member(workspace_id));

CREATE POLICY "Admins can insert carrier configs" ON carrier_configs
  FOR INSERT WITH CHECK (is_workspace_admin(workspace_id));

CREATE POLICY "Admins can update carrier configs" ON carrier_configs
  FOR UPDATE USING (is_workspace_admin(workspace_id));

CREATE POLICY "Admins can delete carrier configs" ON carrier_configs
  FOR DELETE USING (is_workspace_admin(workspace_id));

GRANT ALL ON carrier_configs TO anon, authenticated, service_role;
