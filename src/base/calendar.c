#include "base/calendar.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Days from civil, after Howard Hinnant's public-domain algorithm description. */
static int32_t days_from_civil(int y, int m, int d)
{
	y -= m <= 2;
	int era = (y >= 0 ? y : y - 399) / 400;
	int yoe = y - era * 400;
	int doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	int doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static int days_in_month(int y, int m)
{
	static const int dm[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
	return m == 2 && leap ? 29 : dm[m - 1];
}

bool tb_date_from_ymd(int y, int m, int d, tb_date *out)
{
	if (y < 1900 || y > 2199 || m < 1 || m > 12 || d < 1 || d > days_in_month(y, m))
		return false;
	*out = days_from_civil(y, m, d);
	return true;
}

void tb_date_to_ymd(tb_date z, int *y, int *m, int *d)
{
	z += 719468;
	int era = (z >= 0 ? z : z - 146096) / 146097;
	int doe = z - era * 146097;
	int yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	int doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	int mp = (5 * doy + 2) / 153;
	*d = doy - (153 * mp + 2) / 5 + 1;
	*m = mp < 10 ? mp + 3 : mp - 9;
	*y = yoe + era * 400 + (*m <= 2);
}

bool tb_date_parse(const char *s, tb_date *out)
{
	if (!s || strlen(s) != 10 || s[4] != '-' || s[7] != '-')
		return false;
	for (int i = 0; i < 10; i++)
		if (i != 4 && i != 7 && (s[i] < '0' || s[i] > '9'))
			return false;
	int y = atoi(s), m = (s[5] - '0') * 10 + (s[6] - '0'), d = (s[8] - '0') * 10 + (s[9] - '0');
	return tb_date_from_ymd(y, m, d, out);
}

void tb_date_format(tb_date date, char out[11])
{
	int y, m, d;
	tb_date_to_ymd(date, &y, &m, &d);
	snprintf(out, 11, "%04u-%02u-%02u", (unsigned)y % 10000u, (unsigned)m % 100u,
		 (unsigned)d % 100u);
}

int tb_date_weekday(tb_date date)
{
	/* 1970-01-01 was a Thursday */
	int w = (int)((date % 7 + 7 + 3) % 7);
	return w + 1;
}

tb_date tb_date_today(void)
{
	/* Asia/Shanghai is UTC+8 all year round */
	long long t = (long long)time(NULL) + 8 * 3600;
	return (tb_date)(t >= 0 ? t / 86400 : (t - 86399) / 86400);
}

void tb_calendar_init(struct tb_calendar *c)
{
	memset(c, 0, sizeof(*c));
}

void tb_calendar_release(struct tb_calendar *c)
{
	free(c->days);
	memset(c, 0, sizeof(*c));
}

static void set_year(struct tb_calendar *c, int year)
{
	unsigned k = (unsigned)(year - 1900);
	if (k < 256)
		c->years[k / 32] |= 1u << (k % 32);
}

bool tb_calendar_covers(const struct tb_calendar *c, int year)
{
	unsigned k = (unsigned)(year - 1900);
	return k < 256 && (c->years[k / 32] >> (k % 32)) & 1u;
}

static int by_date(const void *a, const void *b)
{
	const struct tb_calendar_day *x = a, *y = b;
	return (x->date > y->date) - (x->date < y->date);
}

tb_rc tb_calendar_load_json(struct tb_calendar *c, const char *text, size_t len, struct tb_err *err)
{
	json_error_t je;
	json_t *doc = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
	if (!doc || !json_is_object(doc)) {
		json_decref(doc);
		return tb_fail(err, TB_EINVAL, "", "not a JSON object: %s", doc ? "" : je.text);
	}
	tb_rc rc = TB_OK;
	json_t *year_v = json_object_get(doc, "year"), *days = json_object_get(doc, "days");
	int year = json_is_integer(year_v) ? (int)json_integer_value(year_v) : 0;
	tb_date first, last;
	if (!tb_date_from_ymd(year, 1, 1, &first) || !tb_date_from_ymd(year, 12, 31, &last)) {
		json_decref(doc);
		return tb_fail(err, TB_EINVAL, "year", "year must be an integer from 1900 to 2199");
	}
	if (!json_is_array(days)) {
		json_decref(doc);
		return tb_fail(err, TB_EINVAL, "days", "days must be an array");
	}
	size_t n = json_array_size(days), i;
	struct tb_calendar_day *add = calloc(n ? n : 1, sizeof(*add));
	if (!add) {
		json_decref(doc);
		return TB_ENOMEM;
	}
	json_t *v;
	json_array_foreach(days, i, v)
	{
		char field[48];
		const char *date_s = json_string_value(json_object_get(v, "date"));
		const char *name = json_string_value(json_object_get(v, "name"));
		json_t *off = json_object_get(v, "isOffDay");
		snprintf(field, sizeof(field), "days[%zu].date", i);
		if (!date_s || !tb_date_parse(date_s, &add[i].date) || add[i].date < first ||
		    add[i].date > last) {
			rc =
			    tb_fail(err, TB_EINVAL, field, "must be a date YYYY-MM-DD in %d", year);
			break;
		}
		if (!name || !*name) {
			snprintf(field, sizeof(field), "days[%zu].name", i);
			rc = tb_fail(err, TB_EINVAL, field, "the holiday's name is required");
			break;
		}
		if (!json_is_boolean(off)) {
			snprintf(field, sizeof(field), "days[%zu].isOffDay", i);
			rc = tb_fail(err, TB_EINVAL, field, "must be true or false");
			break;
		}
		add[i].off = json_is_true(off);
		if (!add[i].off && tb_date_weekday(add[i].date) < 6) {
			rc = tb_fail(err, TB_EINVAL, field,
				     "%s is a make-up working day but not a Saturday or Sunday",
				     date_s);
			break;
		}
	}
	if (!rc) {
		qsort(add, n, sizeof(*add), by_date);
		for (i = 1; i < n && !rc; i++)
			if (add[i].date == add[i - 1].date) {
				char d[11];
				tb_date_format(add[i].date, d);
				rc = tb_fail(err, TB_EINVAL, "days", "%s is listed twice", d);
			}
	}
	/* replace the year's entries: keep the others, add these, sort */
	if (!rc) {
		size_t keep = 0;
		for (i = 0; i < c->n; i++)
			if (c->days[i].date < first || c->days[i].date > last)
				c->days[keep++] = c->days[i];
		if (keep + n > c->cap) {
			size_t cap = (keep + n) * 2;
			struct tb_calendar_day *p = realloc(c->days, cap * sizeof(*p));
			if (!p)
				rc = TB_ENOMEM;
			else
				c->days = p, c->cap = cap;
		}
		if (!rc) {
			memcpy(c->days + keep, add, n * sizeof(*add));
			c->n = keep + n;
			qsort(c->days, c->n, sizeof(*c->days), by_date);
			set_year(c, year);
		}
	}
	free(add);
	json_decref(doc);
	return rc;
}

extern const unsigned char tb_holidays_2024[], tb_holidays_2025[], tb_holidays_2026[];
extern const size_t tb_holidays_2024_len, tb_holidays_2025_len, tb_holidays_2026_len;

tb_rc tb_calendar_load_builtin(struct tb_calendar *c, struct tb_err *err)
{
	struct {
		const unsigned char *p;
		size_t n;
	} years[] = {{tb_holidays_2024, tb_holidays_2024_len},
		     {tb_holidays_2025, tb_holidays_2025_len},
		     {tb_holidays_2026, tb_holidays_2026_len}};
	for (size_t i = 0; i < TB_ARRAY_LEN(years); i++) {
		tb_rc rc = tb_calendar_load_json(c, (const char *)years[i].p, years[i].n, err);
		if (rc)
			return rc;
	}
	return TB_OK;
}

static const struct tb_calendar_day *find(const struct tb_calendar *c, tb_date date)
{
	size_t lo = 0, hi = c->n;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (c->days[mid].date < date)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < c->n && c->days[lo].date == date ? &c->days[lo] : NULL;
}

bool tb_calendar_is_workday(const struct tb_calendar *c, tb_date date)
{
	const struct tb_calendar_day *e = find(c, date);
	if (e)
		return !e->off;
	return tb_date_weekday(date) <= 5;
}

tb_date tb_calendar_add_workdays(const struct tb_calendar *c, tb_date start, int n)
{
	tb_date d = start;
	/* Limits are at most a few hundred working days: walking is simple and exact. */
	while (n > 0) {
		d++;
		if (tb_calendar_is_workday(c, d))
			n--;
	}
	return d;
}

int tb_calendar_workdays_between(const struct tb_calendar *c, tb_date from, tb_date to)
{
	int n = 0;
	for (tb_date d = from + 1; d <= to; d++)
		n += tb_calendar_is_workday(c, d);
	return n;
}
