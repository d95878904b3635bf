-- Steps of a workflow. Deleting a workflow deletes its steps; a prompt that a step uses
-- cannot be deleted (RESTRICT, Laravel's constrained() default).
CREATE TABLE IF NOT EXISTS `workflow_steps` (
  `id` bigint(20) unsigned NOT NULL AUTO_INCREMENT,
  `workflow_id` bigint(20) unsigned NOT NULL,
  `step_order` int(11) NOT NULL,
  `name` varchar(255) NOT NULL,
  `step_type` varchar(255) NOT NULL DEFAULT 'AI_PROMPT',
  `prompt_id` bigint(20) unsigned DEFAULT NULL,
  `step_config` longtext CHARACTER SET utf8mb4 COLLATE utf8mb4_bin DEFAULT NULL CHECK (json_valid(`step_config`)),
  `condition_rules` longtext CHARACTER SET utf8mb4 COLLATE utf8mb4_bin DEFAULT NULL CHECK (json_valid(`condition_rules`)),
  `delay_minutes` int(11) NOT NULL DEFAULT 0,
  `created_at` timestamp NULL DEFAULT NULL,
  `updated_at` timestamp NULL DEFAULT NULL,
  PRIMARY KEY (`id`),
  KEY `workflow_steps_prompt_id_foreign` (`prompt_id`),
  KEY `workflow_steps_workflow_id_step_order_index` (`workflow_id`,`step_order`),
  KEY `workflow_steps_step_type_index` (`step_type`),
  CONSTRAINT `workflow_steps_prompt_id_foreign` FOREIGN KEY (`prompt_id`) REFERENCES `prompts` (`id`) ON DELETE RESTRICT,
  CONSTRAINT `workflow_steps_workflow_id_foreign` FOREIGN KEY (`workflow_id`) REFERENCES `workflows` (`id`) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
