/* oidc_http.c: the OpenID Connect provider's routes (docs/oidc.md). Turns query
 * strings, forms and headers into oidc.h calls and answers in OAuth's own terms:
 * RFC 6749 §5.2 JSON on the token endpoint, RFC 6750 on userinfo, redirects with error
 * parameters on authorize (except for a bad client or redirect_uri: a 400 problem). */
#include "identity/oidc_http.h"
#include "identity/oidc.h"
#include "identity/identity.h"
#include "http/http.h"
#include "base/jsonv.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <sodium.h>

/* The request's logged-in user as the provider sees it. */
static void user_of(struct tb_req *r, struct tb_oidc_user *u)
{
	memset(u, 0, sizeof(*u));
	const struct tb_principal *p = &r->principal;
	if (p->kind == TB_PRINCIPAL_ANONYMOUS)
		return;
	u->user_id = p->user_id;
	u->session_id = p->session_id;
	/* sessions have a fixed absolute lifetime from their login */
	u->auth_time = p->expires_at - tb_identity_config()->session_ttl;
	u->assurance = p->assurance;
	u->aal = p->aal;
	if (p->acting.capacity != TB_CAPACITY_NONE) {
		snprintf(u->acting_uscc, sizeof(u->acting_uscc), "%s", p->acting.uscc);
		snprintf(u->acting_name, sizeof(u->acting_name), "%s", p->acting.name);
		snprintf(u->acting_capacity, sizeof(u->acting_capacity), "%s",
			 p->acting.capacity == TB_CAPACITY_LEGAL_REP ? "legal_rep" : "agent");
	}
}

static enum tb_oidc_lang lang_of(struct tb_req *r)
{
	return r->lang == TB_LANG_EN	  ? TB_OIDC_EN
	       : r->lang == TB_LANG_ZH_HK ? TB_OIDC_ZH_HK
					  : TB_OIDC_ZH_CN;
}

static void redirect(struct tb_req *r, const char *location)
{
	tb_http_add_header(r, "Location", location);
	tb_http_reply(r, 302, "text/plain; charset=utf-8", NULL, 0);
}

/* ---- application/x-www-form-urlencoded ---- */

#define FORM_MAX 16

struct form {
	const char *name[FORM_MAX], *value[FORM_MAX];
	int n;
};

static int hexval(char c)
{
	return c >= '0' && c <= '9'   ? c - '0'
	       : c >= 'a' && c <= 'f' ? c - 'a' + 10
	       : c >= 'A' && c <= 'F' ? c - 'A' + 10
				      : -1;
}

/* Decode s[0, n) ('+' is a space, %XX a byte) into the arena; NULL if malformed or
 * it holds a NUL byte. */
static char *form_decode(struct tb_arena *a, const char *s, size_t n)
{
	char *out = tb_arena_alloc(a, n + 1), *o = out;
	if (!out)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '+')
			*o++ = ' ';
		else if (s[i] == '%') {
			int h, l;
			if (i + 2 >= n || (h = hexval(s[i + 1])) < 0 ||
			    (l = hexval(s[i + 2])) < 0 || (h == 0 && l == 0))
				return NULL;
			*o++ = (char)(h << 4 | l);
			i += 2;
		} else
			*o++ = s[i];
	}
	*o = 0;
	return out;
}

/* Parse the body as a form. A repeated parameter or a malformed one is a failure
 * (RFC 6749 §3.2: parameters must not be included more than once). */
