/* test_codes.c: unit tests of src/base/codes.c against shared/STANDARDS.md §1, §2, §5, §7. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "base/codes.h"

typedef bool (*validator)(const char *s);

/* Adapters so the generic loops below can drive every validator. They also check that
 * a failure always leaves a message and an empty field. */
static bool check_err(bool ok, const struct tb_err *err)
{
	if (!ok) {
		assert_true(err->msg[0] != '\0');
		assert_string_equal(err->field, "");
	}
	return ok;
}

#define ADAPT(name, fn)                                                                            \
	static bool name(const char *s)                                                            \
	{                                                                                          \
		struct tb_err err;                                                                 \
		memset(&err, 0, sizeof(err));                                                      \
		strcpy(err.field, "unset");                                                        \
		return check_err(fn(s, &err), &err);                                               \
	}
ADAPT(v_id, tb_code_id_number_valid)
ADAPT(v_uscc, tb_code_uscc_valid)
ADAPT(v_catalog, tb_code_catalog_valid)
ADAPT(v_impl, tb_code_impl_valid)
ADAPT(v_licence, tb_code_licence_id_valid)

/* The message a validator leaves for s (asserting that it rejects s). */
static const char *why(bool (*fn)(const char *, struct tb_err *), const char *s)
{
	static struct tb_err err;

	memset(&err, 0, sizeof(err));
	assert_false(fn(s, &err));
	assert_string_equal(err.field, "");
	return err.msg;
}

/* Every single-byte substitution (1..255, any position) of a valid code must be
 * rejected. Only positions before upto are mutated (later parts may carry no check). */
static void assert_mutations_rejected(validator fn, const char *valid, size_t upto)
{
	char buf[128];
	size_t n = strlen(valid);

	assert_true(n < sizeof(buf));
	assert_true(fn(valid));
	for (size_t i = 0; i < upto; i++) {
		for (int c = 1; c < 256; c++) {
			if ((char)c == valid[i])
				continue;
			memcpy(buf, valid, n + 1);
			buf[i] = (char)c;
			if (fn(buf))
				fail_msg("mutation accepted: pos %zu char 0x%02x in %s", i, c,
					 valid);
		}
	}
}

/* Every truncation, every one-character extension and a NUL in every position. */
static void assert_lengths_rejected(validator fn, const char *valid)
{
	char buf[128];
	size_t n = strlen(valid);

	assert_true(n + 2 < sizeof(buf));
	for (size_t k = 0; k < n; k++) {
		memcpy(buf, valid, k);
		buf[k] = '\0';
		assert_false(fn(buf));
	}
	/* NUL in the middle, with the rest of the valid code still behind it in memory. */
	for (size_t k = 0; k < n; k++) {
		memcpy(buf, valid, n + 1);
		buf[k] = '\0';
		assert_false(fn(buf));
	}
	for (const char *extra = "0X.A "; *extra; extra++) {
		memcpy(buf, valid, n);
		buf[n] = *extra;
		buf[n + 1] = '\0';
		assert_false(fn(buf));
		/* and prepended */
		buf[0] = *extra;
		memcpy(buf + 1, valid, n + 1);
		assert_false(fn(buf));
	}
}

/* Lower-casing any letter must be rejected: the codes are upper case only. */
static void assert_lower_rejected(validator fn, const char *valid)
{
	char buf[128];
	size_t n = strlen(valid);
	int letters = 0;

	for (size_t i = 0; i < n; i++) {
		if (valid[i] < 'A' || valid[i] > 'Z')
			continue;
		memcpy(buf, valid, n + 1);
		buf[i] = (char)(valid[i] - 'A' + 'a');
		assert_false(fn(buf));
		letters++;
	}
	assert_true(letters > 0);
}

/* ---- GB 11643 identity numbers ---- */

static void make_id(char out[19], const char *area6, const char *date8, const char *seq3)
{
	snprintf(out, 19, "%.6s%.8s%.3s", area6, date8, seq3);
	out[17] = tb_code_id_number_check(out);
	out[18] = '\0';
	assert_true(out[17] != 0);
}

