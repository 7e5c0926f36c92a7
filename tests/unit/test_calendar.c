/* The working-day calendar against the State Council's notices (data/holidays). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "base/calendar.h"

static struct tb_calendar cal;

static tb_date D(const char *s)
{
	tb_date d;
	assert_true(tb_date_parse(s, &d));
	return d;
}

static const char *F(tb_date d)
{
	static char buf[4][11];
	static int k;
	char *b = buf[k++ & 3];
	tb_date_format(d, b);
	return b;
}

static int setup(void **state)
{
	(void)state;
	tb_calendar_init(&cal);
	struct tb_err err = {0};
	return tb_calendar_load_builtin(&cal, &err) == TB_OK ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	tb_calendar_release(&cal);
	return 0;
}

static void test_dates(void **state)
{
	(void)state;
	tb_date d;
	assert_true(tb_date_from_ymd(1970, 1, 1, &d));
	assert_int_equal(d, 0);
	assert_int_equal(tb_date_weekday(d), 4);	       /* a Thursday */
	assert_int_equal(tb_date_weekday(D("2026-11-24")), 2); /* a Tuesday */
	assert_true(tb_date_parse("2024-02-29", &d));
	assert_false(tb_date_parse("2025-02-29", &d));
	assert_false(tb_date_parse("2025-13-01", &d));
	assert_false(tb_date_parse("2025-1-01", &d));
	assert_false(tb_date_parse("2025-01-01x", &d));
	assert_false(tb_date_parse("", &d));
	assert_false(tb_date_parse(NULL, &d));
	/* round trip over two centuries */
	tb_date a, b;
	assert_true(tb_date_from_ymd(1900, 1, 1, &a));
	assert_true(tb_date_from_ymd(2199, 12, 31, &b));
	for (tb_date x = a; x <= b; x++) {
		int y, m, dd;
		tb_date back;
		tb_date_to_ymd(x, &y, &m, &dd);
		assert_true(tb_date_from_ymd(y, m, dd, &back));
		assert_int_equal(back, x);
	}
	assert_string_equal(F(D("2026-02-28")), "2026-02-28");
}

static void test_covers(void **state)
{
	(void)state;
	assert_true(tb_calendar_covers(&cal, 2024));
	assert_true(tb_calendar_covers(&cal, 2025));
	assert_true(tb_calendar_covers(&cal, 2026));
	assert_false(tb_calendar_covers(&cal, 2023));
	assert_false(tb_calendar_covers(&cal, 2027));
}

static void test_holidays_and_makeup_days(void **state)
{
	(void)state;
	/* 2025 National Day and Mid-Autumn: 10-01..10-08 off, Sunday 09-28 and Saturday
	 * 10-11 worked */
	for (int d = 1; d <= 8; d++) {
		char s[11];
		snprintf(s, sizeof(s), "2025-10-%02d", d);
		assert_false(tb_calendar_is_workday(&cal, D(s)));
	}
	assert_true(tb_calendar_is_workday(&cal, D("2025-09-28")));
	assert_true(tb_calendar_is_workday(&cal, D("2025-10-11")));
	assert_true(tb_calendar_is_workday(&cal, D("2025-10-09")));
	/* 2026 Spring Festival: 02-15..02-23 off, Saturdays 02-14 and 02-28 worked */
	assert_true(tb_calendar_is_workday(&cal, D("2026-02-14")));
	assert_false(tb_calendar_is_workday(&cal, D("2026-02-16")));
	assert_false(tb_calendar_is_workday(&cal, D("2026-02-23")));
	assert_true(tb_calendar_is_workday(&cal, D("2026-02-24")));
	assert_true(tb_calendar_is_workday(&cal, D("2026-02-28")));
	/* New Year 2026: 01-01..03 off, Sunday 01-04 worked */
	assert_false(tb_calendar_is_workday(&cal, D("2026-01-01")));
	assert_true(tb_calendar_is_workday(&cal, D("2026-01-04")));
	/* ordinary weeks */
	assert_true(tb_calendar_is_workday(&cal, D("2026-11-24")));
	assert_false(tb_calendar_is_workday(&cal, D("2026-11-28")));
	assert_false(tb_calendar_is_workday(&cal, D("2026-11-29")));
	/* outside the notices only weekends are known */
	assert_true(tb_calendar_is_workday(&cal, D("2027-01-01"))); /* a Friday */
}

