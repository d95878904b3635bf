-- Versioned prompts; (name, version) is unique. JSON columns are longtext + json_valid,
-- exactly what Laravel's json() creates on MariaDB.
CREATE TABLE IF NOT EXISTS `prompts` (
  `id` bigint(20) unsigned NOT NULL AUTO_INCREMENT,
  `name` varchar(255) NOT NULL,
  `category` varchar(255) DEFAULT NULL,
  `version` int(11) NOT NULL DEFAULT 1,
  `system_prompt_text` text NOT NULL,
  `model_name` varchar(255) NOT NULL DEFAULT 'gemini-2.5-flash-preview-05-20',
  `generation_config` longtext CHARACTER SET utf8mb4 COLLATE utf8mb4_bin DEFAULT NULL CHECK (json_valid(`generation_config`)),
  `template_variables` longtext CHARACTER SET utf8mb4 COLLATE utf8mb4_bin DEFAULT NULL CHECK (json_valid(`template_variables`)),
  `status` varchar(255) NOT NULL DEFAULT 'active',
  `created_at` timestamp NULL DEFAULT NULL,
  `updated_at` timestamp NULL DEFAULT NULL,
  PRIMARY KEY (`id`),
  UNIQUE KEY `prompts_name_version_unique` (`name`,`version`),
  KEY `prompts_status_index` (`status`),
  KEY `prompts_category_index` (`category`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
