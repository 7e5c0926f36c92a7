#include "base/text.h"

#include <opencc/opencc.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Fold table for the BMP: 0 means "maps to itself". 256 KiB, built once. */
static uint32_t *fold_table;
static tb_rc init_rc = TB_OK;
static pthread_once_t init_once = PTHREAD_ONCE_INIT;

int tb_utf8_decode(const unsigned char *s, size_t n, uint32_t *cp)
{
	unsigned char c = s[0];
	if (c < 0x80) {
		*cp = c;
		return 1;
	}
	int len;
	uint32_t v, min;
	if ((c & 0xE0) == 0xC0) {
		len = 2, v = c & 0x1F, min = 0x80;
	} else if ((c & 0xF0) == 0xE0) {
		len = 3, v = c & 0x0F, min = 0x800;
	} else if ((c & 0xF8) == 0xF0) {
		len = 4, v = c & 0x07, min = 0x10000;
	} else {
		*cp = 0xFFFD;
		return 1;
	}
	if ((size_t)len > n)
		goto bad;
	for (int i = 1; i < len; i++) {
		if ((s[i] & 0xC0) != 0x80)
			goto bad;
		v = (v << 6) | (s[i] & 0x3F);
	}
	if (v < min || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF))
		goto bad;
	*cp = v;
	return len;
bad:
	*cp = 0xFFFD;
	return 1;
}

