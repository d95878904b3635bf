/* mono.c — the monotonic clock (mono.h). */
#include "mono.h"

#include <time.h>

static struct timespec now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts;
}

long long mono_seconds(void)
{
    return (long long)now().tv_sec;
}

long long mono_ms(void)
{
    struct timespec ts = now();
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

long long mono_us(void)
{
    struct timespec ts = now();
    return (long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}
