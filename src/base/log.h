/* log.h: JSON-lines logging. One line per event, written with a single write(2) so that
 * lines from several threads never interleave. */
#ifndef TB_BASE_LOG_H
#define TB_BASE_LOG_H

#include "base/buf.h"

enum tb_log_level { TB_LOG_DEBUG, TB_LOG_INFO, TB_LOG_WARN, TB_LOG_ERROR };

void tb_log_set_level(enum tb_log_level level);
/* Where log lines go (default stderr). */
void tb_log_set_fd(int fd);
/* msg is free text; it is escaped. */
void tb_log(enum tb_log_level level, const char *event, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Write an already-formed JSON line (without the newline) to fd. */
void tb_log_line(int fd, const char *json, size_t len);
/* Current time as RFC 3339 with +08:00 (Asia/Shanghai, no DST), into out[32]. */
void tb_time_rfc3339(char out[32]);
/* Same for a given UNIX time. */
void tb_time_rfc3339_at(long long t, char out[32]);
/* Monotonic seconds. */
double tb_time_mono(void);

#endif
