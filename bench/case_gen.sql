-- case_gen.sql: @N@ cases straight into a tongban SQLite database that holds the demo
-- catalogue (bench/cases.sh, the workbench queue benchmark). bench/cases.sh replaces
-- @N@, @CLERK@ (a clerk of Guangzhou's market regulator: some cases are held by them)
-- and @APPLICANT@ (the user the cases belong to).
--
-- The spread: one case in ten goes to Guangzhou's market regulator (the busy department
-- the benchmark's clerk works in), the others round all implementations of the
-- catalogue (2,282 departments, 155 regions). States as a year of a department looks:
-- most completed, the rest in each queue; time limits from 10 days overdue to 30 days
-- ahead, 1 % of the cases under review in a special procedure. The sealed columns hold
-- a constant: queues never open them.
PRAGMA journal_mode=WAL;
PRAGMA synchronous=OFF;
PRAGMA cache_size=-262144;
CREATE TEMP TABLE gi AS
  SELECT row_number() OVER (ORDER BY impl_code) - 1 AS n, impl_code, catalog_code, name,
         department, region FROM implementations;
CREATE TEMP TABLE gz AS
  SELECT row_number() OVER (ORDER BY impl_code) - 1 AS n, impl_code, catalog_code, name,
         department, region FROM implementations WHERE department = '11440100008446488A';
CREATE TEMP TABLE k AS SELECT (SELECT COUNT(*) FROM gi) AS ni, (SELECT COUNT(*) FROM gz) AS nz,
  CAST(julianday('now', '+8 hours') - 2440587.5 AS INTEGER) AS today;
BEGIN;
WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < @N@),
c AS (
  SELECT i, (i * 2654435761) % 1000 AS r, (i * 40503) % 41 AS d,
         CASE WHEN i % 10 = 0 THEN 1 ELSE 0 END AS busy FROM s),
cs AS (
  SELECT i, r, d, busy,
    CASE WHEN r < 10 THEN 'draft' WHEN r < 90 THEN 'submitted' WHEN r < 120 THEN 'correction'
         WHEN r < 220 THEN 'accepted' WHEN r < 340 THEN 'under_review'
         WHEN r < 380 THEN 'decided' WHEN r < 920 THEN 'completed'
         WHEN r < 960 THEN 'not_accepted' ELSE 'withdrawn' END AS state
  FROM c)
INSERT INTO cases (case_no, state, impl_code, catalog_code, item_name, department, region,
  guide_version, case_type, workflow_key, workflow_version, channel, applicant_user,
  applicant_kind, applicant_name, applicant_id_sealed, applicant_id_index,
  applicant_id_masked, form_sealed, submitted_at, submitted_ms, accepted_at, accept_date,
  limit_value, limit_unit, legal_value, legal_unit, state_entered_ms, state_due, due_date,
  warn_date, paused, queue_due, queue_warn, assignee, visits_needed, created_at, updated_at)
SELECT
  CASE WHEN state = 'draft' THEN NULL ELSE printf('2026%016d', i) END, state,
  m.impl_code, m.catalog_code, m.name, m.department, m.region, 1,
  CASE WHEN i % 7 = 0 THEN '1' ELSE '2' END, 'default', 1,
  CASE WHEN i % 5 = 0 THEN 'window' ELSE 'online' END, @APPLICANT@, 'person',
  '张三', 'sealed', 'idx' || (i % 50000), '4401**********1235', 'sealed',
  CASE WHEN state = 'draft' THEN NULL ELSE '2026-11-01T09:00:00+08:00' END,
  1761958800000 + i, CASE WHEN state IN ('submitted', 'correction', 'draft', 'not_accepted') THEN NULL
    ELSE '2026-11-02T09:00:00+08:00' END,
  CASE WHEN state IN ('submitted', 'correction', 'draft', 'not_accepted') THEN NULL ELSE k.today - 10 END,
  10, 'working_day', 20, 'working_day', 1761958800000 + i,
  CASE WHEN state IN ('submitted', 'decided') THEN k.today + d - 10 END,
  CASE WHEN state IN ('accepted', 'under_review', 'decided', 'completed') THEN k.today + d - 10 END,
  CASE WHEN state IN ('accepted', 'under_review', 'decided', 'completed') THEN k.today + d - 12 END,
  CASE WHEN state = 'under_review' AND i % 13 = 0 THEN 1 ELSE 0 END,
  CASE WHEN state IN ('submitted', 'accepted', 'under_review', 'decided') THEN k.today + d - 10 END,
  CASE WHEN state IN ('submitted', 'accepted', 'under_review', 'decided') THEN k.today + d - 12 END,
  CASE WHEN busy = 1 AND state IN ('accepted', 'under_review', 'decided') AND i % 30 = 0 THEN @CLERK@
       WHEN state IN ('accepted', 'under_review', 'decided') THEN 100000 + i % 997 END,
  1, '2026-11-01T09:00:00+08:00', '2026-11-01T09:00:00+08:00'
FROM cs, k
JOIN gi m ON busy = 0 AND m.n = (cs.i * 7919) % k.ni
UNION ALL
SELECT
  CASE WHEN state = 'draft' THEN NULL ELSE printf('2026%016d', i) END, state,
  m.impl_code, m.catalog_code, m.name, m.department, m.region, 1,
  CASE WHEN i % 7 = 0 THEN '1' ELSE '2' END, 'default', 1,
  CASE WHEN i % 5 = 0 THEN 'window' ELSE 'online' END, @APPLICANT@, 'person',
  '张三', 'sealed', 'idx' || (i % 50000), '4401**********1235', 'sealed',
  CASE WHEN state = 'draft' THEN NULL ELSE '2026-11-01T09:00:00+08:00' END,
  1761958800000 + i, CASE WHEN state IN ('submitted', 'correction', 'draft', 'not_accepted') THEN NULL
    ELSE '2026-11-02T09:00:00+08:00' END,
  CASE WHEN state IN ('submitted', 'correction', 'draft', 'not_accepted') THEN NULL ELSE k.today - 10 END,
  10, 'working_day', 20, 'working_day', 1761958800000 + i,
  CASE WHEN state IN ('submitted', 'decided') THEN k.today + d - 10 END,
  CASE WHEN state IN ('accepted', 'under_review', 'decided', 'completed') THEN k.today + d - 10 END,
  CASE WHEN state IN ('accepted', 'under_review', 'decided', 'completed') THEN k.today + d - 12 END,
  CASE WHEN state = 'under_review' AND i % 13 = 0 THEN 1 ELSE 0 END,
  CASE WHEN state IN ('submitted', 'accepted', 'under_review', 'decided') THEN k.today + d - 10 END,
  CASE WHEN state IN ('submitted', 'accepted', 'under_review', 'decided') THEN k.today + d - 12 END,
  CASE WHEN busy = 1 AND state IN ('accepted', 'under_review', 'decided') AND i % 30 = 0 THEN @CLERK@
       WHEN state IN ('accepted', 'under_review', 'decided') THEN 100000 + i % 997 END,
  1, '2026-11-01T09:00:00+08:00', '2026-11-01T09:00:00+08:00'
FROM cs, k
JOIN gz m ON busy = 1 AND m.n = (cs.i * 7919) % k.nz;
COMMIT;