/* YYYYMMDD in China Standard Time (UTC+8), offset by whole days from now. */
static void cst_date(char out[9], long days)
{
	time_t t = time(NULL) + 8 * 3600 + days * 86400;
	struct tm *tm = gmtime(&t);
	char buf[40];

	snprintf(buf, sizeof(buf), "%04d%02d%02d", tm->tm_year + 1900, tm->tm_mon + 1, tm->tm_mday);
	assert_int_equal(strlen(buf), 8);
	memcpy(out, buf, 9);
}

static void test_id_examples(void **state)
{
	(void)state;
	assert_true(v_id("11010519491231002X"));
	assert_int_equal(tb_code_id_number_check("11010519491231002"), 'X');
	assert_int_equal(tb_code_id_number_check("11010519491231002X"), 'X'); /* 18th ignored */

	/* STANDARDS.md §5 lists 440524188001010014 (born 1880) as valid: birth dates go
	 * back to 1850, and earlier ones are refused. */
	assert_int_equal(tb_code_id_number_check("44052418800101001"), '4');
	assert_true(v_id("440524188001010014"));

	/* More valid numbers built with the check function. */
	char id[19];

	make_id(id, "440106", "19900101", "123");
	assert_true(v_id(id));
	make_id(id, "820000", "20000229", "001"); /* 2000 is a leap year */
	assert_true(v_id(id));
	make_id(id, "650102", "18500101", "000"); /* first accepted day */
	assert_true(v_id(id));
	make_id(id, "710000", "20240229", "998");
	assert_true(v_id(id));
	assert_true(tb_code_id_number_valid(id, NULL)); /* err may be NULL */
}

static void test_id_check_function(void **state)
{
	(void)state;
	assert_int_equal(tb_code_id_number_check(""), 0);
	assert_int_equal(tb_code_id_number_check("1101051949123100"), 0); /* 16 digits */
	assert_int_equal(tb_code_id_number_check("1101051949123100A"), 0);
	/* All eleven remainders: position 8 has weight 1, so digit r there gives remainder
	 * r; 10 needs 6 at position 7 (weight 2) and 9 at position 8: 12 + 9 = 21. */
	const char *want = "10X98765432";
	for (int r = 0; r < 11; r++) {
		char s[18];

		memset(s, '0', 17);
		s[17] = '\0';
		if (r < 10) {
			s[7] = (char)('0' + r);
		} else {
			s[6] = '6';
			s[7] = '9';
		}
		assert_int_equal(tb_code_id_number_check(s), want[r]);
	}
}

static void test_id_mutations(void **state)
{
	(void)state;
	char id[19];

	assert_mutations_rejected(v_id, "11010519491231002X", 18);
	make_id(id, "440106", "19900101", "123");
	assert_mutations_rejected(v_id, id, 18);
	assert_lengths_rejected(v_id, "11010519491231002X");
	assert_lower_rejected(v_id, "11010519491231002X");
}

static void test_id_messages(void **state)
{
	(void)state;
	char id[19];

	assert_string_equal(why(tb_code_id_number_valid, ""), "length");
	assert_string_equal(why(tb_code_id_number_valid, "11010519491231002"), "length");
	assert_string_equal(why(tb_code_id_number_valid, "11010519491231002X1"), "length");
	assert_string_equal(why(tb_code_id_number_valid, "11010519491231002x"),
			    "character not allowed");
	assert_string_equal(why(tb_code_id_number_valid, "1101051949123100X2"),
			    "character not allowed");
	assert_string_equal(why(tb_code_id_number_valid, "11010519491231002Y"),
			    "character not allowed");
	assert_string_equal(why(tb_code_id_number_valid, " 1010519491231002X"),
			    "character not allowed");
	assert_string_equal(why(tb_code_id_number_valid, "110105194912310021"), "check character");
	make_id(id, "000000", "19900101", "123");
	assert_string_equal(why(tb_code_id_number_valid, id), "area code");
}

