/* server.c: libmicrohttpd glue, routing, limits and the reply helpers. */
#include "http/http.h"
#include "base/jsonv.h"
#include "base/log.h"
#include "base/text.h"
#include "store/store.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

enum { MAX_ROUTES = 256, MAX_JSON_DEPTH = 32 };

static const struct tb_route *routes[MAX_ROUTES];
static size_t nroutes;

struct tb_server {
	struct MHD_Daemon *d;
	struct tb_app *app;
	uint16_t port;
};

static int in_flight; /* requests begun and not yet completed */

bool tb_http_add_routes(const struct tb_route *table)
{
	for (const struct tb_route *r = table; r->method; r++) {
		if (nroutes == MAX_ROUTES)
			return false;
		routes[nroutes++] = r;
	}
	return true;
}

size_t tb_http_routes(const struct tb_route ***out)
{
	*out = routes;
	return nroutes;
}

/* ---- routing ---- */

/* Match path against pattern; fills the request's path parameters. */
static bool match(struct tb_req *r, const char *pattern, const char *path)
{
	int np = 0;
	const char *p = pattern, *s = path;
	while (*p && *s) {
		if (*p == '{') {
			const char *close = strchr(p, '}');
			const char *seg_end = strchr(s, '/');
			size_t seglen = seg_end ? (size_t)(seg_end - s) : strlen(s);
			if (!close || seglen == 0 || np == 8)
				return false;
			r->param_names[np] =
			    tb_arena_strndup(&r->arena, p + 1, (size_t)(close - p - 1));
			r->param_values[np] = tb_arena_strndup(&r->arena, s, seglen);
			np++;
			p = close + 1;
			s += seglen;
			continue;
		}
		if (*p != *s)
			return false;
		p++, s++;
	}
	if (*p || *s)
		return false;
	r->nparams = np;
	return true;
}

const char *tb_http_param(struct tb_req *r, const char *name)
{
	for (int i = 0; i < r->nparams; i++)
		if (!strcmp(r->param_names[i], name))
			return r->param_values[i];
	return NULL;
}

const char *tb_http_query(struct tb_req *r, const char *name)
{
	return MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, name);
}

const char *tb_http_header(struct tb_req *r, const char *name)
{
	return MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, name);
}

const char *tb_http_cookie(struct tb_req *r, const char *name)
{
	return MHD_lookup_connection_value(r->conn, MHD_COOKIE_KIND, name);
}

/* The last element of an X-Forwarded-For list, if it looks like an address. */
static bool forwarded_for(const char *xff, char out[64])
{
	const char *last = strrchr(xff, ',');
	last = last ? last + 1 : xff;
	while (*last == ' ' || *last == '\t')
		last++;
	size_t n = strcspn(last, " \t");
	if (n == 0 || n >= 64 || strspn(last, "0123456789abcdefABCDEF.:") < n)
		return false;
	memcpy(out, last, n);
	out[n] = 0;
	return true;
}

void tb_http_client_ip(struct tb_req *r, char out[64])
{
	out[0] = 0;
	const char *xff =
	    r->app && r->app->trust_proxy ? tb_http_header(r, "X-Forwarded-For") : NULL;
	if (xff && forwarded_for(xff, out))
		return;
	const union MHD_ConnectionInfo *ci =
	    r->conn ? MHD_get_connection_info(r->conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS) : NULL;
	if (ci && ci->client_addr &&
	    getnameinfo(ci->client_addr,
			ci->client_addr->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6)
							       : sizeof(struct sockaddr_in),
			out, 64, NULL, 0, NI_NUMERICHOST))
		out[0] = 0;
}

struct tb_db *tb_http_db(struct tb_req *r)
{
	struct tb_err err = {0};
	struct tb_db *db = tb_store_db(r->app->store, &err);
	if (!db) {
		tb_log(TB_LOG_ERROR, "db.connect", "%s", err.msg);
		tb_http_add_header(r, "Retry-After", "5");
		tb_http_reply_error(r, 503, "unavailable", NULL,
				    "the database is unavailable; try again shortly");
	}
	return db;
}