static bool form_parse(struct tb_req *r, struct form *f, const char **why)
{
	f->n = 0;
	const char *ct = tb_http_header(r, "Content-Type");
	if (!ct || strncasecmp(ct, "application/x-www-form-urlencoded", 33)) {
		*why = "the body must be application/x-www-form-urlencoded";
		return false;
	}
	const char *s = r->body.data ? r->body.data : "";
	size_t len = r->body.len;
	size_t i = 0;
	while (i < len) {
		size_t j = i;
		while (j < len && s[j] != '&')
			j++;
		if (j > i) {
			const char *eq = memchr(s + i, '=', j - i);
			size_t nl = eq ? (size_t)(eq - (s + i)) : j - i;
			if (f->n == FORM_MAX) {
				*why = "too many parameters";
				return false;
			}
			char *name = form_decode(&r->arena, s + i, nl);
			char *value = eq ? form_decode(&r->arena, eq + 1, (size_t)(s + j - eq - 1))
					 : tb_arena_strdup(&r->arena, "");
			if (!name || !value) {
				*why = "a parameter is not properly encoded";
				return false;
			}
			for (int k = 0; k < f->n; k++)
				if (!strcmp(f->name[k], name)) {
					*why = tb_arena_printf(&r->arena, "%s is repeated", name);
					return false;
				}
			f->name[f->n] = name;
			f->value[f->n++] = value;
		}
		i = j + 1;
	}
	return true;
}

/* A form value; an empty one counts as absent (RFC 6749 §3.1). */
static const char *form_get(const struct form *f, const char *name)
{
	for (int i = 0; i < f->n; i++)
		if (!strcmp(f->name[i], name))
			return f->value[i][0] ? f->value[i] : NULL;
	return NULL;
}

/* ---- the OAuth error answers ---- */

static void reply_oauth(struct tb_req *r, const struct tb_oidc_error *oe)
{
	if (oe->basic_challenge)
		tb_http_add_header(r, "WWW-Authenticate", "Basic realm=\"tongban\"");
	tb_http_add_header(r, "Pragma", "no-cache");
	tb_http_reply_json(
	    r, oe->status,
	    json_pack("{s:s, s:s}", "error", oe->error, "error_description", oe->description));
}

static void oauth_fail(struct tb_req *r, unsigned status, const char *error, const char *desc)
{
	struct tb_oidc_error oe = {.status = status, .error = error};
	snprintf(oe.description, sizeof(oe.description), "%s", desc);
	reply_oauth(r, &oe);
}

/* A store failure in an OAuth endpoint: 503 is all a client needs to know. */
static void reply_store(struct tb_req *r, tb_rc rc)
{
	struct tb_err err = {0};
	tb_http_reply_rc(r, rc == TB_EDB || rc == TB_EUNAVAIL ? TB_EUNAVAIL : rc, &err);
}

/* ---- handlers ---- */

static void discovery(struct tb_req *r)
{
	tb_http_add_header(r, "Cache-Control", "public, max-age=300");
	tb_http_reply_json(r, 200, tb_oidc_discovery());
}

static void jwks(struct tb_req *r)
{
	struct tb_db *db = tb_http_db(r);
	if (!db)
		return;
	json_t *out = NULL;
	struct tb_err err = {0};
	tb_rc rc = tb_oidc_jwks(db, &out, &err);
	tb_http_reply_result(r, rc, &err, 200, out);
}

static void authorize(struct tb_req *r)
{
	struct tb_db *db = tb_http_db(r);
	if (!db)
		return;
	struct tb_oidc_authz_params q = {
	    .response_type = tb_http_query(r, "response_type"),
	    .client_id = tb_http_query(r, "client_id"),
	    .redirect_uri = tb_http_query(r, "redirect_uri"),
	    .scope = tb_http_query(r, "scope"),
	    .state = tb_http_query(r, "state"),
	    .nonce = tb_http_query(r, "nonce"),
	    .code_challenge = tb_http_query(r, "code_challenge"),
	    .code_challenge_method = tb_http_query(r, "code_challenge_method"),
	    .prompt = tb_http_query(r, "prompt"),
	    .max_age = tb_http_query(r, "max_age"),
	    .resume = tb_http_query(r, "resume"),
	    .has_request_object =
		tb_http_query(r, "request") != NULL || tb_http_query(r, "request_uri") != NULL,
	};
	struct tb_oidc_user u;
	user_of(r, &u);
	struct tb_oidc_authz_result res;
	tb_rc rc = tb_oidc_authorize(db, &q, &u, &r->arena, &res);
	if (rc) {
		reply_store(r, rc);
		return;
	}
	if (res.kind == TB_OIDC_AUTHZ_PAGE) {
		/* never redirected: the client or its redirect_uri cannot be trusted */
		tb_http_reply_error(r, 400,
				    !strcmp(res.err.field, "client_id") ? "invalid-client"
									: "invalid-request",
				    res.err.field, "%s", res.err.msg);
		return;
	}
	if (!res.location) {
		tb_http_reply_rc(r, TB_ENOMEM, NULL);
		return;
	}
	redirect(r, res.location);
}

