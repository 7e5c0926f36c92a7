/* codes.c: check algorithms of the national codes (shared/STANDARDS.md §1, §2, §5, §7).
 *
 * Nothing here allocates. Every loop stops at the first NUL it meets: lengths are
 * measured with a bounded count (code_len) before any fixed-offset access, so a short
 * or NUL-broken string is rejected without reading past its end. */
#include "base/codes.h"

#include <string.h>
#include <time.h>

/* Bounded length: counts at most max + 1 characters, so "longer than max" is known
 * without walking the rest of a long (or unterminated-looking) input. */
static size_t code_len(const char *s, size_t max)
{
	size_t n = 0;

	while (n <= max && s[n] != '\0')
		n++;
	return n;
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static bool is_upper_alnum(char c)
{
	return is_digit(c) || (c >= 'A' && c <= 'Z');
}

/* Value of [0-9A-Z] as 0..35 (GB 11714 and ISO/IEC 7064 MOD 37,36 both use it), -1 else. */
static int alnum_val(char c)
{
	if (is_digit(c))
		return c - '0';
	if (c >= 'A' && c <= 'Z')
		return c - 'A' + 10;
	return -1;
}

static bool invalid(struct tb_err *err, const char *what)
{
	/* The caller knows which field it validated; we only name the part of the code. */
	tb_fail(err, TB_EINVAL, "", "%s", what);
	return false;
}

/* ---- GB 11643-1999 resident identity number (STANDARDS.md §5) ---- */

/* ISO 7064 MOD 11-2 weights 2^(18-i) mod 11 for positions 1..17, as listed in GB 11643. */
static const int id_weights[17] = {7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2};

char tb_code_id_number_check(const char *s17)
{
	int sum = 0;

	/* The header asks for 17 digits; anything else yields 0 rather than a guess, and
	 * the NUL test keeps a short string from being read past its end. */
	for (int i = 0; i < 17; i++) {
		if (!is_digit(s17[i]))
			return 0;
		sum += (s17[i] - '0') * id_weights[i];
	}
	/* GB 11643 table: remainder 0..10 -> 1 0 X 9 8 7 6 5 4 3 2. */
	return "10X98765432"[sum % 11];
}

/* GB/T 2260 province-level codes in force: 11-15 north, 21-23 north-east, 31-37 east,
 * 41-46 centre-south, 50-54 south-west, 61-65 north-west, 71 Taiwan, 81 Hong Kong,
 * 82 Macao. */
static bool province_real(int p)
{
	return (p >= 11 && p <= 15) || (p >= 21 && p <= 23) || (p >= 31 && p <= 37) ||
	       (p >= 41 && p <= 46) || (p >= 50 && p <= 54) || (p >= 61 && p <= 65) || p == 71 ||
	       p == 81 || p == 82;
}

static bool leap_year(int y)
{
	/* Gregorian rule, so 1900 is not a leap year and 2000 is. */
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int days_in_month(int y, int m)
{
	static const int mdays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};

	return m == 2 && leap_year(y) ? 29 : mdays[m - 1];
}

/* Today's date as YYYYMMDD in China Standard Time. Identity numbers are issued in
 * China, so a child born just after midnight Beijing time must be accepted even when
 * the server clock runs in UTC. CST is a fixed UTC+8 (no DST since 1991), so the
 * civil date is computed directly instead of through localtime(), which depends on
 * the process's TZ and is not thread-safe. Algorithm: H. Hinnant, civil_from_days. */
static long today_cst(void)
{
	long long z = (long long)time(NULL) + 8 * 3600;
	long long days = z / 86400 - (z % 86400 < 0);

	days += 719468;
	long long era = (days >= 0 ? days : days - 146096) / 146097;
	long long doe = days - era * 146097;
	long long yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	long long y = yoe + era * 400;
	long long doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	long long mp = (5 * doy + 2) / 153;
	long long d = doy - (153 * mp + 2) / 5 + 1;
	long long m = mp < 10 ? mp + 3 : mp - 9;

	if (m <= 2)
		y++;
	return (long)(y * 10000 + m * 100 + d);
}

static int digits_val(const char *s, int n)
{
	int v = 0;

	for (int i = 0; i < n; i++)
		v = v * 10 + (s[i] - '0');
	return v;
}

bool tb_code_id_number_valid(const char *s, struct tb_err *err)
{
	if (code_len(s, 18) != 18)
		return invalid(err, "length");
	/* GB 11643 §5: 17 digits, then the check which may be 'X' (the header allows only
	 * upper case, the form printed on the card). */
	for (int i = 0; i < 17; i++)
		if (!is_digit(s[i]))
			return invalid(err, "character not allowed");
	if (!is_digit(s[17]) && s[17] != 'X')
		return invalid(err, "character not allowed");

	if (!province_real(digits_val(s, 2)))
		return invalid(err, "area code");

	int y = digits_val(s + 6, 4), m = digits_val(s + 10, 2), d = digits_val(s + 12, 2);

	if (y < 1850 || m < 1 || m > 12 || d < 1 || d > days_in_month(y, m))
		return invalid(err, "birth date");
	if ((long)digits_val(s + 6, 8) > today_cst())
		return invalid(err, "birth date");

	if (tb_code_id_number_check(s) != s[17])
		return invalid(err, "check character");
	return true;
}

/* ---- GB 11714 organisation code ---- */

/* Check character of the 8-character body, or 0 if a character is outside [0-9A-Z].
 * GB 11714: weights 3 7 9 10 5 8 4 2, C = 11 - (sum mod 11), 10 -> 'X', 11 -> '0'. */
static char org_check(const char *s8)
{
	static const int w[8] = {3, 7, 9, 10, 5, 8, 4, 2};
	int sum = 0;

	for (int i = 0; i < 8; i++) {
		int v = alnum_val(s8[i]);

		if (v < 0)
			return 0;
		sum += v * w[i];
	}
	int c = 11 - sum % 11;

	return c == 10 ? 'X' : c == 11 ? '0' : (char)('0' + c);
}

bool tb_code_org_code_valid(const char *s)
{
	if (code_len(s, 9) != 9)
		return false;
	char c = org_check(s);

	return c != 0 && c == s[8];
}

/* ---- GB 32100-2015 unified social credit code (STANDARDS.md §5) ---- */

/* GB 32100 alphabet: digits and upper-case letters without I, O, S, V, Z, so that a
 * character's index is its value 0..30. */
static const char uscc_alphabet[] = "0123456789ABCDEFGHJKLMNPQRTUWXY";

static int uscc_val(char c)
{
	if (c == '\0')
		return -1; /* strchr would find the terminator */
	const char *p = strchr(uscc_alphabet, c);

	return p ? (int)(p - uscc_alphabet) : -1;
}

char tb_code_uscc_check(const char *s17)
{
	/* Weights 3^(i) mod 31 for positions 1..17, as listed in GB 32100. */
	static const int w[17] = {1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28};
	int sum = 0;

	for (int i = 0; i < 17; i++) {
		int v = uscc_val(s17[i]);

		if (v < 0)
			return 0;
		sum += v * w[i];
	}
	int c = 31 - sum % 31;

	return uscc_alphabet[c == 31 ? 0 : c];
}

/* The USCC check on the first 18 characters of s, whose length the caller has checked
 * (also used for the USCC head of an implementation code). */
static bool uscc_valid_18(const char *s, struct tb_err *err)
{
	for (int i = 0; i < 18; i++)
		if (uscc_val(s[i]) < 0)
			return invalid(err, "character not allowed");
	if (tb_code_uscc_check(s) != s[17])
		return invalid(err, "check character");
	/* GB 32100 §4: characters 9-17 are the GB 11714 organisation code with its own check. */
	if (org_check(s + 8) != s[16])
		return invalid(err, "organisation code check character");
	return true;
}

bool tb_code_uscc_valid(const char *s, struct tb_err *err)
{
	if (code_len(s, 18) != 18)
		return invalid(err, "length");
	return uscc_valid_18(s, err);
}

/* ---- Service item codes (STANDARDS.md §1, observed format) ---- */

static bool catalog_valid_12(const char *s, struct tb_err *err)
{
	/* 9-character main item + 3-character sub-item; no check character is known, so
	 * only the alphabet can be verified. */
	for (int i = 0; i < 12; i++)
		if (!is_upper_alnum(s[i]))
			return invalid(err, "character not allowed");
	return true;
}

bool tb_code_catalog_valid(const char *s, struct tb_err *err)
{
	if (code_len(s, 12) != 12)
		return invalid(err, "length");
	return catalog_valid_12(s, err);
}

bool tb_code_impl_valid(const char *s, struct tb_err *err)
{
	/* USCC of the implementing department (18) + exercise level (1) + catalog code (12). */
	if (code_len(s, 31) != 31)
		return invalid(err, "length");
	if (!uscc_valid_18(s, err))
		return false;
	/* 行使层级 1 national .. 6 village (STANDARDS.md §1 code lists). */
	if (s[18] < '1' || s[18] > '6')
		return invalid(err, "exercise level");
	return catalog_valid_12(s + 19, err);
}

/* ---- Administrative divisions (STANDARDS.md §7) ---- */

/* Where each level ends: 2 province, 4 city, 6 county (GB/T 2260), 9 town, 12 village
 * (statistics bureau). */
static const size_t region_ends[5] = {2, 4, 6, 9, 12};

bool tb_code_region_valid(const char *s)
{
	return tb_code_region_level(s) != 0;
}

int tb_code_region_level(const char *s)
{
	size_t n = code_len(s, 12);
	int level = 0;

	for (int i = 0; i < 5; i++)
		if (region_ends[i] == n)
			level = i + 1;
	if (level == 0)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!is_digit(s[i]))
			return 0;
	/* A level that is present must name something: "4400" is Guangdong padded, not a
	 * city, so the zero-padded forms of published tables are rejected (strip them). */
	size_t start = 0;

	for (int i = 0; i < level; i++) {
		bool all_zero = true;

		for (size_t j = start; j < region_ends[i]; j++)
			if (s[j] != '0')
				all_zero = false;
		/* Cities without counties (东莞 4419, 中山 4420) number their towns with
		 * county part 00: 441900003 东城街道 sits directly under 4419. */
		if (all_zero && !(i == 2 && level >= 4))
			return 0;
		start = region_ends[i];
	}
	return level;
}

