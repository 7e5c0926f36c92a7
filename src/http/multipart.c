/* multipart.c: multipart/form-data (RFC 7578 over RFC 2046) from a buffered body.
 *
 * The body is already in memory under the route's cap, so the parser walks it with
 * memmem instead of streaming (MHD_PostProcessor would copy every part into callbacks
 * and lose the zero-copy view of the bytes that blob storage hashes and stores).
 * Part data point into the body; names are decoded into the caller's arena. */
#include "http/http.h"
#include "base/text.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

enum { MAX_BOUNDARY = 70, MAX_PART_HEADERS = 8192, MAX_NAME = 255 };

static bool is_ws(char c)
{
	return c == ' ' || c == '\t';
}

static const char *skip_ws(const char *s, const char *end)
{
	while (s < end && is_ws(*s))
		s++;
	return s;
}

/* RFC 9110 tchar */
static bool is_tchar(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       (c && strchr("!#$%&'*+-.^_`|~", c));
}

/* One parameter of a header value: `; name=value` with value a token or a
 * quoted-string. *p moves past it. Returns false on a syntax error. The value is
 * decoded into the arena. In a quoted-string only \" and \\ are escapes: browsers do
 * not escape backslashes in file names (WHATWG form encoding percent-encodes quotes
 * instead), so `C:\dir\a.pdf` keeps its backslashes for the path stripping below. */
static bool next_param(const char **p, const char *end, struct tb_arena *a, const char **name,
		       size_t *name_len, char **value, size_t *value_len)
{
	const char *s = skip_ws(*p, end);
	if (s == end)
		return false;
	if (*s != ';')
		return false;
	s = skip_ws(s + 1, end);
	const char *n0 = s;
	while (s < end && is_tchar(*s))
		s++;
	if (s == n0)
		return false;
	*name = n0;
	*name_len = (size_t)(s - n0);
	s = skip_ws(s, end);
	if (s == end || *s != '=')
		return false;
	s = skip_ws(s + 1, end);
	char *v = tb_arena_alloc(a, (size_t)(end - s) + 1);
	if (!v)
		return false;
	size_t vl = 0;
	if (s < end && *s == '"') {
		s++;
		for (;;) {
			if (s == end)
				return false; /* unterminated */
			if (*s == '"') {
				s++;
				break;
			}
			if (*s == '\\' && s + 1 < end && (s[1] == '"' || s[1] == '\\'))
				s++;
			v[vl++] = *s++;
		}
	} else {
		const char *v0 = s;
		while (s < end && is_tchar(*s))
			s++;
		if (s == v0)
			return false;
		memcpy(v, v0, (size_t)(s - v0));
		vl = (size_t)(s - v0);
	}
	v[vl] = 0;
	*value = v;
	*value_len = vl;
	*p = s;
	return true;
}

static bool param_is(const char *name, size_t n, const char *want)
{
	return n == strlen(want) && !strncasecmp(name, want, n);
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* RFC 5987 ext-value: charset'language'percent-encoded, decoded in place. Only UTF-8
 * (what RFC 8187 requires senders to use; ISO-8859-1 is not worth a converter). */
static bool decode_ext_value(char *v, size_t *len)
{
	char *q1 = memchr(v, '\'', *len);
	if (!q1 || (size_t)(q1 - v) != 5 || strncasecmp(v, "UTF-8", 5))
		return false;
	char *q2 = memchr(q1 + 1, '\'', *len - (size_t)(q1 + 1 - v));
	if (!q2)
		return false;
	const char *s = q2 + 1, *end = v + *len;
	size_t o = 0;
	while (s < end) {
		if (*s == '%') {
			int h, l;
			if (end - s < 3 || (h = hexval(s[1])) < 0 || (l = hexval(s[2])) < 0)
				return false;
			v[o++] = (char)(h << 4 | l);
			s += 3;
		} else {
			v[o++] = *s++;
		}
	}
	v[o] = 0;
	*len = o;
	return true;
}

/* A name a person or a browser gave: UTF-8, no control characters, at most 255 bytes. */
static bool check_name(const char *s, size_t n, const char **why)
{
	if (n > MAX_NAME) {
		*why = "is longer than 255 bytes";
		return false;
	}
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f) {
			*why = "holds a control character";
			return false;
		}
	if (!tb_utf8_valid(s, n)) {
		*why = "is not valid UTF-8";
		return false;
	}
	return true;
}