static void test_id_provinces(void **state)
{
	(void)state;
	/* GB/T 2260 province codes, exactly these and no others. */
	static const int real[] = {11, 12, 13, 14, 15, 21, 22, 23, 31, 32, 33, 34,
				   35, 36, 37, 41, 42, 43, 44, 45, 46, 50, 51, 52,
				   53, 54, 61, 62, 63, 64, 65, 71, 81, 82};
	for (int p = 0; p < 100; p++) {
		bool is_real = false;
		char area[7], id[19];

		for (size_t i = 0; i < sizeof(real) / sizeof(real[0]); i++)
			if (real[i] == p)
				is_real = true;
		snprintf(area, sizeof(area), "%02d0101", p);
		make_id(id, area, "19800615", "042");
		if (is_real) {
			assert_true(v_id(id));
		} else {
			assert_string_equal(why(tb_code_id_number_valid, id), "area code");
		}
	}
}

static void test_id_birth_dates(void **state)
{
	(void)state;
	static const char *bad[] = {
	    "19000229", /* 1900 is not a leap year */
	    "20230230", "20230229", "20230431", "20230631", "20230931",
	    "20231131", "20230001", "20231301", "20230100", "20230132",
	    "19991232", "18491231", "00000000", "99991231", "20991231", /* future */
	};
	static const char *good[] = {"19000101", "19000228", "19960229", "20000229",
				     "20230131", "20231231", "19491001", "20230430"};
	char id[19], date[9];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		make_id(id, "110105", bad[i], "002");
		assert_string_equal(why(tb_code_id_number_valid, id), "birth date");
	}
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		make_id(id, "110105", good[i], "002");
		assert_true(v_id(id));
	}
	/* "Today" is China's date: two days ahead is always the future, whatever the
	 * server's time zone; two days back is always the past. */
	cst_date(date, 2);
	make_id(id, "110105", date, "002");
	assert_string_equal(why(tb_code_id_number_valid, id), "birth date");
	cst_date(date, 400);
	make_id(id, "110105", date, "002");
	assert_string_equal(why(tb_code_id_number_valid, id), "birth date");
	cst_date(date, -2);
	make_id(id, "110105", date, "002");
	assert_true(v_id(id));
}

/* ---- GB 11714 organisation codes ---- */

static int alnum_value(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'Z')
		return c - 'A' + 10;
	return -1;
}

static void test_org_code(void **state)
{
	(void)state;
	static const char *valid[] = {"M000100Y4", "666007217", "591693856",
				      "007482575", "00000006X", "000000000"};
	char s[10];

	for (size_t i = 0; i < sizeof(valid) / sizeof(valid[0]); i++) {
		assert_true(tb_code_org_code_valid(valid[i]));
		assert_lengths_rejected(tb_code_org_code_valid, valid[i]);
		/* GB 11714's MOD 11 over 36 values cannot see a substitution whose values
		 * differ by 11 or 22 (0 <-> B <-> M, 1 <-> C <-> N, ...): every other
		 * single-byte substitution in the body, and any in the check, is rejected. */
		for (int pos = 0; pos < 9; pos++) {
			for (int c = 1; c < 256; c++) {
				int a = alnum_value(valid[i][pos]), b = alnum_value(c);

				if (c == valid[i][pos])
					continue;
				memcpy(s, valid[i], 10);
				s[pos] = (char)c;
				if (pos < 8 && a >= 0 && b >= 0 && (a - b) % 11 == 0)
					assert_true(tb_code_org_code_valid(s));
				else if (tb_code_org_code_valid(s))
					fail_msg("mutation accepted: pos %d char 0x%02x in %s", pos,
						 c, valid[i]);
			}
		}
	}
	/* The blind spot, concretely: M (22) -> 0 keeps the check. The USCC's own MOD 31
	 * check still catches it (test_uscc_mutations). */
	assert_true(tb_code_org_code_valid("0000100Y4"));
	assert_false(tb_code_org_code_valid("00000006x"));
	assert_false(tb_code_org_code_valid("m000100Y4"));
	assert_false(tb_code_org_code_valid(""));
}

