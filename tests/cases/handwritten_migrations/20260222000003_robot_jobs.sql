-- Hand-written migration kept as a test case: the suite must reject it.
-- Classic mistakes on purpose:
--   * GRANT ALL to anon and authenticated;
--   * robot_job_items checks only that the job is the member's, never that the
--     order belongs to the job's workspace: an item may point at another
--     workspace's order;
--   * timezone('America/Bogota', now()) defaults;
--   * per-row is_workspace_member() in every policy.

CREATE TABLE robot_jobs (
  id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
  workspace_id UUID NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
  carrier TEXT NOT NULL DEFAULT 'coordinadora',
  status TEXT NOT NULL DEFAULT 'pending'
    CHECK (status IN ('pending', 'processing', 'completed', 'failed')),
  total_items INTEGER NOT NULL DEFAULT 0,
  success_count INTEGER NOT NULL DEFAULT 0,
  error_count INTEGER NOT NULL DEFAULT 0,
  idempotency_key TEXT,
  started_at TIMESTAMPTZ,
  completed_at TIMESTAMPTZ,
  created_at TIMESTAMPTZ NOT NULL DEFAULT timezone('America/Bogota', NOW()),
  updated_at TIMESTAMPTZ NOT NULL DEFAULT timezone('America/Bogota', NOW())
);

CREATE UNIQUE INDEX idx_robot_jobs_idempotency
  ON robot_jobs (workspace_id, idempotency_key) WHERE idempotency_key IS NOT NULL;
CREATE INDEX idx_robot_jobs_workspace_status ON robot_jobs (workspace_id, status);

CREATE TRIGGER update_robot_jobs_updated_at
  BEFORE UPDATE ON robot_jobs
  FOR EACH ROW EXECUTE FUNCTION update_updated_at_column();

ALTER TABLE robot_jobs ENABLE ROW LEVEL SECURITY;

CREATE POLICY "Members can view robot jobs" ON robot_jobs
  FOR SELECT USING (is_workspace_member(workspace_id));

CREATE POLICY "Members can create robot jobs" ON robot_jobs
  FOR INSERT WITH CHECK (is_workspace_member(workspace_id));

CREATE POLICY "Members can update robot jobs" ON robot_jobs
  FOR UPDATE USING (is_workspace_member(workspace_id));

GRANT ALL ON robot_jobs TO anon, authenticated, service_role;

CREATE TABLE robot_job_items (
  id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
  job_id UUID NOT NULL REFERENCES robot_jobs(id) ON DELETE CASCADE,
  order_id UUID NOT NULL REFERENCES orders(id) ON DELETE CASCADE,
  status TEXT NOT NULL DEFAULT 'pending'
    CHECK (status IN ('pending', 'processing', 'success', 'error')),
  tracking_number TEXT,
  validated_city TEXT,
  value_sent JSONB,
  error_type TEXT CHECK (error_type IN ('validation', 'portal', 'timeout', 'unknown')),
  error_message TEXT,
  retry_count INTEGER NOT NULL DEFAULT 0,
  last_retry_at TIMESTAMPTZ,
  started_at TIMESTAMPTZ,
  completed_at TIMESTAMPTZ,
  created_at TIMESTAMPTZ NOT NULL DEFAULT timezone('America/Bogota', NOW()),
  updated_at TIMESTAMPTZ NOT NULL DEFAULT timezone('America/Bogota', NOW()),
  UNIQUE (job_id, order_id)
);

CREATE INDEX idx_robot_job_items_job_status ON robot_job_items (job_id, status);
CREATE INDEX idx_robot_job_items_order ON robot_job_items (order_id);

CREATE TRIGGER update_robot_job_items_updated_at
  BEFORE UPDATE ON robot_job_items
  FOR EACH ROW EXECUTE FUNCTION update_updated_at_column();

ALTER TABLE robot_job_items ENABLE ROW LEVEL SECURITY;

CREATE POLICY "Members can view robot job items" ON robot_job_items
  FOR SELECT USING (
    EXISTS (SELECT 1 FROM robot_jobs j
            WHERE j.id = robot_job_items.job_id AND is_workspace_member(j.workspace_id))
  );

CREATE POLICY "Members can create robot job items" ON robot_job_items
  FOR INSERT WITH CHECK (
    EXISTS (SELECT 1 FROM robot_jobs j
            WHERE j.id = robot_job_items.job_id AND is_workspace_member(j.workspace_id))
  );

CREATE POLICY "Members can update robot job items" ON robot_job_items
  FOR UPDATE USING (
    EXISTS (SELECT 1 FROM robot_jobs j
            WHERE j.id = robot_job_items.job_id AND is_workspace_member(j.workspace_id))
  );

GRANT ALL ON robot_job_items TO anon, authenticated, service_role;

ALTER PUBLICATION supabase_realtime ADD TABLE robot_job_items;
