/* calendar.h: dates and China's working-day calendar.
 *
 * 行政许可法 art. 82 counts permit time limits in working days, statutory holidays
 * excluded. Every year the State Council publishes its holidays and the weekend days
 * that are worked instead (调休). A calendar holds those exceptions, year by year:
 * a date is a working day when it is an announced make-up working day, or a Monday to
 * Friday that is not an announced holiday. The exceptions come as the public
 * holiday-cn JSON ({year, papers, days: [{name, date, isOffDay}]}, STANDARDS.md §6);
 * the project ships 2024-2026 (data/holidays/) in the binary and loads new years.
 *
 * Dates are days since 1970-01-01 in the civil (proleptic Gregorian) calendar; China
 * has one time zone and no daylight saving, so a date is a plain day count. */
#ifndef TB_BASE_CALENDAR_H
#define TB_BASE_CALENDAR_H

#include "base/tb.h"

typedef int32_t tb_date;

/* y-m-d -> date; false for a date that does not exist (2025-02-29) or is out of
 * 1900..2199. */
bool tb_date_from_ymd(int y, int m, int d, tb_date *out);
void tb_date_to_ymd(tb_date date, int *y, int *m, int *d);
/* "YYYY-MM-DD" exactly; false otherwise. */
bool tb_date_parse(const char *s, tb_date *out);
/* into out[11] */
void tb_date_format(tb_date date, char out[11]);
/* 1 Monday .. 7 Sunday */
int tb_date_weekday(tb_date date);
/* Today in Asia/Shanghai. */
tb_date tb_date_today(void);

struct tb_calendar_day {
	tb_date date;
	bool off; /* true: a holiday; false: a make-up working day */
};

struct tb_calendar {
	struct tb_calendar_day *days; /* sorted by date, one entry per date */
	size_t n, cap;
	uint32_t years[8]; /* bit (year - 1900) % 32 of years[(year - 1900) / 32] */
};

void tb_calendar_init(struct tb_calendar *c);
void tb_calendar_release(struct tb_calendar *c);
/* Add one year's notice in the holiday-cn JSON form. Refused, with err->field naming
 * the entry ("days[3].date"): a date that is not YYYY-MM-DD or lies outside the
 * stated year, a date listed twice, a make-up working day that is not a Saturday or
 * Sunday (there would be nothing to make up), a missing name or isOffDay. Nothing is
 * changed on error. Loading a year again replaces it. */
tb_rc tb_calendar_load_json(struct tb_calendar *c, const char *json, size_t len,
			    struct tb_err *err);
/* The years shipped with tongban (2024-2026). */
tb_rc tb_calendar_load_builtin(struct tb_calendar *c, struct tb_err *err);
/* Whether the notice of that year has been loaded (outside them, only weekends are
 * known, and callers should say so). */
bool tb_calendar_covers(const struct tb_calendar *c, int year);

bool tb_calendar_is_workday(const struct tb_calendar *c, tb_date date);
/* The n-th working day after start (start itself never counts: a limit runs from the
 * day after acceptance). n = 0 gives start. */
tb_date tb_calendar_add_workdays(const struct tb_calendar *c, tb_date start, int n);
/* Working days in (from, to]: how many of a limit's days are used between them, or,
 * from today to a due date, how many remain. 0 when to <= from. */
int tb_calendar_workdays_between(const struct tb_calendar *c, tb_date from, tb_date to);

#endif
