/* text.h: Chinese text for search and display.
 *
 * Folding maps a character to the form the search index keeps: Traditional to
 * Simplified (from OpenCC's t2s tables, character by character so that a query and a
 * document fold the same way whatever their context), full-width ASCII to half-width,
 * upper case to lower case.
 *
 * Tokenizing cuts folded text into the tokens the index holds:
 *  - a run of Han characters gives its overlapping bigrams (社保卡 -> 社保 保卡); in a
 *    document the run's last character is also given alone, so that a one-character
 *    query (a prefix query on that character) finds every occurrence;
 *  - a run of ASCII letters and digits is one token (codes, "ofd");
 *  - everything else separates tokens.
 * The same code feeds SQLite FTS5 and, later, PostgreSQL's tsvector. */
#ifndef TB_BASE_TEXT_H
#define TB_BASE_TEXT_H

#include "base/tb.h"

/* Loads OpenCC's tables once per process. Call before threads start (or rely on the
 * lazy once-only initialisation). Returns TB_EIO if OpenCC's data cannot be loaded. */
tb_rc tb_text_init(void);

/* Decode one UTF-8 code point at s (n bytes available). Returns its length (1-4), or 1
 * with *cp = 0xFFFD for an invalid byte. */
int tb_utf8_decode(const unsigned char *s, size_t n, uint32_t *cp);
int tb_utf8_encode(uint32_t cp, char out[4]);
/* True if s[0..n) is valid UTF-8 with no NUL. */
bool tb_utf8_valid(const char *s, size_t n);
/* Number of code points. */
size_t tb_utf8_len(const char *s, size_t n);

uint32_t tb_text_fold_char(uint32_t cp);
bool tb_text_is_han(uint32_t cp);

enum { TB_TOKEN_QUERY = 1 };
/* Called per token: tok is folded UTF-8 (not NUL-terminated), start/end are byte
 * offsets of the original text it came from. Return non-zero to stop. */
typedef int (*tb_token_fn)(void *ctx, const char *tok, int ntok, int start, int end);
/* Tokenize text[0..n). flags: TB_TOKEN_QUERY leaves out the lone last character of a
 * Han run of two or more. Returns the callback's non-zero value if it stopped. */
int tb_text_tokenize(const char *text, size_t n, int flags, tb_token_fn fn, void *ctx);

/* A user's query cut into search terms: each Han run or ASCII word becomes one term
 * (folded); a one-character Han term or an ASCII word is matched as a prefix. */
struct tb_text_term {
	char text[256];
	bool prefix;
};
/* Fills at most max terms; returns how many. Terms longer than 64 characters are cut. */
size_t tb_text_query_terms(const char *q, struct tb_text_term *terms, size_t max);

/* Mark the query's words in text: every token of text (document mode) equal to a
 * token of one of the terms (query mode) is wrapped in <mark></mark>; overlapping
 * marks merge; <, > and & are escaped. Returns a malloc'd string or NULL. */
char *tb_text_mark(const char *text, const struct tb_text_term *terms, size_t nterms);

/* Simplified to Hong Kong Traditional (OpenCC s2hk) for zh-HK readers.
 * Returns a malloc'd string (NUL-terminated, *outlen bytes) or NULL. */
char *tb_text_to_hk(const char *s, size_t n, size_t *outlen);

#endif
