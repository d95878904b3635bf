-- One row per executed step. Grows without bound: every list filter has an index whose
-- implicit primary-key suffix lets "WHERE f = ? ORDER BY id DESC LIMIT n" stop after n rows.
CREATE TABLE IF NOT EXISTS `execution_logs` (
  `id` bigint(20) unsigned NOT NULL AUTO_INCREMENT,
  `workflow_id` bigint(20) unsigned NOT NULL,
  `step_id` bigint(20) unsigned NOT NULL,
  `triggering_object_id` varchar(255) DEFAULT NULL,
  `parent_execution_log_id` bigint(20) unsigned DEFAULT NULL,
  `status` varchar(255) NOT NULL,
  `input_context` longtext CHARACTER SET utf8mb4 COLLATE utf8mb4_bin DEFAULT NULL CHECK (json_valid(`input_context`)),
  `raw_output` longtext CHARACTER SET utf8mb4 COLLATE utf8mb4_bin DEFAULT NULL CHECK (json_valid(`raw_output`)),
  `parsed_output` longtext CHARACTER SET utf8mb4 COLLATE utf8mb4_bin DEFAULT NULL CHECK (json_valid(`parsed_output`)),
  `error_message` text DEFAULT NULL,
  `duration_ms` int(11) DEFAULT NULL,
  `token_usage` int(11) DEFAULT NULL,
  `cost` decimal(10,6) DEFAULT NULL,
  `executed_at` timestamp NOT NULL DEFAULT current_timestamp(),
  PRIMARY KEY (`id`),
  KEY `execution_logs_workflow_id_foreign` (`workflow_id`),
  KEY `execution_logs_step_id_foreign` (`step_id`),
  KEY `execution_logs_parent_execution_log_id_foreign` (`parent_execution_log_id`),
  KEY `execution_logs_status_index` (`status`),
  KEY `execution_logs_triggering_object_id_index` (`triggering_object_id`),
  KEY `execution_logs_executed_at_index` (`executed_at`),
  CONSTRAINT `execution_logs_parent_execution_log_id_foreign` FOREIGN KEY (`parent_execution_log_id`) REFERENCES `execution_logs` (`id`) ON DELETE SET NULL,
  CONSTRAINT `execution_logs_step_id_foreign` FOREIGN KEY (`step_id`) REFERENCES `workflow_steps` (`id`) ON DELETE CASCADE,
  CONSTRAINT `execution_logs_workflow_id_foreign` FOREIGN KEY (`workflow_id`) REFERENCES `workflows` (`id`) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
