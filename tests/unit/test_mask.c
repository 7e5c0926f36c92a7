#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "base/mask.h"

static const char *id(const char *s)
{
	static char buf[64];
	tb_mask_id_number(s, buf, sizeof(buf));
	return buf;
}

static const char *phone(const char *s)
{
	static char buf[64];
	tb_mask_phone(s, buf, sizeof(buf));
	return buf;
}

static const char *name(const char *s)
{
	static char buf[64];
	tb_mask_name(s, buf, sizeof(buf));
	return buf;
}

static void test_id(void **state)
{
	(void)state;
	assert_string_equal(id("440106199001011234"), "4401**********1234"); /* DESIGN.md */
	assert_string_equal(id("11010519491231002X"), "1101**********002X");
	assert_string_equal(id("12345678"), "********"); /* too short to keep anything */
	assert_string_equal(id(""), "");
	char small[6];
	tb_mask_id_number("440106199001011234", small, sizeof(small));
	assert_string_equal(small, "*****"); /* cut to fit, still masked */
}

static void test_phone(void **state)
{
	(void)state;
	assert_string_equal(phone("13812345678"), "138****5678");
	assert_string_equal(phone("020-83113110"), "020*****3110");
	assert_string_equal(phone("1234567"), "*******");
}

static void test_name(void **state)
{
	(void)state;
	assert_string_equal(name("张三丰"), "张**");
	assert_string_equal(name("欧阳娜娜"), "欧***");
	assert_string_equal(name("李"), "*");
	assert_string_equal(name(""), "");
	assert_string_equal(name("Li Lei"), "L*****");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_id),
	    cmocka_unit_test(test_phone),
	    cmocka_unit_test(test_name),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