bool tb_http_token_equal(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	unsigned char d = (unsigned char)(la != lb);
	for (size_t i = 0; i < la; i++)
		d |= (unsigned char)(a[i] ^ b[i % (lb ? lb : 1)]);
	return d == 0;
}

/* ---- replies ---- */

void tb_http_add_header(struct tb_req *r, const char *name, const char *value)
{
	if (r->nheaders < (int)TB_ARRAY_LEN(r->headers)) {
		r->headers[r->nheaders].name = name;
		r->headers[r->nheaders].value = tb_arena_strdup(&r->arena, value);
		r->nheaders++;
	}
}

void tb_http_reply(struct tb_req *r, unsigned status, const char *content_type, char *body,
		   size_t len)
{
	if (r->replied) { /* a handler answered twice: keep the first */
		free(body);
		return;
	}
	r->replied = true;
	r->status = status;
	r->content_type = content_type;
	r->resp = body;
	r->resp_len = len;
}

void tb_http_reply_result(struct tb_req *r, tb_rc rc, const struct tb_err *err, unsigned status,
			  json_t *out)
{
	if (rc)
		tb_http_reply_rc(r, rc, err);
	else
		tb_http_reply_json(r, status, out);
}

void tb_http_reply_json(struct tb_req *r, unsigned status, json_t *v)
{
	char *s = v ? json_dumps(v, JSON_COMPACT | JSON_ENSURE_ASCII * 0) : NULL;
	json_decref(v);
	if (!s) {
		tb_http_reply_error(r, 500, "internal", NULL, "out of memory");
		return;
	}
	tb_http_reply(r, status, "application/json; charset=utf-8", s, strlen(s));
}

static const char *status_title(unsigned status, enum tb_lang lang)
{
	struct {
		unsigned s;
		const char *zh, *en;
	} t[] = {
	    {400, "请求有误", "Bad Request"},
	    {401, "需要登录", "Unauthorized"},
	    {403, "无权访问", "Forbidden"},
	    {404, "未找到", "Not Found"},
	    {405, "不支持该方法", "Method Not Allowed"},
	    {409, "数据冲突", "Conflict"},
	    {413, "请求内容过大", "Content Too Large"},
	    {415, "不支持的内容类型", "Unsupported Media Type"},
	    {422, "数据校验未通过", "Unprocessable Content"},
	    {429, "尝试次数过多", "Too Many Requests"},
	    {500, "服务器内部错误", "Internal Server Error"},
	    {503, "服务暂不可用", "Service Unavailable"},
	};
	for (size_t i = 0; i < TB_ARRAY_LEN(t); i++)
		if (t[i].s == status)
			return lang == TB_LANG_EN ? t[i].en : t[i].zh;
	return lang == TB_LANG_EN ? "Error" : "错误";
}

void tb_http_reply_problem(struct tb_req *r, unsigned status, const char *type, const char *detail,
			   json_t *errors)
{
	tb_http_reply_problem_ext(r, status, type, detail, errors, NULL);
}

void tb_http_reply_problem_ext(struct tb_req *r, unsigned status, const char *type,
			       const char *detail, json_t *errors, json_t *ext)
{
	json_t *p = json_object();
	json_object_set_new(
	    p, "type",
	    json_string(tb_arena_printf(&r->arena, "https://tongban.dev/problems/%s",
					type ? type : "error")));
	json_object_set_new(p, "title", json_string(status_title(status, r->lang)));
	json_object_set_new(p, "status", json_integer(status));
	if (detail)
		json_object_set_new(p, "detail", json_string(detail));
	if (errors)
		json_object_set_new(p, "errors", errors);
	if (ext) {
		json_object_update_missing(p, ext);
		json_decref(ext);
	}
	char *s = json_dumps(p, JSON_COMPACT);
	json_decref(p);
	if (!s)
		s = strdup("{\"status\":500}");
	tb_http_reply(r, status, "application/problem+json; charset=utf-8", s, s ? strlen(s) : 0);
}