/* The last path segment of a file name: clients may send the whole local path. */
static const char *base_name(const char *s, size_t *n)
{
	const char *b = s;
	for (size_t i = 0; i < *n; i++)
		if (s[i] == '/' || s[i] == '\\')
			b = s + i + 1;
	*n -= (size_t)(b - s);
	return b;
}

static bool header_is(const char *line, size_t n, const char *name, const char **value)
{
	size_t l = strlen(name);
	if (n <= l || strncasecmp(line, name, l) || line[l] != ':')
		return false;
	*value = line + l + 1;
	return true;
}

/* Content-Disposition: form-data; name="..."; filename="..."; filename*=UTF-8''... */
static tb_rc parse_disposition(const char *v, const char *end, struct tb_part *part, size_t idx,
			       struct tb_arena *a, struct tb_err *err)
{
	v = skip_ws(v, end);
	const char *t0 = v;
	while (v < end && is_tchar(*v))
		v++;
	if ((size_t)(v - t0) != 9 || strncasecmp(t0, "form-data", 9))
		return tb_fail(err, TB_EINVAL, "body",
			       "part %zu: Content-Disposition must be form-data", idx + 1);
	char *name = NULL, *fname = NULL, *fname_ext = NULL;
	size_t fname_len = 0, fname_ext_len = 0, name_len = 0;
	while (skip_ws(v, end) < end) {
		const char *pn;
		size_t pnl, vl;
		char *pv;
		if (!next_param(&v, end, a, &pn, &pnl, &pv, &vl))
			return tb_fail(err, TB_EINVAL, "body",
				       "part %zu: the Content-Disposition parameters are malformed",
				       idx + 1);
		char **slot = NULL;
		size_t *slot_len = NULL;
		if (param_is(pn, pnl, "name"))
			slot = &name, slot_len = &name_len;
		else if (param_is(pn, pnl, "filename"))
			slot = &fname, slot_len = &fname_len;
		else if (param_is(pn, pnl, "filename*"))
			slot = &fname_ext, slot_len = &fname_ext_len;
		if (!slot)
			continue; /* other parameters mean nothing to a form */
		if (*slot)
			return tb_fail(err, TB_EINVAL, "body",
				       "part %zu: Content-Disposition repeats %.*s", idx + 1,
				       (int)pnl, pn);
		if (slot == &fname_ext && !decode_ext_value(pv, &vl))
			return tb_fail(err, TB_EINVAL, "body",
				       "part %zu: filename* must be UTF-8''percent-encoded "
				       "(RFC 5987)",
				       idx + 1);
		*slot = pv;
		*slot_len = vl;
	}
	const char *why;
	if (!name || !name_len)
		return tb_fail(err, TB_EINVAL, "body", "part %zu: Content-Disposition has no name",
			       idx + 1);
	if (!check_name(name, name_len, &why))
		return tb_fail(err, TB_EINVAL, "body", "part %zu: the name %s", idx + 1, why);
	part->name = name;
	if (fname_ext) { /* RFC 6266: the extended form wins where both are present */
		fname = fname_ext, fname_len = fname_ext_len;
	} else if (fname) {
		/* browsers (the WHATWG form encoding, Node's FormData) send a quote in a
		 * file name as %22; the other two they encode, %0A and %0D, would be control
		 * characters anyway */
		char *f = fname;
		size_t o = 0;
		for (size_t i = 0; i < fname_len; i++) {
			if (f[i] == '%' && i + 2 < fname_len && f[i + 1] == '2' &&
			    f[i + 2] == '2') {
				f[o++] = '"';
				i += 2;
			} else {
				f[o++] = f[i];
			}
		}
		f[o] = 0;
		fname_len = o;
	}
	if (fname) {
		if (!check_name(fname, fname_len, &why))
			return tb_fail(err, TB_EINVAL, part->name, "the file name %s", why);
		part->filename = base_name(fname, &fname_len);
	}
	return TB_OK;
}