static void test_add_workdays(void **state)
{
	(void)state;
	/* accepted on the last day before National Day 2025: the first working day is
	 * 10-09 (the acceptance day never counts) */
	assert_string_equal(F(tb_calendar_add_workdays(&cal, D("2025-09-30"), 1)), "2025-10-09");
	/* 20 working days (行政许可法 art. 42) from 2025-09-26 (a Friday): 09-28 and 09-29,
	 * 09-30 are 3; 10-09, 10-10, 10-11 (make-up Saturday) make 6; then 14 more weekdays
	 * from 10-13: 10-13..10-17 (11), 10-20..10-24 (16), 10-27..10-30 (20) */
	assert_string_equal(F(tb_calendar_add_workdays(&cal, D("2025-09-26"), 20)), "2025-10-30");
	assert_string_equal(F(tb_calendar_add_workdays(&cal, D("2026-02-13"), 1)), "2026-02-14");
	assert_string_equal(F(tb_calendar_add_workdays(&cal, D("2026-02-14"), 1)), "2026-02-24");
	assert_string_equal(F(tb_calendar_add_workdays(&cal, D("2026-11-24"), 0)), "2026-11-24");
	assert_string_equal(F(tb_calendar_add_workdays(&cal, D("2026-11-27"), 1)), "2026-11-30");
	/* across a year boundary */
	assert_string_equal(F(tb_calendar_add_workdays(&cal, D("2025-12-31"), 1)), "2026-01-04");
}

static void test_between(void **state)
{
	(void)state;
	/* between is the inverse of add: add(start, n) = due <=> between(start, due) = n */
	tb_date start = D("2024-01-01");
	for (int k = 0; k < 1000; k += 7) {
		tb_date s = start + k;
		for (int n = 0; n <= 30; n++) {
			tb_date due = tb_calendar_add_workdays(&cal, s, n);
			assert_int_equal(tb_calendar_workdays_between(&cal, s, due), n);
			if (n)
				assert_true(tb_calendar_is_workday(&cal, due));
		}
	}
	assert_int_equal(tb_calendar_workdays_between(&cal, D("2025-10-01"), D("2025-10-08")), 0);
	assert_int_equal(tb_calendar_workdays_between(&cal, D("2025-10-08"), D("2025-10-01")), 0);
	/* 2025 had 248 working days by its notice (counted independently from
	 * data/holidays/2025.json) */
	assert_int_equal(tb_calendar_workdays_between(&cal, D("2024-12-31"), D("2025-12-31")), 248);
}

static void load_bad(const char *json, const char *field)
{
	struct tb_calendar c;
	tb_calendar_init(&c);
	struct tb_err err = {0};
	assert_int_equal(tb_calendar_load_json(&c, json, strlen(json), &err), TB_EINVAL);
	assert_string_equal(err.field, field);
	assert_int_equal(c.n, 0);
	assert_false(tb_calendar_covers(&c, 2027));
	tb_calendar_release(&c);
}

static void test_load_new_year(void **state)
{
	(void)state;
	struct tb_calendar c;
	tb_calendar_init(&c);
	struct tb_err err = {0};
	const char *y2027 = "{\"year\":2027,\"papers\":[],\"days\":["
			    "{\"name\":\"元旦\",\"date\":\"2027-01-01\",\"isOffDay\":true},"
			    "{\"name\":\"春节\",\"date\":\"2027-02-06\",\"isOffDay\":false}]}";
	assert_int_equal(tb_calendar_load_json(&c, y2027, strlen(y2027), &err), TB_OK);
	assert_true(tb_calendar_covers(&c, 2027));
	assert_false(tb_calendar_is_workday(&c, D("2027-01-01")));
	assert_true(tb_calendar_is_workday(&c, D("2027-02-06"))); /* a make-up Saturday */
	/* loading the year again replaces it */
	const char *again = "{\"year\":2027,\"days\":[]}";
	assert_int_equal(tb_calendar_load_json(&c, again, strlen(again), &err), TB_OK);
	assert_true(tb_calendar_is_workday(&c, D("2027-01-01")));
	tb_calendar_release(&c);

	load_bad("[]", "");
	load_bad("{\"year\":\"2027\",\"days\":[]}", "year");
	load_bad("{\"year\":2027}", "days");
	load_bad(
	    "{\"year\":2027,\"days\":[{\"name\":\"x\",\"date\":\"2026-12-31\",\"isOffDay\":true}]}",
	    "days[0].date");
	load_bad(
	    "{\"year\":2027,\"days\":[{\"name\":\"x\",\"date\":\"2027-02-30\",\"isOffDay\":true}]}",
	    "days[0].date");
	load_bad("{\"year\":2027,\"days\":[{\"date\":\"2027-01-01\",\"isOffDay\":true}]}",
		 "days[0].name");
	load_bad(
	    "{\"year\":2027,\"days\":[{\"name\":\"x\",\"date\":\"2027-01-01\",\"isOffDay\":1}]}",
	    "days[0].isOffDay");
	/* a make-up working day on a Monday makes nothing up */
	load_bad("{\"year\":2027,\"days\":[{\"name\":\"x\",\"date\":\"2027-01-04\",\"isOffDay\":"
		 "false}]}",
		 "days[0].date");
	load_bad(
	    "{\"year\":2027,\"days\":[{\"name\":\"x\",\"date\":\"2027-01-01\",\"isOffDay\":true},"
	    "{\"name\":\"y\",\"date\":\"2027-01-01\",\"isOffDay\":true}]}",
	    "days");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_dates),
	    cmocka_unit_test(test_covers),
	    cmocka_unit_test(test_holidays_and_makeup_days),
	    cmocka_unit_test(test_add_workdays),
	    cmocka_unit_test(test_between),
	    cmocka_unit_test(test_load_new_year),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
