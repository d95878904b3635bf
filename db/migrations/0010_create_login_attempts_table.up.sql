-- Failed sign-ins per client address and per e-mail (src/login.c), in fixed windows. The key
-- is the SHA-256 hex of "address:<ip>" or "email:<lowercased e-mail>": nothing in clear.
CREATE TABLE IF NOT EXISTS `login_attempts` (
  `key_hash` char(64) NOT NULL,
  `failures` int(10) unsigned NOT NULL,
  `window_started_at` timestamp NOT NULL DEFAULT CURRENT_TIMESTAMP,
  PRIMARY KEY (`key_hash`)
) ENGINE=InnoDB DEFAULT CHARSET=ascii COLLATE=ascii_bin;