static tb_rc parse_headers(const char *h, const char *end, struct tb_part *part, size_t idx,
			   struct tb_arena *a, struct tb_err *err)
{
	bool disposition = false;
	while (h < end) {
		const char *eol = memmem(h, (size_t)(end - h), "\r\n", 2);
		const char *le = eol ? eol : end;
		size_t n = (size_t)(le - h);
		const char *v;
		if (is_ws(*h))
			return tb_fail(err, TB_EINVAL, "body",
				       "part %zu: folded header lines are not allowed", idx + 1);
		if (!memchr(h, ':', n))
			return tb_fail(err, TB_EINVAL, "body",
				       "part %zu: a header line has no colon", idx + 1);
		if (header_is(h, n, "Content-Disposition", &v)) {
			if (disposition)
				return tb_fail(err, TB_EINVAL, "body",
					       "part %zu: two Content-Disposition headers",
					       idx + 1);
			disposition = true;
			tb_rc rc = parse_disposition(v, le, part, idx, a, err);
			if (rc)
				return rc;
		} else if (header_is(h, n, "Content-Type", &v)) {
			/* the media type alone, lower case: parameters (charset) are dropped */
			v = skip_ws(v, le);
			const char *t = v;
			while (t < le && *t != ';' && !is_ws(*t))
				t++;
			char *ct = tb_arena_strndup(a, v, (size_t)(t - v));
			if (!ct)
				return TB_ENOMEM;
			for (char *c = ct; *c; c++)
				if (*c >= 'A' && *c <= 'Z')
					*c = (char)(*c - 'A' + 'a');
			if (!*ct || !strchr(ct, '/'))
				return tb_fail(err, TB_EINVAL, "body",
					       "part %zu: the Content-Type is not a media type",
					       idx + 1);
			part->content_type = ct;
		}
		h = eol ? eol + 2 : end;
	}
	if (!disposition)
		return tb_fail(err, TB_EINVAL, "body", "part %zu: no Content-Disposition header",
			       idx + 1);
	return TB_OK;
}

/* The boundary parameter of a multipart/form-data Content-Type. */
static tb_rc parse_content_type(const char *ct, struct tb_arena *a, char **boundary, size_t *blen,
				struct tb_err *err)
{
	if (!ct)
		return tb_fail(err, TB_ETYPE, "Content-Type",
			       "the body must be multipart/form-data");
	const char *end = ct + strlen(ct);
	const char *s = skip_ws(ct, end);
	if (strncasecmp(s, "multipart/form-data", 19) || (s[19] && s[19] != ';' && !is_ws(s[19])))
		return tb_fail(err, TB_ETYPE, "Content-Type",
			       "the body must be multipart/form-data");
	s += 19;
	*boundary = NULL;
	while (skip_ws(s, end) < end) {
		const char *pn;
		size_t pnl, vl;
		char *pv;
		if (!next_param(&s, end, a, &pn, &pnl, &pv, &vl))
			return tb_fail(err, TB_EINVAL, "Content-Type", "malformed parameters");
		if (param_is(pn, pnl, "boundary")) {
			*boundary = pv;
			*blen = vl;
		}
	}
	if (!*boundary)
		return tb_fail(err, TB_EINVAL, "Content-Type",
			       "multipart/form-data needs a boundary parameter");
	/* RFC 2046 bchars: 1 to 70, not ending in a space */
	if (*blen == 0 || *blen > MAX_BOUNDARY || (*boundary)[*blen - 1] == ' ')
		return tb_fail(err, TB_EINVAL, "Content-Type",
			       "the boundary must be 1 to 70 characters, not ending in a space");
	for (size_t i = 0; i < *blen; i++) {
		char c = (*boundary)[i];
		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      strchr("'()+_,-./:=? ", c)))
			return tb_fail(err, TB_EINVAL, "Content-Type",
				       "the boundary holds a character RFC 2046 does not allow");
	}
	return TB_OK;
}

/* After "--boundary": "--" closes; otherwise optional padding and CRLF open a part.
 * Returns the start of what follows (the part's headers), the end for the close, or
 * NULL when this is not a delimiter line (the boundary is a prefix of longer text). */
