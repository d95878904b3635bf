-- Each log row names its run (ENGINE.md "Schema"). Added as the last column so the stage-1
-- columns keep their order (the Laravel build still runs on the same database); deleting a run
-- keeps its logs. (workflow_run_id, id) lists one run's rows in order.
ALTER TABLE `execution_logs`
  ADD COLUMN `workflow_run_id` bigint(20) unsigned DEFAULT NULL,
  ADD KEY `execution_logs_workflow_run_id_id_index` (`workflow_run_id`,`id`),
  ADD CONSTRAINT `execution_logs_workflow_run_id_foreign` FOREIGN KEY (`workflow_run_id`) REFERENCES `workflow_runs` (`id`) ON DELETE SET NULL;
