/* test_login.c — login_password_ok: bcrypt verification as Laravel stores it ($2y$), and the
 * answers for wrong passwords and unusable hashes (which still cost a bcrypt). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "login.h"

/* Laravel's UserFactory hash of "password" (cost 10) */
static const char laravel[] = "$2y$10$92IXUNpkjO0rOQ5byMi.Ye4oKoEa3Ro9llC/.og/at2.uheWG/igi";

static void test_laravel_hash_verifies(void **state)
{
    (void)state;
    assert_true(login_password_ok("password", laravel));
}

static void test_wrong_passwords_fail(void **state)
{
    (void)state;
    assert_false(login_password_ok("Password", laravel));
    assert_false(login_password_ok("", laravel));
    assert_false(login_password_ok("password ", laravel));
}

static void test_same_hash_as_2b(void **state)
{
    (void)state;
    /* $2b$ is the same algorithm; PHP's password_verify accepts both prefixes */
    char b[sizeof laravel];
    for (size_t i = 0; i < sizeof laravel; i++) b[i] = laravel[i];
    b[2] = 'b';
    assert_true(login_password_ok("password", b));
}

static void test_unusable_hashes_fail(void **state)
{
    (void)state;
    assert_false(login_password_ok("password", NULL));
    assert_false(login_password_ok("password", ""));
    assert_false(login_password_ok("password", "password"));
    assert_false(login_password_ok("password", "$2y$10$short"));
    /* an argon2 or md5-crypt hash is not bcrypt: refused, never compared as text */
    assert_false(login_password_ok("x", "$1$abcdefgh$0123456789012345678901"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_laravel_hash_verifies),
        cmocka_unit_test(test_wrong_passwords_fail),
        cmocka_unit_test(test_same_hash_as_2b),
        cmocka_unit_test(test_unusable_hashes_fail),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