int tb_utf8_encode(uint32_t cp, char out[4])
{
	if (cp < 0x80) {
		out[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		out[0] = (char)(0xC0 | (cp >> 6));
		out[1] = (char)(0x80 | (cp & 0x3F));
		return 2;
	}
	if (cp < 0x10000) {
		out[0] = (char)(0xE0 | (cp >> 12));
		out[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
		out[2] = (char)(0x80 | (cp & 0x3F));
		return 3;
	}
	out[0] = (char)(0xF0 | (cp >> 18));
	out[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
	out[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
	out[3] = (char)(0x80 | (cp & 0x3F));
	return 4;
}

bool tb_utf8_valid(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0;
	while (i < n) {
		uint32_t cp;
		if (p[i] == 0)
			return false;
		int l = tb_utf8_decode(p + i, n - i, &cp);
		if (cp == 0xFFFD &&
		    !(l == 3 && p[i] == 0xEF && p[i + 1] == 0xBF && p[i + 2] == 0xBD))
			return false;
		i += (size_t)l;
	}
	return true;
}

size_t tb_utf8_len(const char *s, size_t n)
{
	size_t count = 0;
	for (size_t i = 0; i < n; i++)
		if (((unsigned char)s[i] & 0xC0) != 0x80)
			count++;
	return count;
}

bool tb_text_is_han(uint32_t cp)
{
	return (cp >= 0x4E00 && cp <= 0x9FFF) || (cp >= 0x3400 && cp <= 0x4DBF) ||
	       (cp >= 0xF900 && cp <= 0xFAFF) || (cp >= 0x20000 && cp <= 0x3134F);
}

static void build_fold_table(void)
{
	/* t2s converts phrases too; for the index only single characters matter, and a
	 * character-by-character table folds a query and a document identically. */
	opencc_t cc = opencc_open("t2s.json");
	if (cc == (opencc_t)-1) {
		init_rc = TB_EIO;
		return;
	}
	uint32_t *t = calloc(0x10000, sizeof(uint32_t));
	if (!t) {
		opencc_close(cc);
		init_rc = TB_ENOMEM;
		return;
	}
	for (uint32_t cp = 0x3400; cp <= 0xFAFF; cp++) {
		if (!tb_text_is_han(cp))
			continue;
		char in[5] = {0};
		int n = tb_utf8_encode(cp, in);
		char *out = opencc_convert_utf8(cc, in, (size_t)n);
		if (!out)
			continue;
		uint32_t to;
		size_t olen = strlen(out);
		int l = olen ? tb_utf8_decode((const unsigned char *)out, olen, &to) : 0;
		if (l > 0 && (size_t)l == olen && to != cp)
			t[cp] = to;
		opencc_convert_utf8_free(out);
	}
	opencc_close(cc);
	fold_table = t;
}

tb_rc tb_text_init(void)
{
	pthread_once(&init_once, build_fold_table);
	return init_rc;
}

uint32_t tb_text_fold_char(uint32_t cp)
{
	if (cp < 0x80)
		return (cp >= 'A' && cp <= 'Z') ? cp + 32 : cp;
	if (cp >= 0xFF01 && cp <= 0xFF5E) /* full-width ASCII */
		return tb_text_fold_char(cp - 0xFF01 + 0x21);
	if (cp == 0x3000)
		return ' ';
	if (!fold_table)
		tb_text_init();
	if (fold_table && cp < 0x10000 && fold_table[cp])
		return fold_table[cp];
	return cp;
}

static bool is_word(uint32_t cp)
{
	return (cp >= '0' && cp <= '9') || (cp >= 'a' && cp <= 'z');
}

int tb_text_tokenize(const char *text, size_t n, int flags, tb_token_fn fn, void *ctx)
{
	const unsigned char *s = (const unsigned char *)text;
	size_t i = 0;
	/* The previous Han character of the current run: its offsets and folded bytes. */
	bool in_han = false;
	int prev_start = 0, prev_end = 0, prev_len = 0, run_len = 0;
	char prev[4];
	int rc;

	while (i <= n) {
		uint32_t cp = 0;
		int l = 0;
		if (i < n) {
			l = tb_utf8_decode(s + i, n - i, &cp);
			cp = tb_text_fold_char(cp);
		}
		if (i < n && tb_text_is_han(cp)) {
			char cur[4];
			int cl = tb_utf8_encode(cp, cur);
			if (in_han) {
				char bi[8];
				memcpy(bi, prev, (size_t)prev_len);
				memcpy(bi + prev_len, cur, (size_t)cl);
				if ((rc = fn(ctx, bi, prev_len + cl, prev_start, (int)i + l)))
					return rc;
			}
			in_han = true;
			run_len++;
			memcpy(prev, cur, (size_t)cl);
			prev_len = cl;
			prev_start = (int)i;
			prev_end = (int)i + l;
			i += (size_t)l;
			continue;
		}
		if (in_han) { /* the run ended: its last character alone */
			if (run_len == 1 || !(flags & TB_TOKEN_QUERY))
				if ((rc = fn(ctx, prev, prev_len, prev_start, prev_end)))
					return rc;
			in_han = false;
			run_len = 0;
		}
		if (i >= n)
			break;
		if (is_word(cp)) {
			char word[64];
			int wl = 0, start = (int)i;
			while (i < n) {
				uint32_t c2;
				int l2 = tb_utf8_decode(s + i, n - i, &c2);
				c2 = tb_text_fold_char(c2);
				if (!is_word(c2))
					break;
				if (wl < (int)sizeof(word))
					word[wl++] = (char)c2;
				i += (size_t)l2;
			}
			if ((rc = fn(ctx, word, wl, start, (int)i)))
				return rc;
			continue;
		}
		i += (size_t)l;
	}
	return 0;
}

size_t tb_text_query_terms(const char *q, struct tb_text_term *terms, size_t max)
{
	const unsigned char *s = (const unsigned char *)q;
	size_t n = strlen(q), i = 0, count = 0;
	while (i < n && count < max) {
		uint32_t cp;
		int l = tb_utf8_decode(s + i, n - i, &cp);
		cp = tb_text_fold_char(cp);
		bool han = tb_text_is_han(cp);
		if (!han && !is_word(cp)) {
			i += (size_t)l;
			continue;
		}
		struct tb_text_term *t = &terms[count++];
		size_t tl = 0, chars = 0;
		while (i < n) {
			uint32_t c2;
			int l2 = tb_utf8_decode(s + i, n - i, &c2);
			c2 = tb_text_fold_char(c2);
			if (han ? !tb_text_is_han(c2) : !is_word(c2))
				break;
			if (chars < 64 && tl + 4 < sizeof(t->text)) {
				tl += (size_t)tb_utf8_encode(c2, t->text + tl);
				chars++;
			}
			i += (size_t)l2;
		}
		t->text[tl] = 0;
		t->prefix = !han || chars == 1;
	}
	return count;
}

static pthread_key_t hk_key;
static pthread_once_t hk_once = PTHREAD_ONCE_INIT;

static void hk_close(void *p)
{
	if (p)
		opencc_close((opencc_t)p);
}

static void hk_key_init(void)
{
	pthread_key_create(&hk_key, hk_close);
}

char *tb_text_to_hk(const char *s, size_t n, size_t *outlen)
{
	/* One converter per thread: OpenCC does not promise that one handle may convert
	 * on several threads at once. */
	pthread_once(&hk_once, hk_key_init);
	opencc_t cc = pthread_getspecific(hk_key);
	if (!cc) {
		cc = opencc_open("s2hk.json");
		if (cc == (opencc_t)-1)
			return NULL;
		pthread_setspecific(hk_key, cc);
	}
	char *out = opencc_convert_utf8(cc, s, n);
	if (!out)
		return NULL;
	size_t l = strlen(out);
	char *copy = malloc(l + 1);
	if (copy)
		memcpy(copy, out, l + 1);
	opencc_convert_utf8_free(out);
	if (outlen)
		*outlen = l;
	return copy;
}

struct mark_ctx {
	char toks[64][16];
	int lens[64];
	int n;
	unsigned char *marked; /* one flag per byte of the text */
	bool prefix[64];
};

static int collect_tok(void *ctx, const char *tok, int ntok, int start, int end)
{
	(void)start, (void)end;
	struct mark_ctx *m = ctx;
	if (m->n < 64 && ntok < 16) {
		memcpy(m->toks[m->n], tok, (size_t)ntok);
		m->lens[m->n++] = ntok;
	}
	return 0;
}

static int mark_tok(void *ctx, const char *tok, int ntok, int start, int end)
{
	struct mark_ctx *m = ctx;
	for (int i = 0; i < m->n; i++) {
		bool eq = m->prefix[i]
			      ? ntok >= m->lens[i] && !memcmp(tok, m->toks[i], (size_t)m->lens[i])
			      : ntok == m->lens[i] && !memcmp(tok, m->toks[i], (size_t)ntok);
		if (eq) {
			memset(m->marked + start, 1, (size_t)(end - start));
			break;
		}
	}
	return 0;
}

char *tb_text_mark(const char *text, const struct tb_text_term *terms, size_t nterms)
{
	size_t n = strlen(text);
	struct mark_ctx m = {.n = 0};
	for (size_t t = 0; t < nterms; t++) {
		int before = m.n;
		tb_text_tokenize(terms[t].text, strlen(terms[t].text), TB_TOKEN_QUERY, collect_tok,
				 &m);
		for (int i = before; i < m.n; i++)
			m.prefix[i] = terms[t].prefix;
	}
	m.marked = calloc(n + 1, 1);
	if (!m.marked)
		return NULL;
	tb_text_tokenize(text, n, 0, mark_tok, &m);
	size_t cap = n * 6 + 64;
	char *out = malloc(cap), *o = out;
	if (!out) {
		free(m.marked);
		return NULL;
	}
	bool open = false;
	for (size_t i = 0; i < n; i++) {
		if (m.marked[i] && !open) {
			o += sprintf(o, "<mark>");
			open = true;
		} else if (!m.marked[i] && open) {
			o += sprintf(o, "</mark>");
			open = false;
		}
		switch (text[i]) {
		case '<':
			o += sprintf(o, "&lt;");
			break;
		case '>':
			o += sprintf(o, "&gt;");
			break;
		case '&':
			o += sprintf(o, "&amp;");
			break;
		default:
			*o++ = text[i];
		}
	}
	if (open)
		o += sprintf(o, "</mark>");
	*o = 0;
	free(m.marked);
	return out;
}
