/* log.h — one line per event on stderr: time, level, pid, message. */
#ifndef AIENGINE_LOG_H
#define AIENGINE_LOG_H

void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Set once at start-up: "master", "worker", "cli". */
void log_set_role(const char *role);
/* Silence info lines (the CLI's quiet mode). */
void log_set_quiet(int quiet);

#endif
