/* http.h: the HTTP edge. A request is parsed and bounded here, routed to a block's
 * handler, and answered with JSON or an RFC 9457 problem. Handlers never see sockets. */
#ifndef TB_HTTP_HTTP_H
#define TB_HTTP_HTTP_H

#include "base/arena.h"
#include "base/buf.h"
#include "base/principal.h"
#include "base/tb.h"

#include <jansson.h>

struct tb_store;
struct tb_db;
struct tb_req;

/* Who a route admits. The router answers 401 (anonymous) or 403 (wrong kind, no role
 * in the route's mask) before the handler runs; handlers check jurisdiction. */
enum tb_auth {
	TB_AUTH_PUBLIC, /* anyone, logged in or not */
	TB_AUTH_USER,	/* any logged-in principal */
	TB_AUTH_PERSON, /* a natural person */
	TB_AUTH_STAFF,	/* staff holding one of `roles` (0: any staff) */
};

struct tb_route {
	const char *method;  /* "GET", "POST", ...; GET also answers HEAD */
	const char *pattern; /* "/api/v1/items/{code}" */
	void (*handler)(struct tb_req *r);
	enum tb_auth auth;
	unsigned roles;	 /* TB_AUTH_STAFF: a mask of enum tb_role */
	size_t max_body; /* bytes; 0: the app's max_body (uploads take more) */
};

enum tb_lang { TB_LANG_ZH_CN, TB_LANG_ZH_HK, TB_LANG_EN };

struct tb_app {
	struct tb_store *store;
	const char *web_root; /* NULL: no portal */
	/* Fills r->principal from the request's credentials (cookie tb_session or
	 * Authorization: Bearer); leaves it anonymous when they are absent, unknown or
	 * expired. Called only when a credential is present. An error (store down) is
	 * answered as a problem. NULL: everyone is anonymous. Wired by main.c to the
	 * identity block, so that http does not depend on it. */
	tb_rc (*authenticate)(struct tb_req *r, struct tb_err *err);
	/* Behind a proxy (HAProxy `option forwardfor`, nginx): the client is the last
	 * address of X-Forwarded-For. Only set when nothing else can reach the port. */
	bool trust_proxy;
	size_t max_body;   /* bytes */
	int access_log_fd; /* -1: none */
};

struct tb_http_header {
	const char *name, *value;
};

struct tb_req {
	struct tb_arena arena;
	struct tb_app *app;
	void *conn; /* struct MHD_Connection */
	const char *method;
	const char *path;
	const struct tb_route *route;
	int route_index;
	const char *param_names[8];
	const char *param_values[8];
	int nparams;
	struct tb_buf body;
	bool body_too_big, started, replied;
	struct tb_principal principal;
	enum tb_lang lang;
	double t0;
	/* the response */
	unsigned status;
	char *resp; /* malloc'd */
	size_t resp_len;
	const char *content_type;
	struct tb_http_header headers[8];
	int nheaders;
	int resp_fd; /* static files: answered from a file */
	uint64_t resp_fd_size;
};

struct tb_server;

/* Routes are collected from each block before start; tables are NULL-terminated
 * (method == NULL). Returns false if there are too many. */
bool tb_http_add_routes(const struct tb_route *routes);
/* Every registered route, for the OpenAPI coverage test and `tongban routes`. */
size_t tb_http_routes(const struct tb_route ***out);

/* listen: "HOST:PORT", ":PORT" or "PORT". threads: worker threads (>= 1). */
tb_rc tb_server_start(struct tb_app *app, const char *listen, unsigned threads,
		      struct tb_server **out, struct tb_err *err);
/* Stop accepting, let in-flight requests finish (up to grace seconds), then stop. */
void tb_server_stop(struct tb_server *s, double grace);
uint16_t tb_server_port(const struct tb_server *s);

/* ---- for handlers ---- */

const char *tb_http_param(struct tb_req *r, const char *name); /* path parameter */
const char *tb_http_query(struct tb_req *r, const char *name); /* query string */
const char *tb_http_header(struct tb_req *r, const char *name);
const char *tb_http_cookie(struct tb_req *r, const char *name);
/* The client's address as text ("127.0.0.1", "::1"), "" if unknown: the peer, or
 * with app->trust_proxy the last address of X-Forwarded-For when there is one. */
void tb_http_client_ip(struct tb_req *r, char out[64]);
/* This thread's database connection; on failure replies 503 and returns NULL. */
struct tb_db *tb_http_db(struct tb_req *r);