void tb_http_reply_error(struct tb_req *r, unsigned status, const char *type, const char *field,
			 const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *detail = tb_arena_vprintf(&r->arena, fmt, ap);
	va_end(ap);
	json_t *errors = NULL;
	if (field) {
		errors = json_array();
		json_array_append_new(errors, json_pack("{s:s,s:s}", "field", field, "message",
							detail ? detail : ""));
	}
	tb_http_reply_problem(r, status, type, detail, errors);
}

void tb_http_reply_rc(struct tb_req *r, tb_rc rc, const struct tb_err *err)
{
	const char *field = err && err->field[0] ? err->field : NULL;
	const char *msg = err && err->msg[0] ? err->msg : tb_rc_str(rc);
	switch (rc) {
	case TB_OK:
		tb_http_reply_error(r, 500, "internal", NULL, "no reply");
		return;
	case TB_EINVAL:
		tb_http_reply_error(r, 422, "validation", field, "%s", msg);
		return;
	case TB_ENOTFOUND:
		tb_http_reply_error(r, 404, "not-found", field, "%s", msg);
		return;
	case TB_ECONFLICT:
		tb_http_reply_error(r, 409, "conflict", field, "%s", msg);
		return;
	case TB_EFORBIDDEN:
		tb_http_reply_error(r, 403, "forbidden", NULL, "%s", msg);
		return;
	case TB_EUNAUTH:
		tb_http_reply_error(r, 401, "unauthorized", NULL, "%s", msg);
		return;
	case TB_ETOOBIG:
		tb_http_reply_error(r, 413, "too-large", field, "%s", msg);
		return;
	case TB_ETYPE:
		tb_http_reply_error(r, 415, "unsupported-media-type", field, "%s", msg);
		return;
	case TB_EUNAVAIL:
		tb_http_add_header(r, "Retry-After", "5");
		tb_http_reply_error(r, 503, "unavailable", NULL, "the database is unavailable");
		return;
	default:
		/* never leak internals to the caller; the log has them */
		tb_log(TB_LOG_ERROR, "request", "%s %s: %s", r->method, r->path, msg);
		tb_http_reply_error(r, 500, "internal", NULL, "internal error");
		return;
	}
}

/* Depth of nesting in a JSON text, counting only brackets outside strings. */
static int json_depth(const char *s, size_t n)
{
	int depth = 0, max = 0;
	bool in_str = false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (in_str) {
			if (c == '\\')
				i++;
			else if (c == '"')
				in_str = false;
		} else if (c == '"') {
			in_str = true;
		} else if (c == '{' || c == '[') {
			if (++depth > max)
				max = depth;
		} else if (c == '}' || c == ']') {
			depth--;
		}
	}
	return max;
}

json_t *tb_http_json_body(struct tb_req *r)
{
	const char *ct = tb_http_header(r, "Content-Type");
	if (!ct || strncasecmp(ct, "application/json", 16) != 0) {
		tb_http_reply_error(r, 415, "unsupported-media-type", "Content-Type",
				    "the body must be application/json");
		return NULL;
	}
	if (r->body.len == 0) {
		tb_http_reply_error(r, 400, "malformed-json", "body", "the body is empty");
		return NULL;
	}
	if (json_depth(r->body.data, r->body.len) > MAX_JSON_DEPTH) {
		tb_http_reply_error(r, 400, "malformed-json", "body",
				    "JSON nested deeper than %d levels", MAX_JSON_DEPTH);
		return NULL;
	}
	json_error_t je;
	json_t *v = json_loadb(r->body.data, r->body.len, JSON_REJECT_DUPLICATES, &je);
	if (!v) {
		tb_http_reply_error(r, 400, "malformed-json", "body",
				    "invalid JSON at line %d, column %d: %s", je.line, je.column,
				    je.text);
		return NULL;
	}
	if (!json_is_object(v)) {
		json_decref(v);
		tb_http_reply_error(r, 400, "malformed-json", "body",
				    "the body must be a JSON object");
		return NULL;
	}
	return v;
}