static void consent_get(struct tb_req *r)
{
	struct tb_db *db = tb_http_db(r);
	if (!db)
		return;
	struct tb_oidc_user u;
	user_of(r, &u);
	json_t *out = NULL;
	struct tb_err err = {0};
	tb_rc rc = tb_oidc_consent_get(db, tb_http_param(r, "id"), &u, lang_of(r), &out, &err);
	tb_http_reply_result(r, rc, &err, 200, out);
}

static void consent_post(struct tb_req *r)
{
	json_t *body = tb_http_json_body(r);
	if (!body)
		return;
	static const char *const fields[] = {"decision", NULL};
	static const char *const decisions[] = {"allow", "deny", NULL};
	const char *decision;
	struct tb_err err = {0};
	if (!tb_jv_known_fields(body, "", fields, &err) ||
	    !tb_jv_enum(body, "", "decision", true, decisions, &decision, &err)) {
		json_decref(body);
		tb_http_reply_rc(r, TB_EINVAL, &err);
		return;
	}
	bool allow = !strcmp(decision, "allow");
	json_decref(body);
	struct tb_db *db = tb_http_db(r);
	if (!db)
		return;
	struct tb_oidc_user u;
	user_of(r, &u);
	const char *to = NULL;
	tb_rc rc =
	    tb_oidc_consent_decide(db, tb_http_param(r, "id"), &u, allow, &r->arena, &to, &err);
	if (rc)
		tb_http_reply_rc(r, rc, &err);
	else
		tb_http_reply_json(r, 200, json_pack("{s:s}", "redirect_to", to));
}

/* RFC 6749 §2.3.1: the id and secret are form-encoded, then joined and base64'd. */
static void basic_credentials(struct tb_req *r, struct tb_oidc_token_params *p)
{
	const char *auth = tb_http_header(r, "Authorization");
	if (!auth)
		return;
	if (strncasecmp(auth, "Basic ", 6)) {
		p->basic_malformed = true;
		return;
	}
	const char *b64 = auth + 6;
	size_t n = strlen(b64);
	char *raw = tb_arena_alloc(&r->arena, n + 1);
	size_t rawlen = 0;
	if (!raw || n > 2048 ||
	    sodium_base642bin((unsigned char *)raw, n, b64, n, NULL, &rawlen, NULL,
			      sodium_base64_VARIANT_ORIGINAL)) {
		p->basic_malformed = true;
		return;
	}
	raw[rawlen] = 0;
	char *colon = memchr(raw, ':', rawlen);
	if (!colon || strlen(raw) != rawlen) {
		p->basic_malformed = true;
		return;
	}
	p->basic_id = form_decode(&r->arena, raw, (size_t)(colon - raw));
	p->basic_secret = form_decode(&r->arena, colon + 1, rawlen - (size_t)(colon - raw) - 1);
	if (!p->basic_id || !p->basic_secret || !*p->basic_id)
		p->basic_malformed = true;
}