void tb_http_add_header(struct tb_req *r, const char *name, const char *value);
/* Take ownership of body (malloc'd). */
void tb_http_reply(struct tb_req *r, unsigned status, const char *content_type, char *body,
		   size_t len);
void tb_http_reply_json(struct tb_req *r, unsigned status, json_t *v); /* steals v */
/* The end of most handlers: the block's failure as a problem (tb_http_reply_rc), or out
 * (stolen) as JSON with status. When rc is set, out is not touched (blocks fill it only
 * on success; it may be uninitialised). */
void tb_http_reply_result(struct tb_req *r, tb_rc rc, const struct tb_err *err, unsigned status,
			  json_t *out);
/* Problem details. field may be NULL; extra field errors may be added by the caller
 * through tb_http_reply_problem_errors. */
void tb_http_reply_error(struct tb_req *r, unsigned status, const char *type, const char *field,
			 const char *fmt, ...) __attribute__((format(printf, 5, 6)));
/* errors: a JSON array of {"field","message"} (stolen). */
void tb_http_reply_problem(struct tb_req *r, unsigned status, const char *type, const char *detail,
			   json_t *errors);
/* The same with extension members (an object, stolen; may be NULL) added to the problem
 * ("allowed_actions" of a 409). */
void tb_http_reply_problem_ext(struct tb_req *r, unsigned status, const char *type,
			       const char *detail, json_t *errors, json_t *ext);
/* Map a block's status to a problem; err supplies field and message. */
void tb_http_reply_rc(struct tb_req *r, tb_rc rc, const struct tb_err *err);

/* Parse the body as one JSON object: UTF-8, no duplicate keys, depth <= 32.
 * On failure replies 400/413/415 and returns NULL. */
json_t *tb_http_json_body(struct tb_req *r);

/* One part of a multipart/form-data body (RFC 7578), pointing into the request body. */
struct tb_part {
	const char *name;	  /* the form field */
	const char *filename;	  /* NULL: not a file */
	const char *content_type; /* NULL when the part has none */
	const char *data;	  /* not NUL-terminated */
	size_t len;
};
/* Parse the body as multipart/form-data into parts (at most max). On failure (not
 * multipart: 415; malformed, too many parts: 400) replies and returns false. */
bool tb_http_multipart(struct tb_req *r, struct tb_part *parts, size_t max, size_t *n);
/* The parser behind it, over any buffer (RFC 7578, RFC 2046): content_type the
 * request's header (boundary quoted or not), parts[0..*n) filled in body order.
 * - name: required, decoded from its quoted-string; filename: NULL unless the part has
 *   one; filename* (RFC 5987, UTF-8) wins over filename; the last segment after any /
 *   or \ only (may then be ""). Both UTF-8, no control characters, <= 255 bytes.
 * - content_type: the part's media type alone, lower case ("image/png"), or NULL.
 * - data/len: the bytes between the part's blank line and the next delimiter's CRLF,
 *   pointing into body (len may be 0). Preamble and epilogue are ignored.
 * Names live in a. TB_ETYPE: not multipart/form-data; TB_EINVAL: malformed (no
 * boundary, no closing delimiter, part without Content-Disposition or name, bad file
 * name...; err names the field, "Content-Type" or "body" or the part's name); TB_ETOOBIG:
 * more than max parts; TB_ENOMEM. */
tb_rc tb_multipart_parse(const char *content_type, const char *body, size_t len,
			 struct tb_part *parts, size_t max, size_t *n, struct tb_arena *a,
			 struct tb_err *err);

/* tb_http_json_body, then refuse any member not in allowed (NULL-terminated; NULL:
 * any) with a 422 naming it. On failure replies and returns NULL. */
json_t *tb_http_json_object(struct tb_req *r, const char *const *allowed);

/* Paging: page >= 1, 1 <= per_page <= 100 (default 20); on a bad value replies 400. */
bool tb_http_paging(struct tb_req *r, int *page, int *per_page);

/* Static files of the portal (called by the router for non-API GETs). */
void tb_http_static(struct tb_req *r);

/* Metrics and the system routes. */
extern const struct tb_route tb_system_routes[];
void tb_metrics_observe(int route_index, const char *method, unsigned status, double seconds);
char *tb_metrics_render(size_t *len);

/* Constant-time comparison of two strings. */
bool tb_http_token_equal(const char *a, const char *b);

#endif