static bool parse_int(const char *s, long lo, long hi, long *out)
{
	if (!s || !*s || strlen(s) > 9)
		return false;
	long v = 0;
	for (const char *p = s; *p; p++) {
		if (*p < '0' || *p > '9')
			return false;
		v = v * 10 + (*p - '0');
	}
	if (v < lo || v > hi)
		return false;
	*out = v;
	return true;
}

json_t *tb_http_json_object(struct tb_req *r, const char *const *allowed)
{
	json_t *body = tb_http_json_body(r);
	if (!body)
		return NULL;
	struct tb_err err = {0};
	if (allowed && !tb_jv_known_fields(body, "", allowed, &err)) {
		tb_http_reply_rc(r, TB_EINVAL, &err);
		json_decref(body);
		return NULL;
	}
	return body;
}

bool tb_http_paging(struct tb_req *r, int *page, int *per_page)
{
	long v;
	const char *p = tb_http_query(r, "page"), *pp = tb_http_query(r, "per_page");
	*page = 1;
	*per_page = 20;
	if (p) {
		if (!parse_int(p, 1, 100000, &v)) {
			tb_http_reply_error(r, 400, "bad-parameter", "page",
					    "page must be an integer from 1 to 100000");
			return false;
		}
		*page = (int)v;
	}
	if (pp) {
		if (!parse_int(pp, 1, 100, &v)) {
			tb_http_reply_error(r, 400, "bad-parameter", "per_page",
					    "per_page must be an integer from 1 to 100");
			return false;
		}
		*per_page = (int)v;
	}
	return true;
}

/* ---- the request cycle ---- */

static enum tb_lang pick_lang(const char *al)
{
	if (!al)
		return TB_LANG_ZH_CN;
	while (*al == ' ')
		al++;
	if (!strncasecmp(al, "zh-hk", 5) || !strncasecmp(al, "zh-tw", 5) ||
	    !strncasecmp(al, "zh-hant", 7) || !strncasecmp(al, "zh-mo", 5))
		return TB_LANG_ZH_HK;
	if (!strncasecmp(al, "en", 2))
		return TB_LANG_EN;
	return TB_LANG_ZH_CN;
}

static bool state_changing(const char *method)
{
	return strcmp(method, "GET") && strcmp(method, "HEAD") && strcmp(method, "OPTIONS");
}

/* Who is asking, and may they: fills r->principal, checks the CSRF header of cookie
 * requests that change state, then the route's declaration. Replies and returns false
 * when the request stops here. */