/* ---- GB 32100 unified social credit codes ---- */

static const char *const usccs[] = {
    "91350100M000100Y43",
    "91310110666007217T",
    "91310115591693856A",
    /* the department inside the implementation-code example of STANDARDS.md §1 */
    "11440100007482575H",
    /* type authority and issuer inside the licence identifier example (§2) */
    "11100000000013338W",
    "11220000013544541J",
};

static void test_uscc_examples(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(usccs) / sizeof(usccs[0]); i++) {
		assert_true(v_uscc(usccs[i]));
		assert_int_equal(tb_code_uscc_check(usccs[i]), usccs[i][17]);
	}
	assert_int_equal(tb_code_uscc_check("91350100M000100Y4"), '3');
	assert_int_equal(tb_code_uscc_check(""), 0);
	assert_int_equal(tb_code_uscc_check("9135010"), 0);
	assert_int_equal(tb_code_uscc_check("91350100I000100Y4"), 0); /* I not in alphabet */
	assert_int_equal(tb_code_uscc_check("91350100m000100Y4"), 0);
	assert_true(tb_code_uscc_valid("91310110666007217T", NULL));
}

static void test_uscc_mutations(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(usccs) / sizeof(usccs[0]); i++) {
		assert_mutations_rejected(v_uscc, usccs[i], 18);
		assert_lengths_rejected(v_uscc, usccs[i]);
		assert_lower_rejected(v_uscc, usccs[i]);
	}
}

static void test_uscc_messages(void **state)
{
	(void)state;
	char s[19];

	assert_string_equal(why(tb_code_uscc_valid, "91350100M000100Y4"), "length");
	assert_string_equal(why(tb_code_uscc_valid, "91350100M000100Y433"), "length");
	assert_string_equal(why(tb_code_uscc_valid, "91350100M000100Y44"), "check character");
	/* I, O, S, V, Z are left out of the GB 32100 alphabet. */
	for (const char *c = "IOSVZ"; *c; c++) {
		memcpy(s, "91350100M000100Y43", 19);
		s[8] = *c;
		assert_string_equal(why(tb_code_uscc_valid, s), "character not allowed");
	}
	/* Outer check right, inner GB 11714 check wrong: change the organisation code and
	 * recompute only the GB 32100 check. */
	memcpy(s, "91350100M000100Y43", 19);
	s[15] = 'A';
	s[17] = tb_code_uscc_check(s);
	assert_string_equal(why(tb_code_uscc_valid, s), "organisation code check character");
}

/* ---- Catalog and implementation codes (§1) ---- */

static void test_catalog(void **state)
{
	(void)state;
	assert_true(v_catalog("000104002000"));
	assert_true(v_catalog("440118009000"));
	assert_true(v_catalog("ABCDEFGHIJKZ"));
	assert_lengths_rejected(v_catalog, "000104002000");
	assert_lower_rejected(v_catalog, "ABCDEFGHIJKZ");
	assert_string_equal(why(tb_code_catalog_valid, "00010400200"), "length");
	assert_string_equal(why(tb_code_catalog_valid, "000104-02000"), "character not allowed");
	assert_string_equal(why(tb_code_catalog_valid, "00010400200 "), "character not allowed");
	assert_string_equal(why(tb_code_catalog_valid, "00010400200\x80"), "character not allowed");
}

