/* login.h — password sign-in for people (the Studio): POST /api/auth/login checks an e-mail
 * and password against users.password (bcrypt, Laravel's $2y$ hashes verify) and issues a
 * Sanctum personal access token; POST /api/auth/logout deletes the token it was called with.
 *
 * Failed sign-ins are counted in the login_attempts table per client address and per e-mail
 * (both hashed), in fixed windows; over either limit the answer is 429 with Retry-After and
 * no password is checked. The limits and the token's life are c->cfg->login (config.h:
 * auth.login_* in aiengine.yaml; docs/decisions.md "Sign-in and its limits"). An unknown e-mail
 * costs the same bcrypt as a wrong password. */
#ifndef AIENGINE_LOGIN_H
#define AIENGINE_LOGIN_H

#include "req.h"

/* POST /api/auth/login {email, password, device_name?}: 200 {token, token_type, expires_at,
 * abilities, user}; 422 on missing fields or bad credentials (on `email`, as Laravel does);
 * 429 when rate limited. */
int login_handle_login(struct ctx *c);
/* POST /api/auth/logout: 204; the token stops working within auth.token_cache_seconds. */
int login_handle_logout(struct ctx *c);

/* crypt(3) verification of `password` against a bcrypt `hash` (constant-time compare of
 * the result). A NULL or malformed hash is checked against a dummy of the same cost, so the
 * call costs the same, and answers false. Exposed for the unit test. */
bool login_password_ok(const char *password, const char *hash);

#endif