static bool authorize(struct tb_req *r)
{
	memset(&r->principal, 0, sizeof(r->principal));
	if (r->app->authenticate &&
	    (tb_http_header(r, "Authorization") || tb_http_cookie(r, "tb_session"))) {
		struct tb_err err = {0};
		tb_rc rc = r->app->authenticate(r, &err);
		if (rc) {
			tb_http_reply_rc(r, rc, &err);
			return false;
		}
	}
	const struct tb_principal *p = &r->principal;
	if (p->via_cookie && state_changing(r->method)) {
		const char *csrf = tb_http_header(r, "X-CSRF-Token");
		if ((!csrf || !tb_http_token_equal(csrf, p->csrf_token)) &&
		    r->route->auth == TB_AUTH_PUBLIC) {
			/* a public route (logging in again, registering) goes on as if
			 * anonymous: the cookie does not vouch for this request */
			memset(&r->principal, 0, sizeof(r->principal));
		} else if (!csrf || !tb_http_token_equal(csrf, p->csrf_token)) {
			tb_http_reply_error(r, 403, "csrf", "X-CSRF-Token",
					    "a request made with the session cookie that changes "
					    "something must carry the X-CSRF-Token header of the "
					    "session");
			return false;
		}
	}
	enum tb_auth need = r->route->auth;
	if (need == TB_AUTH_PUBLIC)
		return true;
	if (p->kind == TB_PRINCIPAL_ANONYMOUS) {
		tb_http_add_header(r, "WWW-Authenticate", "Bearer realm=\"tongban\"");
		tb_http_reply_error(r, 401, "unauthorized", NULL,
				    "this route needs a logged-in user (the session cookie or a "
				    "bearer token)");
		return false;
	}
	if (need == TB_AUTH_PERSON && p->kind != TB_PRINCIPAL_PERSON) {
		tb_http_reply_error(r, 403, "forbidden", NULL, "this route is for persons");
		return false;
	}
	if (need == TB_AUTH_STAFF) {
		if (p->kind != TB_PRINCIPAL_STAFF) {
			tb_http_reply_error(r, 403, "forbidden", NULL, "this route is for staff");
			return false;
		}
		if (r->route->roles && !tb_principal_has_role(p, r->route->roles, NULL, NULL)) {
			tb_http_reply_error(r, 403, "forbidden", NULL,
					    "your roles do not include one this route needs");
			return false;
		}
	}
	return true;
}

/* A request with what only the server needs to remember between calls. */
struct sreq {
	struct tb_req r;   /* first: the struct tb_req * handed around points here */
	bool path_known;   /* some route has this path (another method: 405) */
	bool body_nomem;   /* the body could not be held: 503 */
	char allow[128];   /* the methods of the path, for 405 */
	uint64_t received; /* body bytes read, kept or discarded */
};

static struct sreq *SR(struct tb_req *r)
{
	return (struct sreq *)r;
}

/* Find the route as soon as the headers are in, so that its body cap applies while the
 * body is read. */
static void find_route(struct tb_req *r)
{
	struct sreq *sr = SR(r);
	const char *method = !strcmp(r->method, "HEAD") ? "GET" : r->method;
	r->route_index = -1;
	for (size_t i = 0; i < nroutes && !r->route; i++) {
		if (!match(r, routes[i]->pattern, r->path))
			continue;
		sr->path_known = true;
		if (strcmp(routes[i]->method, method)) {
			char *allow = sr->allow;
			size_t l = strlen(allow);
			snprintf(allow + l, sizeof(sr->allow) - l, "%s%s", l ? ", " : "",
				 routes[i]->method);
			if (!strcmp(routes[i]->method, "GET"))
				snprintf(allow + strlen(allow), sizeof(sr->allow) - strlen(allow),
					 ", HEAD");
			continue;
		}
		r->route = routes[i];
		r->route_index = (int)i;
	}
}

/* The most body bytes the request may carry: the route's own cap or the app's. */
static size_t body_cap(const struct tb_req *r)
{
	return r->route && r->route->max_body ? r->route->max_body : r->app->max_body;
}

/* How much of a body over the cap is read (and dropped) to answer 413 cleanly. */
static uint64_t drain_limit(const struct tb_req *r)
{
	return 2 * (uint64_t)body_cap(r) + (1u << 20);
}

static void reply_too_big(struct tb_req *r)
{
	tb_http_reply_error(r, 413, "too-large", "body", "the body is larger than %zu bytes",
			    body_cap(r));
}