static void test_impl(void **state)
{
	(void)state;
	/* STANDARDS.md §1's example. Its USCC part 11440100007482575H does pass GB 32100
	 * (outer check 'H' and inner GB 11714 check '5'), so it is a positive example. */
	const char *impl = "11440100007482575H3440118009000";
	char s[32];

	assert_true(v_uscc("11440100007482575H"));
	assert_true(v_impl(impl));
	for (char level = '1'; level <= '6'; level++) {
		memcpy(s, impl, 32);
		s[18] = level;
		assert_true(v_impl(s));
	}
	/* Only the USCC part has a check; the level and catalog code are checked by
	 * alphabet, so mutations are exhaustive on the first 18 characters only. */
	assert_mutations_rejected(v_impl, impl, 18);
	assert_lengths_rejected(v_impl, impl);
	assert_lower_rejected(v_impl, impl);
	for (const char *level = "07X "; *level; level++) {
		memcpy(s, impl, 32);
		s[18] = *level;
		assert_string_equal(why(tb_code_impl_valid, s), "exercise level");
	}
	memcpy(s, impl, 32);
	s[30] = 'a';
	assert_string_equal(why(tb_code_impl_valid, s), "character not allowed");
	memcpy(s, impl, 32);
	s[17] = 'J';
	assert_string_equal(why(tb_code_impl_valid, s), "check character");
	assert_string_equal(why(tb_code_impl_valid, "11440100007482575H344011800900"), "length");
}

/* ---- Administrative divisions (§7) ---- */

static void test_region(void **state)
{
	(void)state;
	static const struct {
		const char *code;
		int level;
		const char *parent;
	} ok[] = {
	    {"44", 1, NULL},
	    {"4401", 2, "44"},
	    {"440106", 3, "4401"},
	    {"440106001", 4, "440106"},
	    {"440106001001", 5, "440106001"},
	    {"110105", 3, "1101"},
	    {"429004", 3, "4290"},
	    {"82", 1, NULL},
	};
	static const char *bad[] = {
	    "",
	    "4",
	    "440",
	    "44010",
	    "4401060",
	    "44010600",
	    "4401060010",
	    "44010600100",
	    "4401060010011",
	    "00",
	    "0001",
	    "4400",
	    "440100",
	    "440000",
	    "440106000",
	    "440106001000",
	    "440106000001",
	    "440000000000",
	    "4a",
	    "44 1",
	    "-4",
	    "4401O6",
	};
	char out[13];

	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		assert_true(tb_code_region_valid(ok[i].code));
		assert_int_equal(tb_code_region_level(ok[i].code), ok[i].level);
		memset(out, 'x', sizeof(out));
		if (ok[i].parent) {
			assert_true(tb_code_region_parent(ok[i].code, out));
			assert_string_equal(out, ok[i].parent);
			assert_true(tb_code_region_valid(out));
			assert_int_equal(tb_code_region_level(out), ok[i].level - 1);
		} else {
			assert_false(tb_code_region_parent(ok[i].code, out));
		}
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_false(tb_code_region_valid(bad[i]));
		assert_int_equal(tb_code_region_level(bad[i]), 0);
		assert_false(tb_code_region_parent(bad[i], out));
	}
	/* A town of a city without counties (东莞市东城街道) sits under the city. */
	assert_true(tb_code_region_valid("441900003"));
	assert_int_equal(tb_code_region_level("441900003"), 4);
	assert_true(tb_code_region_parent("441900003", out));
	assert_string_equal(out, "4419");
	assert_false(tb_code_region_valid("441900"));
	assert_false(tb_code_region_valid("441900000"));
	/* Walk up a village code to its province. */
	char code[13] = "440106001001";
	int levels = 5;
	while (tb_code_region_parent(code, out)) {
		memcpy(code, out, sizeof(code));
		levels--;
		assert_int_equal(tb_code_region_level(code), levels);
	}
	assert_string_equal(code, "44");
	assert_int_equal(levels, 1);
	/* NUL in the middle cuts the code. */
	assert_int_equal(tb_code_region_level("4401\0"
					      "06"),
			 2);
	assert_false(tb_code_region_valid("440\0"
					  "106"));
}

/* ---- GB/T 36904 licence identifiers (§2) ---- */

static const char *const licence =
    "1.2.156.3005.2.11100000000013338W032.11220000013544541J.2430599.001.F";

