#include "base/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static enum tb_log_level min_level = TB_LOG_INFO;
static int log_fd = 2;

void tb_log_set_level(enum tb_log_level level)
{
	min_level = level;
}

void tb_log_set_fd(int fd)
{
	log_fd = fd;
}

void tb_time_rfc3339_at(long long t, char out[32])
{
	/* China has one time zone and no daylight saving: a fixed offset is exact. */
	time_t local = (time_t)(t + 8 * 3600);
	struct tm tm;
	gmtime_r(&local, &tm);
	strftime(out, 32, "%Y-%m-%dT%H:%M:%S+08:00", &tm);
}

void tb_time_rfc3339(char out[32])
{
	tb_time_rfc3339_at((long long)time(NULL), out);
}

double tb_time_mono(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void tb_log_line(int fd, const char *json, size_t len)
{
	char stackbuf[2048];
	if (len + 1 <= sizeof(stackbuf)) {
		memcpy(stackbuf, json, len);
		stackbuf[len] = '\n';
		ssize_t w = write(fd, stackbuf, len + 1);
		(void)w;
		return;
	}
	ssize_t w = write(fd, json, len);
	w = write(fd, "\n", 1);
	(void)w;
}

void tb_log(enum tb_log_level level, const char *event, const char *fmt, ...)
{
	static const char *names[] = {"debug", "info", "warn", "error"};
	if (level < min_level)
		return;
	char msg[1024], ts[32];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	tb_time_rfc3339(ts);
	struct tb_buf b;
	tb_buf_init(&b, 8192);
	tb_buf_printf(&b, "{\"ts\":\"%s\",\"level\":\"%s\",\"event\":", ts, names[level]);
	tb_buf_json_str(&b, event);
	tb_buf_puts(&b, ",\"msg\":");
	tb_buf_json_str(&b, msg);
	tb_buf_putc(&b, '}');
	if (b.data)
		tb_log_line(log_fd, b.data, b.len);
	tb_buf_release(&b);
}