static void dispatch(struct tb_req *r)
{
	const char *method = !strcmp(r->method, "HEAD") ? "GET" : r->method;
	if (!r->route) {
		if (SR(r)->path_known) {
			tb_http_add_header(r, "Allow", SR(r)->allow);
			tb_http_reply_error(r, 405, "method-not-allowed", NULL,
					    "%s is not allowed on %s", r->method, r->path);
			return;
		}
		if (!strncmp(r->path, "/api/", 5) || !strcmp(r->path, "/api")) {
			tb_http_reply_error(r, 404, "not-found", NULL, "no such route: %s",
					    r->path);
			return;
		}
		if (strcmp(method, "GET")) {
			tb_http_add_header(r, "Allow", "GET, HEAD");
			tb_http_reply_error(r, 405, "method-not-allowed", NULL,
					    "%s is not allowed on %s", r->method, r->path);
			return;
		}
		tb_http_static(r);
		return;
	}
	if (r->body_too_big) {
		reply_too_big(r);
		return;
	}
	if (SR(r)->body_nomem) {
		tb_http_add_header(r, "Retry-After", "5");
		tb_http_reply_error(r, 503, "unavailable", NULL,
				    "the server cannot hold the body now");
		return;
	}
	if (!authorize(r))
		return;
	r->route->handler(r);
	if (!r->replied)
		tb_http_reply_error(r, 500, "internal", NULL, "the handler gave no reply");
}

static void *on_uri(void *cls, const char *uri, struct MHD_Connection *conn)
{
	(void)uri;
	struct tb_server *s = cls;
	struct sreq *sr = calloc(1, sizeof(*sr));
	if (!sr)
		return NULL;
	struct tb_req *r = &sr->r;
	tb_arena_init(&r->arena, 64 * 1024 * 1024);
	/* the cap is the route's, set once the headers are in; memory grows with the body */
	tb_buf_init(&r->body, s->app->max_body);
	r->app = s->app;
	r->conn = conn;
	r->t0 = tb_time_mono();
	r->resp_fd = -1;
	__atomic_add_fetch(&in_flight, 1, __ATOMIC_SEQ_CST);
	return r;
}