bool tb_code_region_parent(const char *s, char *out)
{
	int level = tb_code_region_level(s);

	if (level <= 1)
		return false;
	size_t n = region_ends[level - 2];

	if (level == 4 && s[4] == '0' && s[5] == '0')
		n = region_ends[1]; /* a town of a city without counties */
	memcpy(out, s, n);
	out[n] = '\0';
	return true;
}

/* ---- GB/T 36904 electronic licence identifier (STANDARDS.md §2, observed) ---- */

/* One step of ISO/IEC 7064 MOD 37,36 (hybrid system, M = 36, M + 1 = 37). */
static int mod37_36_step(int p, int v)
{
	int s = (p + v) % 36;

	if (s == 0)
		s = 36;
	return (2 * s) % 37;
}

static char mod37_36_char(int p)
{
	return "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"[(37 - p) % 36];
}

/* Returns 0 if a character is outside [0-9A-Z]: lower case is not folded, since the
 * identifiers are printed in upper case and folding would accept a second spelling. */
char tb_code_mod37_36(const char *s)
{
	int p = 36;

	for (; *s != '\0'; s++) {
		int v = alnum_val(*s);

		if (v < 0)
			return 0;
		p = mod37_36_step(p, v);
	}
	return mod37_36_char(p);
}

/* Reads one dot-terminated segment of [0-9A-Z] starting at *sp, folds it into the
 * running MOD 37,36 state and returns its length; *sp is left on the dot (or on
 * whatever stopped the segment, which the caller checks). */