static void test_mod37_36(void **state)
{
	(void)state;
	assert_int_equal(tb_code_mod37_36("11100000000013338W03211220000013544541J2430599001"),
			 'F');
	assert_int_equal(tb_code_mod37_36(""), '1'); /* p = 36 -> (37 - 36) % 36 = 1 */
	assert_int_equal(tb_code_mod37_36("a"), 0);
	assert_int_equal(tb_code_mod37_36("12.3"), 0);
}

static void test_licence(void **state)
{
	(void)state;
	char s[96];

	assert_true(v_licence(licence));
	assert_true(tb_code_licence_id_valid(licence, NULL));
	assert_mutations_rejected(v_licence, licence, strlen(licence));
	assert_lengths_rejected(v_licence, licence);
	assert_lower_rejected(v_licence, licence);

	/* A different serial with its own check is valid; the serial length is free. */
	const char *serials[] = {"1", "ABC", "2430599000000000001"};
	for (size_t i = 0; i < sizeof(serials) / sizeof(serials[0]); i++) {
		char body[64];
		snprintf(body, sizeof(body), "11100000000013338W03211220000013544541J%s001",
			 serials[i]);
		snprintf(s, sizeof(s),
			 "1.2.156.3005.2.11100000000013338W032.11220000013544541J.%s.001.%c",
			 serials[i], tb_code_mod37_36(body));
		assert_true(v_licence(s));
	}

	assert_string_equal(why(tb_code_licence_id_valid, ""), "prefix");
	assert_string_equal(why(tb_code_licence_id_valid, "1.2.156.3005.2"), "prefix");
	assert_string_equal(why(tb_code_licence_id_valid, "1.2.156.3005.3.11100000000013338W032."
							  "11220000013544541J.2430599.001.F"),
			    "prefix");
	assert_string_equal(why(tb_code_licence_id_valid, "1.2.156.3005.2.11100000000013338W32."
							  "11220000013544541J.2430599.001.F"),
			    "type code");
	assert_string_equal(why(tb_code_licence_id_valid, "1.2.156.3005.2.11100000000013338W03A."
							  "11220000013544541J.2430599.001.F"),
			    "type code");
	assert_string_equal(why(tb_code_licence_id_valid, "1.2.156.3005.2.1110000000001333IW032."
							  "11220000013544541J.2430599.001.F"),
			    "type code");
	assert_string_equal(why(tb_code_licence_id_valid, "1.2.156.3005.2.11100000000013338W032."
							  "1122000001354454J.2430599.001.F"),
			    "issuer code");
	assert_string_equal(why(tb_code_licence_id_valid, "1.2.156.3005.2.11100000000013338W032."
							  "11220000013544541J..001.F"),
			    "serial");
	assert_string_equal(why(tb_code_licence_id_valid, "1.2.156.3005.2.11100000000013338W032."
							  "11220000013544541J.2430599.01.F"),
			    "version");
	assert_string_equal(why(tb_code_licence_id_valid, "1.2.156.3005.2.11100000000013338W032."
							  "11220000013544541J.2430599.001.G"),
			    "check character");
	assert_string_equal(why(tb_code_licence_id_valid, "1.2.156.3005.2.11100000000013338W032."
							  "11220000013544541J.2430599.001.FF"),
			    "check character");
	assert_string_equal(why(tb_code_licence_id_valid, "1.2.156.3005.2.11100000000013338W032."
							  "11220000013544541J.2430599.001."),
			    "check character");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_id_examples),	   cmocka_unit_test(test_id_check_function),
	    cmocka_unit_test(test_id_mutations),   cmocka_unit_test(test_id_messages),
	    cmocka_unit_test(test_id_provinces),   cmocka_unit_test(test_id_birth_dates),
	    cmocka_unit_test(test_org_code),	   cmocka_unit_test(test_uscc_examples),
	    cmocka_unit_test(test_uscc_mutations), cmocka_unit_test(test_uscc_messages),
	    cmocka_unit_test(test_catalog),	   cmocka_unit_test(test_impl),
	    cmocka_unit_test(test_region),	   cmocka_unit_test(test_mod37_36),
	    cmocka_unit_test(test_licence),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
