-- Idempotency keys (SPEC.md "Beyond the peers"): the first response to a POST that carried
-- an Idempotency-Key, per token, for 24 hours. A row is inserted before the handler runs
-- (status NULL: in flight; the unique key makes a concurrent second request see it) and
-- completed with the response afterwards. request_hash is the SHA-256 of the method, the
-- path with its query string, and the body's bytes. No foreign key to the token: a key
-- outlives nothing but its 24 hours, and the sweep (created_at) removes it either way.
-- created_at has an explicit DEFAULT so MariaDB never adds an implicit ON UPDATE.
CREATE TABLE IF NOT EXISTS `idempotency_keys` (
  `id` bigint(20) unsigned NOT NULL AUTO_INCREMENT,
  `token_id` bigint(20) unsigned NOT NULL,
  `idempotency_key` varbinary(255) NOT NULL,
  `request_hash` binary(32) NOT NULL,
  `status` smallint(5) unsigned DEFAULT NULL,
  `headers` blob DEFAULT NULL,
  `body` longblob DEFAULT NULL,
  `created_at` timestamp(6) NOT NULL DEFAULT current_timestamp(6),
  PRIMARY KEY (`id`),
  UNIQUE KEY `idempotency_keys_token_id_idempotency_key_unique` (`token_id`,`idempotency_key`),
  KEY `idempotency_keys_created_at_index` (`created_at`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