static size_t licence_segment(const char **sp, int *p)
{
	const char *s = *sp;
	size_t n = 0;

	for (; alnum_val(s[n]) >= 0; n++)
		*p = mod37_36_step(*p, alnum_val(s[n]));
	*sp = s + n;
	return n;
}

bool tb_code_licence_id_valid(const char *s, struct tb_err *err)
{
	/* The OID arc GB/T 36904 assigns to licences: 1.2.156 (China) .3005 .2 */
	static const char prefix[] = "1.2.156.3005.2.";
	int p = 36;

	/* strncmp stops at the first difference, so a short s is not read past its NUL. */
	if (strncmp(s, prefix, sizeof(prefix) - 1) != 0)
		return invalid(err, "prefix");
	s += sizeof(prefix) - 1;

	/* Type code: USCC of the defining authority (18) + 3-digit sequence. The embedded
	 * USCCs are held to the GB 32100 alphabet but their check characters are not
	 * re-verified: the identifier's own check already catches typing errors, and the
	 * format is observed, not from the standard's text, so we do not reject a
	 * published identifier over a code we cannot vouch for. */
	const char *seg = s;

	if (licence_segment(&s, &p) != 21 || *s != '.')
		return invalid(err, "type code");
	for (int i = 0; i < 18; i++)
		if (uscc_val(seg[i]) < 0)
			return invalid(err, "type code");
	for (int i = 18; i < 21; i++)
		if (!is_digit(seg[i]))
			return invalid(err, "type code");
	s++;

	seg = s;
	if (licence_segment(&s, &p) != 18 || *s != '.')
		return invalid(err, "issuer code");
	for (int i = 0; i < 18; i++)
		if (uscc_val(seg[i]) < 0)
			return invalid(err, "issuer code");
	s++;

	/* Serial: issuer-defined, any non-empty run of [0-9A-Z]. */
	if (licence_segment(&s, &p) == 0 || *s != '.')
		return invalid(err, "serial");
	s++;

	seg = s;
	if (licence_segment(&s, &p) != 3 || *s != '.')
		return invalid(err, "version");
	for (int i = 0; i < 3; i++)
		if (!is_digit(seg[i]))
			return invalid(err, "version");
	s++;

	if (alnum_val(s[0]) < 0 || s[1] != '\0')
		return invalid(err, "check character");
	if (mod37_36_char(p) != s[0])
		return invalid(err, "check character");
	return true;
}