static void token(struct tb_req *r)
{
	struct form f;
	const char *why;
	if (!form_parse(r, &f, &why)) {
		oauth_fail(r, 400, "invalid_request", why);
		return;
	}
	struct tb_oidc_token_params p = {
	    .grant_type = form_get(&f, "grant_type"),
	    .code = form_get(&f, "code"),
	    .redirect_uri = form_get(&f, "redirect_uri"),
	    .code_verifier = form_get(&f, "code_verifier"),
	    .refresh_token = form_get(&f, "refresh_token"),
	    .scope = form_get(&f, "scope"),
	    .client_id = form_get(&f, "client_id"),
	    .client_secret = form_get(&f, "client_secret"),
	};
	basic_credentials(r, &p);
	struct tb_db *db = tb_http_db(r);
	if (!db)
		return;
	json_t *out = NULL;
	struct tb_oidc_error oe;
	tb_rc rc = tb_oidc_token(db, &p, &out, &oe);
	if (rc)
		reply_store(r, rc);
	else if (oe.status)
		reply_oauth(r, &oe);
	else {
		tb_http_add_header(r, "Pragma", "no-cache");
		tb_http_reply_json(r, 200, out);
	}
}

static void userinfo(struct tb_req *r)
{
	const char *auth = tb_http_header(r, "Authorization");
	const char *tok = NULL;
	if (auth && !strncasecmp(auth, "Bearer ", 7))
		tok = auth + 7;
	else if (!strcmp(r->method, "POST") && !auth) {
		struct form f;
		const char *why;
		if (form_parse(r, &f, &why))
			tok = form_get(&f, "access_token");
	}
	struct tb_db *db = tb_http_db(r);
	if (!db)
		return;
	json_t *out = NULL;
	struct tb_oidc_error oe;
	tb_rc rc = tb_oidc_userinfo(db, tok, &out, &oe);
	if (rc) {
		reply_store(r, rc);
		return;
	}
	if (oe.status) {
		/* RFC 6750 §3: the challenge names the error */
		tb_http_add_header(r, "WWW-Authenticate",
				   tok ? tb_arena_printf(&r->arena,
							 "Bearer realm=\"tongban\", error=\"%s\", "
							 "error_description=\"%s\"",
							 oe.error, oe.description)
				       : "Bearer realm=\"tongban\"");
		tb_http_reply_json(r, oe.status,
				   json_pack("{s:s, s:s}", "error", oe.error, "error_description",
					     oe.description));
		return;
	}
	tb_http_reply_json(r, 200, out);
}

static char *html_escape(struct tb_arena *a, const char *s)
{
	struct tb_buf b;
	tb_buf_init(&b, 65536);
	for (; *s; s++) {
		if (*s == '<')
			tb_buf_puts(&b, "&lt;");
		else if (*s == '>')
			tb_buf_puts(&b, "&gt;");
		else if (*s == '&')
			tb_buf_puts(&b, "&amp;");
		else if (*s == '"')
			tb_buf_puts(&b, "&quot;");
		else
			tb_buf_putc(&b, *s);
	}
	char *out = tb_arena_strdup(a, b.data ? b.data : "");
	tb_buf_release(&b);
	return out;
}

static void end_session(struct tb_req *r)
{
	struct tb_db *db = tb_http_db(r);
	if (!db)
		return;
	struct tb_oidc_user u;
	user_of(r, &u);
	struct tb_oidc_logout_result res;
	struct tb_err err = {0};
	tb_rc rc = tb_oidc_end_session(
	    db, tb_http_query(r, "id_token_hint"), tb_http_query(r, "post_logout_redirect_uri"),
	    tb_http_query(r, "state"), tb_http_query(r, "client_id"), &u, &r->arena, &res, &err);
	if (rc == TB_EINVAL) {
		tb_http_reply_error(r, 400, "invalid-request", err.field, "%s", err.msg);
		return;
	}
	if (rc) {
		tb_http_reply_rc(r, rc, &err);
		return;
	}
	if (res.end_current)
		tb_http_add_header(r, "Set-Cookie",
				   "tb_session=; Path=/; Max-Age=0; HttpOnly; SameSite=Lax");
	if (res.location) {
		redirect(r, res.location);
		return;
	}
	bool en = r->lang == TB_LANG_EN;
	const char *msg = res.end_current || tb_http_query(r, "id_token_hint")
			      ? (en ? "You are signed out." : "您已退出登录。")
			      : (en ? "Nothing to sign out of." : "当前没有需要退出的登录。");
	char *page = tb_arena_printf(&r->arena,
				     "<!doctype html><html lang=\"%s\"><meta charset=\"utf-8\">"
				     "<title>%s</title><p>%s</p><p><a href=\"/\">%s</a></p></html>",
				     en ? "en" : "zh-CN", en ? "Signed out" : "退出登录",
				     html_escape(&r->arena, msg), en ? "tongban" : "返回通办");
	tb_http_reply(r, 200, "text/html; charset=utf-8", strdup(page), strlen(page));
}