static const char *after_delimiter(const char *p, const char *end, bool *close)
{
	*close = false;
	if (end - p >= 2 && p[0] == '-' && p[1] == '-') {
		*close = true;
		return end;
	}
	p = skip_ws(p, end);
	if (end - p >= 2 && p[0] == '\r' && p[1] == '\n')
		return p + 2;
	return NULL;
}

tb_rc tb_multipart_parse(const char *content_type, const char *body, size_t len,
			 struct tb_part *parts, size_t max, size_t *n, struct tb_arena *a,
			 struct tb_err *err)
{
	*n = 0;
	char *b = NULL;
	size_t bl = 0;
	tb_rc rc = parse_content_type(content_type, a, &b, &bl, err);
	if (rc)
		return rc;
	/* delim = CRLF "--" boundary; the first one may open the body without its CRLF */
	char delim[4 + MAX_BOUNDARY];
	size_t dl = 4 + bl;
	memcpy(delim, "\r\n--", 4);
	memcpy(delim + 4, b, bl);
	if (!body)
		body = "", len = 0;
	const char *end = body + len, *p = NULL;
	bool close = false;
	if (len >= dl - 2 && !memcmp(body, delim + 2, dl - 2))
		p = after_delimiter(body + dl - 2, end, &close);
	const char *from = body;
	while (!p) { /* skip the preamble */
		const char *d = memmem(from, (size_t)(end - from), delim, dl);
		if (!d)
			return tb_fail(err, TB_EINVAL, "body",
				       "the body holds no boundary of the Content-Type");
		p = after_delimiter(d + dl, end, &close);
		from = d + 1;
	}
	while (!close) {
		if (*n == max)
			return tb_fail(err, TB_ETOOBIG, "body", "more than %zu parts", max);
		struct tb_part *part = &parts[*n];
		memset(part, 0, sizeof(*part));
		const char *hend;
		if (end - p >= 2 && p[0] == '\r' && p[1] == '\n') {
			hend = p; /* no headers at all */
		} else {
			size_t room = (size_t)(end - p);
			if (room > MAX_PART_HEADERS + 4)
				room = MAX_PART_HEADERS + 4;
			hend = memmem(p, room, "\r\n\r\n", 4);
			if (!hend)
				return tb_fail(err, TB_EINVAL, "body",
					       end - p > MAX_PART_HEADERS
						   ? "part %zu: headers longer than 8 KiB"
						   : "part %zu: the headers do not end",
					       *n + 1);
			hend += 2; /* the blank line starts here */
		}
		rc = parse_headers(p, hend == p ? p : hend - 2, part, *n, a, err);
		if (rc)
			return rc;
		const char *data = hend + 2, *d = NULL, *next = NULL;
		for (from = data;;) {
			d = memmem(from, (size_t)(end - from), delim, dl);
			if (!d)
				return tb_fail(err, TB_EINVAL, "body",
					       "part %zu: the body ends before the closing "
					       "boundary",
					       *n + 1);
			if ((next = after_delimiter(d + dl, end, &close)))
				break;
			from = d + 1;
		}
		part->data = data;
		part->len = (size_t)(d - data);
		(*n)++;
		p = next;
	}
	return TB_OK; /* what follows the close delimiter is the epilogue */
}

bool tb_http_multipart(struct tb_req *r, struct tb_part *parts, size_t max, size_t *n)
{
	struct tb_err err = {0};
	tb_rc rc = tb_multipart_parse(tb_http_header(r, "Content-Type"), r->body.data, r->body.len,
				      parts, max, n, &r->arena, &err);
	switch (rc) {
	case TB_OK:
		return true;
	case TB_ETYPE:
		tb_http_reply_error(r, 415, "unsupported-media-type", err.field, "%s", err.msg);
		return false;
	case TB_ENOMEM:
		tb_http_reply_error(r, 500, "internal", NULL, "out of memory");
		return false;
	default:
		tb_http_reply_error(r, 400, "malformed-multipart", err.field, "%s", err.msg);
		return false;
	}
}
