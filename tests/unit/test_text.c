/* test_text.c: unit tests of src/base/text.c: folding, the bigram tokenizer in document
 * and query mode, query terms, UTF-8 helpers and the zh-HK conversion. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/text.h"

/* Tokens collected as "tok@start-end" joined by spaces. */
struct toks {
	char out[4096];
	size_t len;
	int count;
	int stop_after; /* 0: never stop */
};

static int collect(void *ctx, const char *tok, int ntok, int start, int end)
{
	struct toks *t = ctx;
	assert_true(ntok > 0);
	assert_true(start >= 0 && end > start);
	int w = snprintf(t->out + t->len, sizeof(t->out) - t->len, "%s%.*s@%d-%d",
			 t->count ? " " : "", ntok, tok, start, end);
	assert_true(w > 0 && (size_t)w < sizeof(t->out) - t->len);
	t->len += (size_t)w;
	t->count++;
	return t->stop_after && t->count >= t->stop_after ? 7 : 0;
}

static const char *tokens(const char *text, int flags)
{
	static struct toks t;
	memset(&t, 0, sizeof(t));
	assert_int_equal(tb_text_tokenize(text, strlen(text), flags, collect, &t), 0);
	return t.out;
}

static char *fold(const char *s)
{
	static char out[256];
	size_t o = 0, n = strlen(s);
	for (size_t i = 0; i < n;) {
		uint32_t cp;
		int l = tb_utf8_decode((const unsigned char *)s + i, n - i, &cp);
		o += (size_t)tb_utf8_encode(tb_text_fold_char(cp), out + o);
		i += (size_t)l;
	}
	out[o] = 0;
	return out;
}

static int setup(void **state)
{
	(void)state;
	return tb_text_init() == TB_OK ? 0 : -1;
}

static void test_fold(void **state)
{
	(void)state;
	assert_string_equal(fold("護照"), "护照");
	assert_string_equal(fold("駕駛證"), "驾驶证");
	assert_string_equal(fold("營業執照"), "营业执照");
	assert_string_equal(fold("戶口"), "户口");
	assert_string_equal(fold("ＡＢＣ１"), "abc1");
	assert_string_equal(fold("Abc-Z9"), "abc-z9");
	/* Simplified text and other characters are left as they are */
	assert_string_equal(fold("社保卡办理"), "社保卡办理");
	assert_int_equal(tb_text_fold_char(0x3002), 0x3002); /* 。 */
	assert_true(tb_text_is_han(0x793e));		     /* 社 */
	assert_false(tb_text_is_han('a'));
	assert_false(tb_text_is_han(0xff01)); /* ！ */
}

static void test_tokenize_document(void **state)
{
	(void)state;
	assert_string_equal(tokens("社保卡", 0), "社保@0-6 保卡@3-9 卡@6-9");
	assert_string_equal(tokens("社保卡 ABC123", 0), "社保@0-6 保卡@3-9 卡@6-9 abc123@10-16");
	assert_string_equal(tokens("证", 0), "证@0-3");
	assert_string_equal(tokens("护照ofd办理", 0), "护照@0-6 照@3-6 ofd@6-9 办理@9-15 理@12-15");
	assert_string_equal(tokens("護照", 0), "护照@0-6 照@3-6");
	assert_string_equal(tokens("ＡＢＣ１", 0), "abc1@0-12");
	assert_string_equal(tokens("社会保障卡", 0),
			    "社会@0-6 会保@3-9 保障@6-12 障卡@9-15 卡@12-15");
	assert_string_equal(tokens("，。！ - ", 0), "");
	assert_string_equal(tokens("", 0), "");
	/* punctuation separates runs */
	assert_string_equal(tokens("户口，迁移", 0), "户口@0-6 口@3-6 迁移@9-15 移@12-15");
}

static void test_tokenize_query(void **state)
{
	(void)state;
	/* no lone last character for runs of two or more */
	assert_string_equal(tokens("社保卡", TB_TOKEN_QUERY), "社保@0-6 保卡@3-9");
	assert_string_equal(tokens("社保卡 ABC123", TB_TOKEN_QUERY),
			    "社保@0-6 保卡@3-9 abc123@10-16");
	/* a single character stays */
	assert_string_equal(tokens("证", TB_TOKEN_QUERY), "证@0-3");
	assert_string_equal(tokens("护照ofd办理", TB_TOKEN_QUERY), "护照@0-6 ofd@6-9 办理@9-15");
	assert_string_equal(tokens("a证b", TB_TOKEN_QUERY), "a@0-1 证@1-4 b@4-5");
}

static void test_tokenize_stop(void **state)
{
	(void)state;
	struct toks t;
	memset(&t, 0, sizeof(t));
	t.stop_after = 2;
	assert_int_equal(tb_text_tokenize("社会保障卡", strlen("社会保障卡"), 0, collect, &t), 7);
	assert_int_equal(t.count, 2);
	assert_string_equal(t.out, "社会@0-6 会保@3-9");
}