static void client_create(struct tb_req *r)
{
	json_t *body = tb_http_json_body(r);
	if (!body)
		return;
	struct tb_db *db = tb_http_db(r);
	if (!db) {
		json_decref(body);
		return;
	}
	json_t *out = NULL;
	struct tb_err err = {0};
	struct tb_oidc_user u;
	user_of(r, &u);
	tb_rc rc = tb_oidc_client_create(db, body, u.user_id, &out, &err);
	json_decref(body);
	tb_http_reply_result(r, rc, &err, 201, out);
}

static void client_list(struct tb_req *r)
{
	int page, per_page;
	if (!tb_http_paging(r, &page, &per_page))
		return;
	struct tb_db *db = tb_http_db(r);
	if (!db)
		return;
	json_t *out = NULL;
	struct tb_err err = {0};
	tb_rc rc = tb_oidc_client_list(db, page, per_page, &out, &err);
	tb_http_reply_result(r, rc, &err, 200, out);
}

static void client_get(struct tb_req *r)
{
	struct tb_db *db = tb_http_db(r);
	if (!db)
		return;
	json_t *out = NULL;
	struct tb_err err = {0};
	tb_rc rc = tb_oidc_client_get(db, tb_http_param(r, "client_id"), &out, &err);
	tb_http_reply_result(r, rc, &err, 200, out);
}

const struct tb_route tb_oidc_routes[] = {
    {"GET", "/.well-known/openid-configuration", discovery, TB_AUTH_PUBLIC, 0, 0},
    {"GET", "/api/v1/oidc/jwks", jwks, TB_AUTH_PUBLIC, 0, 0},
    {"GET", "/api/v1/oidc/authorize", authorize, TB_AUTH_PUBLIC, 0, 0},
    {"POST", "/api/v1/oidc/token", token, TB_AUTH_PUBLIC, 0, 0},
    {"GET", "/api/v1/oidc/userinfo", userinfo, TB_AUTH_PUBLIC, 0, 0},
    {"POST", "/api/v1/oidc/userinfo", userinfo, TB_AUTH_PUBLIC, 0, 0},
    {"GET", "/api/v1/oidc/end_session", end_session, TB_AUTH_PUBLIC, 0, 0},
    {"GET", "/api/v1/oidc/consent/{id}", consent_get, TB_AUTH_USER, 0, 0},
    {"POST", "/api/v1/oidc/consent/{id}", consent_post, TB_AUTH_USER, 0, 0},
    {"POST", "/api/v1/oidc/clients", client_create, TB_AUTH_STAFF, TB_ROLE_PLATFORM_ADMIN, 0},
    {"GET", "/api/v1/oidc/clients", client_list, TB_AUTH_STAFF, TB_ROLE_PLATFORM_ADMIN, 0},
    {"GET", "/api/v1/oidc/clients/{client_id}", client_get, TB_AUTH_STAFF, TB_ROLE_PLATFORM_ADMIN,
     0},
    {NULL, NULL, NULL, 0, 0, 0},
};
