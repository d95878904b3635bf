/* mono.h — the monotonic clock, for ages, deadlines and durations. CLOCK_MONOTONIC is one
 * clock for every process of the machine and is never stepped, so values taken in different
 * processes (a worker's cache entry, the pool's rate-limit windows) compare. Never fails. */
#ifndef AIENGINE_MONO_H
#define AIENGINE_MONO_H

long long mono_seconds(void);
long long mono_ms(void);
long long mono_us(void);

#endif