static void test_tokenize_invalid_utf8(void **state)
{
	(void)state;
	static const char *const bad[] = {
	    "\xff\xfe社", "社\xe7",	  "\xe7\xa4",
	    "\xc0\xaf",	  "\xed\xa0\x80", "\xf4\x90\x80\x80",
	    "社\x80保",	  "abc\xff",	  "\xe7\xa4\xbe\xe4\xbf",
	};
	for (size_t i = 0; i < TB_ARRAY_LEN(bad); i++) {
		struct toks t;
		memset(&t, 0, sizeof(t));
		tb_text_tokenize(bad[i], strlen(bad[i]), 0, collect, &t);
		memset(&t, 0, sizeof(t));
		tb_text_tokenize(bad[i], strlen(bad[i]), TB_TOKEN_QUERY, collect, &t);
		assert_false(tb_utf8_valid(bad[i], strlen(bad[i])));
		struct tb_text_term terms[4];
		assert_true(tb_text_query_terms(bad[i], terms, 4) <= 4);
	}
	assert_string_equal(tokens("\xff\xfe社", 0), "社@2-5");
	/* truncated: only the length given is read */
	char buf[3];
	memcpy(buf, "社", 3);
	struct toks t;
	memset(&t, 0, sizeof(t));
	tb_text_tokenize(buf, 2, 0, collect, &t);
	assert_int_equal(t.count, 0);
}

static void test_long_word(void **state)
{
	(void)state;
	char w[300];
	memset(w, 'a', sizeof(w) - 1);
	w[sizeof(w) - 1] = 0;
	struct toks t;
	memset(&t, 0, sizeof(t));
	assert_int_equal(tb_text_tokenize(w, strlen(w), 0, collect, &t), 0);
	assert_int_equal(t.count, 1);
	assert_non_null(strstr(t.out, "@0-299"));
}

static void test_utf8(void **state)
{
	(void)state;
	uint32_t cp;
	assert_int_equal(tb_utf8_decode((const unsigned char *)"社", 3, &cp), 3);
	assert_int_equal(cp, 0x793e);
	assert_int_equal(tb_utf8_decode((const unsigned char *)"\xff", 1, &cp), 1);
	assert_int_equal(cp, 0xfffd);
	assert_int_equal(tb_utf8_decode((const unsigned char *)"\xe7\xa4", 2, &cp), 1);
	assert_int_equal(cp, 0xfffd);
	char out[4];
	assert_int_equal(tb_utf8_encode(0x793e, out), 3);
	assert_memory_equal(out, "社", 3);
	assert_int_equal(tb_utf8_encode('a', out), 1);
	assert_true(tb_utf8_valid("社保 abc", strlen("社保 abc")));
	assert_false(tb_utf8_valid("a\0b", 3));
	assert_false(tb_utf8_valid("\xc0\xaf", 2));	/* overlong */
	assert_false(tb_utf8_valid("\xed\xa0\x80", 3)); /* surrogate */
	assert_int_equal(tb_utf8_len("社保abc", strlen("社保abc")), 5);
}

static void test_query_terms(void **state)
{
	(void)state;
	struct tb_text_term t[8];
	size_t n = tb_text_query_terms("社保卡 护照 ABC 证", t, 8);
	assert_int_equal(n, 4);
	assert_string_equal(t[0].text, "社保卡");
	assert_false(t[0].prefix);
	assert_string_equal(t[1].text, "护照");
	assert_false(t[1].prefix);
	assert_string_equal(t[2].text, "abc");
	assert_true(t[2].prefix);
	assert_string_equal(t[3].text, "证");
	assert_true(t[3].prefix);

	n = tb_text_query_terms("護照", t, 8);
	assert_int_equal(n, 1);
	assert_string_equal(t[0].text, "护照");

	/* a Han run and an ASCII word next to each other are two terms */
	n = tb_text_query_terms("护照ofd", t, 8);
	assert_int_equal(n, 2);
	assert_string_equal(t[0].text, "护照");
	assert_string_equal(t[1].text, "ofd");
	assert_true(t[1].prefix);

	assert_int_equal(tb_text_query_terms("！？。，…", t, 8), 0);
	assert_int_equal(tb_text_query_terms("", t, 8), 0);
	/* max is respected */
	assert_int_equal(tb_text_query_terms("a b c d e f", t, 3), 3);

	/* a term longer than 64 characters is cut */
	char q[400] = "";
	for (int i = 0; i < 100; i++)
		strcat(q, "证");
	n = tb_text_query_terms(q, t, 8);
	assert_int_equal(n, 1);
	assert_int_equal(tb_utf8_len(t[0].text, strlen(t[0].text)), 64);
}

static void test_to_hk(void **state)
{
	(void)state;
	size_t len = 0;
	char *s = tb_text_to_hk("护照", strlen("护照"), &len);
	assert_non_null(s);
	assert_string_equal(s, "護照");
	assert_int_equal(len, strlen("護照"));
	free(s);
	s = tb_text_to_hk("广东省公安厅", strlen("广东省公安厅"), &len);
	assert_non_null(s);
	assert_string_equal(s, "廣東省公安廳");
	free(s);
	s = tb_text_to_hk("请求有误", strlen("请求有误"), &len);
	assert_non_null(s);
	assert_string_equal(s, "請求有誤");
	free(s);
	s = tb_text_to_hk("", 0, &len);
	if (s) {
		assert_int_equal(len, 0);
		free(s);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_fold),
	    cmocka_unit_test(test_tokenize_document),
	    cmocka_unit_test(test_tokenize_query),
	    cmocka_unit_test(test_tokenize_stop),
	    cmocka_unit_test(test_tokenize_invalid_utf8),
	    cmocka_unit_test(test_long_word),
	    cmocka_unit_test(test_utf8),
	    cmocka_unit_test(test_query_terms),
	    cmocka_unit_test(test_to_hk),
	};
	return cmocka_run_group_tests(tests, setup, NULL);
}
