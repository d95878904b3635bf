-- Workflow runs: the engine's durable queue (ENGINE.md "Schema"). A run is claimed with
-- SELECT ... WHERE status IN (...) AND run_at <= now ORDER BY run_at FOR UPDATE SKIP LOCKED,
-- which (status, run_at) serves. run_at has an explicit DEFAULT so MariaDB never gives the
-- first TIMESTAMP column an implicit ON UPDATE current_timestamp (that would move run_at on
-- every heartbeat). The progress cursor (last_step_order, last_step_id) has no foreign key:
-- editing a workflow never touches its runs.
CREATE TABLE IF NOT EXISTS `workflow_runs` (
  `id` bigint(20) unsigned NOT NULL AUTO_INCREMENT,
  `workflow_id` bigint(20) unsigned NOT NULL,
  `event` varchar(255) DEFAULT NULL,
  `triggering_object_id` varchar(255) DEFAULT NULL,
  `idempotency_key` varchar(255) DEFAULT NULL,
  `status` varchar(16) NOT NULL,
  `context` longtext CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL CHECK (json_valid(`context`)),
  `last_step_order` int(11) DEFAULT NULL,
  `last_step_id` bigint(20) unsigned DEFAULT NULL,
  `attempt` int(11) NOT NULL DEFAULT 0,
  `run_at` timestamp(6) NOT NULL DEFAULT current_timestamp(6),
  `locked_by` varchar(64) DEFAULT NULL,
  `locked_until` timestamp(6) NULL DEFAULT NULL,
  `error_message` text DEFAULT NULL,
  `token_usage` int(11) NOT NULL DEFAULT 0,
  `cost` decimal(10,6) NOT NULL DEFAULT 0.000000,
  `started_at` timestamp NULL DEFAULT NULL,
  `finished_at` timestamp NULL DEFAULT NULL,
  `created_at` timestamp NULL DEFAULT NULL,
  `updated_at` timestamp NULL DEFAULT NULL,
  PRIMARY KEY (`id`),
  UNIQUE KEY `workflow_runs_workflow_id_idempotency_key_unique` (`workflow_id`,`idempotency_key`),
  KEY `workflow_runs_status_run_at_index` (`status`,`run_at`),
  KEY `workflow_runs_workflow_id_id_index` (`workflow_id`,`id`),
  KEY `workflow_runs_triggering_object_id_index` (`triggering_object_id`),
  CONSTRAINT `workflow_runs_workflow_id_foreign` FOREIGN KEY (`workflow_id`) REFERENCES `workflows` (`id`) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
