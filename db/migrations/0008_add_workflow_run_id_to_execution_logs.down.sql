ALTER TABLE `execution_logs`
  DROP FOREIGN KEY `execution_logs_workflow_run_id_foreign`,
  DROP KEY `execution_logs_workflow_run_id_id_index`,
  DROP COLUMN `workflow_run_id`;
