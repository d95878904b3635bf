/* metrics.h — GET /api/metrics: the Prometheus text exposition format (0.0.4) of the pool's
 * shared counters (stats.h), the engine's queue read from the database at scrape time (one
 * statement, index-only, every count capped), and the runners' counters (estats.h). */
#ifndef AIENGINE_METRICS_H
#define AIENGINE_METRICS_H

#include "buf.h"
#include "req.h"

struct stats_segment;
struct estats_segment;

/* The handler: writes the exposition into c->out with its content type. A database that
 * does not answer only leaves the engine's queue gauges out (aiengine_engine_queue_up 0). */
int metrics_handle(struct ctx *c);

/* The pool's families (requests, latency, database, workers, auth, rate limits). */
void metrics_write_pool(struct buf *o, const struct stats_segment *seg);
/* The runners' families, merged by family (a family's series are written together). */
void metrics_write_engine_counters(struct buf *o, const struct estats_segment *seg);
/* One label value, escaped for the text format. */
void metrics_label_value(struct buf *o, const char *s);

#endif