static enum MHD_Result queue(struct MHD_Connection *conn, struct tb_req *r)
{
	struct MHD_Response *resp;
	if (r->resp_fd >= 0) {
		resp = MHD_create_response_from_fd(r->resp_fd_size, r->resp_fd);
		r->resp_fd = -1; /* MHD closes it */
	} else {
		if (r->lang == TB_LANG_ZH_HK && r->resp && r->content_type &&
		    strstr(r->content_type, "json")) {
			size_t n;
			char *hk = tb_text_to_hk(r->resp, r->resp_len, &n);
			if (hk) {
				free(r->resp);
				r->resp = hk;
				r->resp_len = n;
			}
		}
		resp = MHD_create_response_from_buffer(r->resp_len, r->resp ? r->resp : (void *)"",
						       r->resp ? MHD_RESPMEM_MUST_FREE
							       : MHD_RESPMEM_PERSISTENT);
		r->resp = NULL;
	}
	if (!resp)
		return MHD_NO;
	if (r->content_type)
		MHD_add_response_header(resp, "Content-Type", r->content_type);
	for (int i = 0; i < r->nheaders; i++)
		MHD_add_response_header(resp, r->headers[i].name, r->headers[i].value);
	if (!strncmp(r->path ? r->path : "", "/api/", 5)) {
		MHD_add_response_header(resp, "Cache-Control", "no-store");
		MHD_add_response_header(resp, "Vary", "Accept-Language");
	}
	MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
	enum MHD_Result ret = MHD_queue_response(conn, r->status, resp);
	MHD_destroy_response(resp);
	return ret;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
				  const char *method, const char *version, const char *upload,
				  size_t *upload_size, void **con_cls)
{
	(void)cls, (void)version;
	struct tb_req *r = *con_cls;
	if (!r)
		return MHD_NO;
	if (!r->started) {
		/* Never answer on the first call: the body has not been read yet, and a
		 * response queued now closes the connection (DESIGN.md pitfalls). */
		r->started = true;
		r->method = tb_arena_strdup(&r->arena, method);
		r->path = tb_arena_strdup(&r->arena, url);
		r->lang = pick_lang(
		    MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Accept-Language"));
		find_route(r);
		r->body.cap = body_cap(r);
		const char *cl =
		    MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Content-Length");
		if (cl && strtoull(cl, NULL, 10) > r->body.cap) {
			r->body_too_big = true;
			/* A client that waits for 100 Continue has sent no body yet: the one
			 * case where answering at once is right (libmicrohttpd then sends no
			 * 100 and closes the connection, not reading the body). So is a body
			 * too big even to drain. Otherwise the body is read and dropped and
			 * the 413 goes out once it is in, on a connection that stays open:
			 * a client still sending when the connection closes may see a reset
			 * instead of the answer. */
			const char *expect =
			    MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Expect");
			if ((expect && !strcasecmp(expect, "100-continue")) ||
			    strtoull(cl, NULL, 10) > drain_limit(r)) {
				reply_too_big(r);
				return queue(conn, r);
			}
		}
		return MHD_YES;
	}
	if (*upload_size) {
		struct sreq *sr = SR(r);
		sr->received += *upload_size;
		if (!r->body_too_big && !sr->body_nomem) {
			tb_rc rc = tb_buf_append(&r->body, upload, *upload_size);
			if (rc) {
				/* keep reading (and dropping) the rest, so that the answer
				 * goes out on a connection that stays usable */
				tb_buf_release(&r->body);
				r->body_too_big = rc == TB_ETOOBIG;
				sr->body_nomem = rc != TB_ETOOBIG;
			}
		}
		*upload_size = 0;
		/* ... but not without end: past that, answer now and close. (libmicrohttpd
		 * 0.9.75 refuses a response queued in the middle of a body, and then
		 * closes the connection without one: still the end we want.) */
		if (sr->received > drain_limit(r)) {
			reply_too_big(r);
			return queue(conn, r);
		}
		return MHD_YES;
	}
	if (!r->method || !r->path) {
		return MHD_NO;
	}
	dispatch(r);
	return queue(conn, r);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
			 enum MHD_RequestTerminationCode toe)
{
	(void)cls, (void)toe;
	struct tb_req *r = *con_cls;
	if (!r)
		return;
	double secs = tb_time_mono() - r->t0;
	if (r->status)
		tb_metrics_observe(r->route_index, r->method, r->status, secs);
	if (r->app->access_log_fd >= 0 && r->path) {
		char ts[32], ip[64] = "";
		tb_time_rfc3339(ts);
		const union MHD_ConnectionInfo *ci =
		    MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
		if (ci && ci->client_addr)
			getnameinfo(ci->client_addr,
				    ci->client_addr->sa_family == AF_INET6
					? sizeof(struct sockaddr_in6)
					: sizeof(struct sockaddr_in),
				    ip, sizeof(ip), NULL, 0, NI_NUMERICHOST);
		struct tb_buf b;
		tb_buf_init(&b, 4096);
		tb_buf_printf(&b, "{\"ts\":\"%s\",\"ip\":\"%s\",\"method\":", ts, ip);
		tb_buf_json_str(&b, r->method ? r->method : "");
		tb_buf_puts(&b, ",\"path\":");
		tb_buf_json_str(&b, r->path);
		tb_buf_puts(&b, ",\"route\":");
		tb_buf_json_str(&b, r->route ? r->route->pattern : "");
		tb_buf_printf(&b, ",\"status\":%u,\"ms\":%.3f,\"bytes\":%zu%s}", r->status,
			      secs * 1000, r->resp_len,
			      toe == MHD_REQUEST_TERMINATED_COMPLETED_OK ? ""
									 : ",\"aborted\":true");
		if (b.data)
			tb_log_line(r->app->access_log_fd, b.data, b.len);
		tb_buf_release(&b);
	}
	if (r->resp_fd >= 0)
		close(r->resp_fd);
	free(r->resp);
	tb_buf_release(&r->body);
	tb_arena_release(&r->arena);
	free(SR(r));
	*con_cls = NULL;
	__atomic_sub_fetch(&in_flight, 1, __ATOMIC_SEQ_CST);
}

static tb_rc parse_listen(const char *listen, struct sockaddr_storage *ss, struct tb_err *err)
{
	char host[256] = "127.0.0.1", port[16];
	const char *colon = strrchr(listen, ':');
	if (colon) {
		size_t hl = (size_t)(colon - listen);
		if (hl >= sizeof(host))
			return tb_fail(err, TB_EINVAL, "listen", "host too long");
		if (hl) {
			memcpy(host, listen, hl);
			host[hl] = 0;
		}
		snprintf(port, sizeof(port), "%s", colon + 1);
	} else {
		snprintf(port, sizeof(port), "%s", listen);
	}
	if (host[0] == '[') { /* [::1]:8080 */
		size_t l = strlen(host);
		if (host[l - 1] == ']') {
			memmove(host, host + 1, l - 2);
			host[l - 2] = 0;
		}
	}
	char *end;
	long p = strtol(port, &end, 10);
	if (!*port || *end || p < 0 || p > 65535)
		return tb_fail(err, TB_EINVAL, "listen", "bad port in '%s'", listen);
	struct addrinfo hints = {.ai_family = AF_UNSPEC,
				 .ai_socktype = SOCK_STREAM,
				 .ai_flags = AI_NUMERICSERV},
			*ai;
	int gr = getaddrinfo(host, port, &hints, &ai);
	if (gr)
		return tb_fail(err, TB_EINVAL, "listen", "cannot resolve '%s': %s", host,
			       gai_strerror(gr));
	memcpy(ss, ai->ai_addr, ai->ai_addrlen);
	freeaddrinfo(ai);
	return TB_OK;
}

tb_rc tb_server_start(struct tb_app *app, const char *listen, unsigned threads,
		      struct tb_server **out, struct tb_err *err)
{
	struct sockaddr_storage ss;
	memset(&ss, 0, sizeof(ss));
	tb_rc rc = parse_listen(listen, &ss, err);
	if (rc)
		return rc;
	struct tb_server *s = calloc(1, sizeof(*s));
	if (!s)
		return TB_ENOMEM;
	s->app = app;
	unsigned flags =
	    MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ITC | MHD_USE_ERROR_LOG;
	if (ss.ss_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	s->d = MHD_start_daemon(
	    flags, 0, NULL, NULL, on_request, s, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
	    MHD_OPTION_THREAD_POOL_SIZE, threads < 1 ? 1u : threads, MHD_OPTION_CONNECTION_TIMEOUT,
	    (unsigned)30, MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)(64 * 1024),
	    MHD_OPTION_CONNECTION_LIMIT, (unsigned)4096, MHD_OPTION_LISTEN_BACKLOG_SIZE,
	    (unsigned)1024, MHD_OPTION_URI_LOG_CALLBACK, on_uri, s, MHD_OPTION_NOTIFY_COMPLETED,
	    on_completed, s, MHD_OPTION_LISTENING_ADDRESS_REUSE, (unsigned)1, MHD_OPTION_END);
	if (!s->d) {
		free(s);
		return tb_fail(err, TB_EIO, "listen",
			       "cannot listen on %s (in use, or not allowed)", listen);
	}
	const union MHD_DaemonInfo *di = MHD_get_daemon_info(s->d, MHD_DAEMON_INFO_BIND_PORT);
	s->port = di ? di->port : 0;
	*out = s;
	return TB_OK;
}

uint16_t tb_server_port(const struct tb_server *s)
{
	return s->port;
}

void tb_server_stop(struct tb_server *s, double grace)
{
	if (!s)
		return;
	MHD_socket ls = MHD_quiesce_daemon(s->d);
	if (ls != MHD_INVALID_SOCKET)
		close(ls);
	double until = tb_time_mono() + grace;
	while (__atomic_load_n(&in_flight, __ATOMIC_SEQ_CST) > 0 && tb_time_mono() < until) {
		struct timespec ts = {0, 10 * 1000 * 1000};
		nanosleep(&ts, NULL);
	}
	MHD_stop_daemon(s->d);
	free(s);
}
