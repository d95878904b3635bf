/* fuzz_rules.c — libFuzzer: the rule-string compiler. Any input must compile or fail with a
 * message, never crash or leak. */
#include "rules.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);
    memcpy(s, data, size);
    s[size] = '\0';
    struct rule_set rs;
    char err[256];
    if (rules_compile(s, "field_name", &rs, err, sizeof err) == 0) rules_free(&rs);
    free(s);
    return 0;
}
