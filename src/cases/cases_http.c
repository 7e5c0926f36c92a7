/* cases_http.c: the routes of case handling (docs/cases.md): JSON and multipart in,
 * the cases block's functions, JSON or problems out. */
#include "cases/cases_http.h"
#include "base/crypto.h"
#include "base/jsonv.h"
#include "cases/blob.h"
#include "cases/cases.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Uploads: several files of up to TB_BLOB_MAX each in one request. */
#define UPLOAD_BODY (64u << 20)
#define MAX_PARTS   40

/* The end of a handler whose block may refuse with several fields or the allowed
 * actions. */
static void reply(struct tb_req *r, tb_rc rc, struct tb_case_problem *pb, unsigned status,
		  json_t *out)
{
	if (!rc) {
		tb_http_reply_json(r, status, out);
	} else if (rc == TB_EINVAL && pb->errors) {
		tb_http_reply_problem(r, 422, "validation", pb->err.msg, pb->errors);
		pb->errors = NULL;
	} else if (rc == TB_ECONFLICT && pb->allowed) {
		json_t *ext = json_pack("{s:O}", "allowed_actions", pb->allowed);
		json_t *errors = pb->err.field[0] ? json_pack("[{s:s,s:s}]", "field", pb->err.field,
							      "message", pb->err.msg)
						  : NULL;
		tb_http_reply_problem_ext(r, 409, "conflict", pb->err.msg, errors, ext);
	} else if (rc == TB_EINVAL && pb->allowed) {
		/* an unknown action: say which there are */
		json_t *ext = json_pack("{s:O}", "allowed_actions", pb->allowed);
		tb_http_reply_problem_ext(
		    r, 422, "validation", pb->err.msg,
		    json_pack("[{s:s,s:s}]", "field", pb->err.field, "message", pb->err.msg), ext);
	} else {
		tb_http_reply_rc(r, rc, &pb->err);
	}
	tb_case_problem_release(pb);
}

static bool id_param(struct tb_req *r, const char *name, int64_t *out)
{
	const char *s = tb_http_param(r, name);
	char *end;
	long long v = s ? strtoll(s, &end, 10) : 0;
	if (!s || !*s || *end || v <= 0) {
		tb_http_reply_error(r, 404, "not-found", name, "no such %s", name);
		return false;
	}
	*out = v;
	return true;
}

/* ---- drafts ---- */

static void create_draft(struct tb_req *r)
{
	static const char *const f[] = {"impl_code", NULL};
	json_t *body = tb_http_json_object(r, f);
	struct tb_db *db = body ? tb_http_db(r) : NULL;
	if (!db) {
		json_decref(body);
		return;
	}
	struct tb_case_problem pb = {0};
	const char *impl = NULL;
	json_t *out = NULL;
	tb_rc rc = tb_jv_str(body, "", "impl_code", true, 31, &impl, &pb.err)
		       ? tb_cases_draft_create(db, &r->principal, impl, NULL, &out, &pb)
		       : TB_EINVAL;
	reply(r, rc, &pb, 201, out);
	json_decref(body);
}

static void window_draft(struct tb_req *r)
{
	static const char *const f[] = {"impl_code", "applicant", "identity_checked", NULL};
	json_t *body = tb_http_json_object(r, f);
	struct tb_db *db = body ? tb_http_db(r) : NULL;
	if (!db) {
		json_decref(body);
		return;
	}
	struct tb_case_problem pb = {0};
	const char *impl = NULL;
	json_t *a = NULL, *out = NULL;
	bool checked = false;
	struct tb_walk_in w = {0};
	static const char *const af[] = {"name", "id_number", "phone", NULL};
	tb_rc rc = TB_EINVAL;
	if (tb_jv_str(body, "", "impl_code", true, 31, &impl, &pb.err) &&
	    tb_jv_object(body, "", "applicant", true, &a, &pb.err) &&
	    tb_jv_known_fields(a, "applicant", af, &pb.err) &&
	    tb_jv_str(a, "applicant", "name", true, 50, &w.name, &pb.err) &&
	    tb_jv_str(a, "applicant", "id_number", true, 18, &w.id_number, &pb.err) &&
	    tb_jv_str(a, "applicant", "phone", false, 11, &w.phone, &pb.err) &&
	    tb_jv_bool(body, "", "identity_checked", true, &checked, &pb.err)) {
		if (!checked)
			rc = tb_fail(&pb.err, TB_EINVAL, "identity_checked",
				     "窗口收件前须当面核验申请人身份");
		else
			rc = tb_cases_draft_create(db, &r->principal, impl, &w, &out, &pb);
	}
	reply(r, rc, &pb, 201, out);
	json_decref(body);
}

static void list_drafts(struct tb_req *r)
{
	int page, per_page;
	if (!tb_http_paging(r, &page, &per_page))
		return;
	struct tb_db *db = tb_http_db(r);
	if (!db)
		return;
	struct tb_err err = {0};
	json_t *out = NULL;
	tb_rc rc = tb_cases_drafts(db, &r->principal, page, per_page, &out, &err);
	tb_http_reply_result(r, rc, &err, 200, out);
}

static void get_draft(struct tb_req *r)
{
	int64_t id;
	struct tb_db *db;
	if (!id_param(r, "id", &id) || !(db = tb_http_db(r)))
		return;
	struct tb_err err = {0};
	json_t *out = NULL;
	tb_rc rc = tb_cases_draft_get(db, &r->principal, id, &out, &err);
	tb_http_reply_result(r, rc, &err, 200, out);
}

static void patch_draft(struct tb_req *r)
{
	static const char *const f[] = {"form", NULL};
	int64_t id;
	if (!id_param(r, "id", &id))
		return;
	json_t *body = tb_http_json_object(r, f);
	struct tb_db *db = body ? tb_http_db(r) : NULL;
	if (!db) {
		json_decref(body);
		return;
	}
	struct tb_case_problem pb = {0};
	json_t *form = NULL, *out = NULL;
	tb_rc rc = tb_jv_object(body, "", "form", true, &form, &pb.err)
		       ? tb_cases_draft_save(db, &r->principal, id, form, &out, &pb)
		       : TB_EINVAL;
	reply(r, rc, &pb, 200, out);
	json_decref(body);
}

static void delete_draft(struct tb_req *r)
{
	int64_t id;
	struct tb_db *db;
	if (!id_param(r, "id", &id) || !(db = tb_http_db(r)))
		return;
	struct tb_err err = {0};
	tb_rc rc = tb_cases_draft_delete(db, &r->principal, id, &err);
	if (rc)
		tb_http_reply_rc(r, rc, &err);
	else
		tb_http_reply(r, 204, NULL, NULL, 0);
}

/* A text part's value as an integer material number. */
static bool part_int(const struct tb_part *p, int *out)
{
	if (!p || !p->len || p->len > 6)
		return false;
	int v = 0;
	for (size_t i = 0; i < p->len; i++) {
		if (p->data[i] < '0' || p->data[i] > '9')
			return false;
		v = v * 10 + (p->data[i] - '0');
	}
	*out = v;
	return v > 0;
}

static const struct tb_part *part_named(const struct tb_part *parts, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(parts[i].name, name))
			return &parts[i];
	return NULL;
}

/* The one file of an upload form (`file`), with `material` and `purpose`. */
static bool upload_of(struct tb_req *r, struct tb_part *parts, size_t n, bool need_material,
		      struct tb_upload *up, char purpose[16])
{
	const struct tb_part *file = part_named(parts, n, "file");
	const struct tb_part *mat = part_named(parts, n, "material");
	const struct tb_part *pur = part_named(parts, n, "purpose");
	memset(up, 0, sizeof(*up));
	if (!file || !file->filename) {
		tb_http_reply_error(r, 422, "validation", "file", "请选择要上传的文件");
		return false;
	}
	if (mat && !part_int(mat, &up->material_seq)) {
		tb_http_reply_error(r, 422, "validation", "material", "material 为材料序号");
		return false;
	}
	if (need_material && !up->material_seq) {
		tb_http_reply_error(r, 422, "validation", "material", "请指明上传的是哪一项材料");
		return false;
	}
	purpose[0] = 0;
	if (pur) {
		if (pur->len >= 16) {
			tb_http_reply_error(r, 422, "validation", "purpose",
					    "purpose 为 correction、result 或 scan");
			return false;
		}
		memcpy(purpose, pur->data, pur->len);
		purpose[pur->len] = 0;
	}
	up->data = file->data;
	up->len = file->len;
	up->file_name = file->filename;
	up->declared_type = file->content_type;
	up->purpose = purpose;
	return true;
}

static void add_draft_file(struct tb_req *r)
{
	int64_t id;
	if (!id_param(r, "id", &id))
		return;
	struct tb_part parts[MAX_PARTS];
	size_t n;
	struct tb_upload up;
	char purpose[16];
	if (!tb_http_multipart(r, parts, MAX_PARTS, &n) ||
	    !upload_of(r, parts, n, true, &up, purpose))
		return;
	struct tb_db *db = tb_http_db(r);
	if (!db)
		return;
	struct tb_err err = {0};
	json_t *out = NULL;
	tb_rc rc = tb_cases_draft_file_add(db, &r->principal, id, &up, &out, &err);
	tb_http_reply_result(r, rc, &err, 201, out);
}

static void remove_draft_file(struct tb_req *r)
{
	int64_t id, file;
	struct tb_db *db;
	if (!id_param(r, "id", &id) || !id_param(r, "file_id", &file) || !(db = tb_http_db(r)))
		return;
	struct tb_err err = {0};
	tb_rc rc = tb_cases_draft_file_remove(db, &r->principal, id, file, &err);
	if (rc)
		tb_http_reply_rc(r, rc, &err);
	else
		tb_http_reply(r, 204, NULL, NULL, 0);
}

static void put_deferral(struct tb_req *r)
{
	static const char *const f[] = {"commitment", NULL};
	int64_t id, seq;
	if (!id_param(r, "id", &id) || !id_param(r, "seq", &seq))
		return;
	json_t *body = tb_http_json_object(r, f);
	struct tb_db *db = body ? tb_http_db(r) : NULL;
	if (!db) {
		json_decref(body);
		return;
	}
	struct tb_err err = {0};
	const char *commitment = NULL;
	json_t *out = NULL;
	tb_rc rc =
	    tb_jv_str(body, "", "commitment", true, 1000, &commitment, &err)
		? tb_cases_draft_defer(db, &r->principal, id, (int)seq, commitment, &out, &err)
		: TB_EINVAL;
	tb_http_reply_result(r, rc, &err, 200, out);
	json_decref(body);
}

static void delete_deferral(struct tb_req *r)
{
	int64_t id, seq;
	struct tb_db *db;
	if (!id_param(r, "id", &id) || !id_param(r, "seq", &seq) || !(db = tb_http_db(r)))
		return;
	struct tb_err err = {0};
	tb_rc rc = tb_cases_draft_defer(db, &r->principal, id, (int)seq, NULL, NULL, &err);
	if (rc)
		tb_http_reply_rc(r, rc, &err);
	else
		tb_http_reply(r, 204, NULL, NULL, 0);
}

static void submit_draft(struct tb_req *r)
{
	int64_t id;
	struct tb_db *db;
	if (!id_param(r, "id", &id) || !(db = tb_http_db(r)))
		return;
	struct tb_case_problem pb = {0};
	json_t *out = NULL;
	bool created = false;
	tb_rc rc = tb_cases_draft_submit(db, &r->principal, id, &out, &created, &pb);
	reply(r, rc, &pb, created ? 201 : 200, out);
}

/* ---- one-request applications ---- */

static void apply(struct tb_req *r)
{
	const char *key = tb_http_header(r, "Idempotency-Key");
	struct tb_part parts[MAX_PARTS];
	size_t n;
	if (!key || !*key || strlen(key) > 128) {
		tb_http_reply_error(r, 422, "validation", "Idempotency-Key",
				    "请在 Idempotency-Key 头中给出 1 至 128 个字符的幂等键");
		return;
	}
	if (!tb_http_multipart(r, parts, MAX_PARTS, &n))
		return;
	const struct tb_part *app = part_named(parts, n, "application");
	if (!app) {
		tb_http_reply_error(r, 422, "validation", "application",
				    "缺少 application 部分（申请的 JSON）");
		return;
	}
	json_error_t jerr;
	json_t *doc = json_loadb(app->data, app->len, JSON_REJECT_DUPLICATES, &jerr);
	struct tb_err err = {0};
	static const char *const f[] = {"impl_code", "form", "deferrals", NULL};
	json_t *form = NULL, *defs = NULL;
	const char *impl = NULL;
	if (!json_is_object(doc)) {
		json_decref(doc);
		tb_http_reply_error(r, 400, "bad-json", "application",
				    "application 不是 JSON 对象：%s", jerr.text);
		return;
	}
	if (!tb_jv_known_fields(doc, "application", f, &err) ||
	    !tb_jv_str(doc, "application", "impl_code", true, 31, &impl, &err) ||
	    !tb_jv_object(doc, "application", "form", true, &form, &err) ||
	    !tb_jv_array(doc, "application", "deferrals", false, 50, &defs, &err)) {
		json_decref(doc);
		tb_http_reply_rc(r, TB_EINVAL, &err);
		return;
	}
	struct tb_upload files[MAX_PARTS];
	struct tb_blob_info blobs[MAX_PARTS];
	size_t nf = 0;
	for (size_t i = 0; i < n; i++) {
		if (!strcmp(parts[i].name, "application"))
			continue;
		int seq = 0;
		struct tb_part num = {.data = parts[i].name + 9,
				      .len = strlen(parts[i].name) > 9 ? strlen(parts[i].name) - 9
								       : 0};
		if (strncmp(parts[i].name, "material_", 9) || !part_int(&num, &seq) ||
		    !parts[i].filename) {
			json_decref(doc);
			tb_http_reply_error(r, 422, "validation", parts[i].name,
					    "文件部分的名字为 material_<材料序号>");
			return;
		}
		/* the bytes are typed and hashed here, outside the write transaction */
		tb_rc rc = tb_blob_prepare(parts[i].data, parts[i].len, parts[i].content_type,
					   parts[i].name, &blobs[nf], &err);
		if (rc) {
			json_decref(doc);
			tb_http_reply_rc(r, rc, &err);
			return;
		}
		files[nf] = (struct tb_upload){
		    parts[i].data, parts[i].len,  parts[i].filename, parts[i].content_type,
		    seq,	   "application", &blobs[nf]};
		nf++;
	}
	/* the same key must come with the same request: a fingerprint (SM3) of its parts,
	 * the files by their SHA-256 (not the boundary, which clients draw afresh) */
	uint8_t h[TB_SM3_LEN];
	char hex[2 * TB_SM3_LEN + 1];
	struct tb_buf fp;
	tb_buf_init(&fp, 0);
	tb_buf_append(&fp, app->data, app->len);
	for (size_t i = 0; i < nf; i++)
		tb_buf_printf(&fp, "\n%d\n%s\n%s", files[i].material_seq, files[i].file_name,
			      blobs[i].sha256);
	tb_sm3(fp.data, fp.len, h);
	tb_buf_release(&fp);
	for (size_t i = 0; i < TB_SM3_LEN; i++)
		snprintf(hex + 2 * i, 3, "%02x", h[i]);
	struct tb_db *db = tb_http_db(r);
	if (!db) {
		json_decref(doc);
		return;
	}
	struct tb_application a = {impl, form, defs, files, nf, key, hex};
	struct tb_case_problem pb = {0};
	json_t *out = NULL;
	bool replayed = false;
	tb_rc rc = tb_cases_apply(db, &r->principal, &a, &out, &replayed, &pb);
	if (!rc && replayed)
		tb_http_add_header(r, "Idempotent-Replayed", "true");
	reply(r, rc, &pb, 201, out);
	json_decref(doc);
}

/* ---- cases ---- */

static void get_case(struct tb_req *r)
{
	struct tb_db *db = tb_http_db(r);
	if (!db)
		return;
	struct tb_err err = {0};
	json_t *out = NULL;
	tb_rc rc = tb_cases_get(db, &r->principal, tb_http_param(r, "case_no"), &out, &err);
	tb_http_reply_result(r, rc, &err, 200, out);
}

static void act(struct tb_req *r)
{
	static const char *const f[] = {"action",   "comment", "corrections", "procedure", "days",
					"delivery", "files",   "version",     NULL};
	json_t *body = tb_http_json_object(r, f);
	struct tb_db *db = body ? tb_http_db(r) : NULL;
	if (!db) {
		json_decref(body);
		return;
	}
	struct tb_case_problem pb = {0};
	json_t *out = NULL;
	tb_rc rc = tb_cases_act(db, &r->principal, tb_http_param(r, "case_no"), body, &out, &pb);
	reply(r, rc, &pb, 200, out);
	json_decref(body);
}

static void add_case_file(struct tb_req *r)
{
	struct tb_part parts[MAX_PARTS];
	size_t n;
	struct tb_upload up;
	char purpose[16];
	if (!tb_http_multipart(r, parts, MAX_PARTS, &n) ||
	    !upload_of(r, parts, n, false, &up, purpose))
		return;
	struct tb_db *db = tb_http_db(r);
	if (!db)
		return;
	struct tb_err err = {0};
	json_t *out = NULL;
	tb_rc rc =
	    tb_cases_file_add(db, &r->principal, tb_http_param(r, "case_no"), &up, &out, &err);
	tb_http_reply_result(r, rc, &err, 201, out);
}

/* A file as it was uploaded: inline, never sniffed or run by the browser. */
static void send_file(struct tb_req *r, bool result)
{
	int64_t id = 0;
	if (!result && !id_param(r, "file_id", &id))
		return;
	struct tb_db *db = tb_http_db(r);
	if (!db)
		return;
	struct tb_buf data;
	tb_buf_init(&data, 0);
	struct tb_case_file f = {.data = &data};
	struct tb_err err = {0};
	tb_rc rc =
	    tb_cases_file_get(db, &r->principal, tb_http_param(r, "case_no"), id, result, &f, &err);
	if (rc) {
		tb_buf_release(&data);
		tb_http_reply_rc(r, rc, &err);
		return;
	}
	/* RFC 6266 / 8187: the name percent-encoded as UTF-8 */
	struct tb_buf cd;
	tb_buf_init(&cd, 0);
	tb_buf_printf(&cd, "%s; filename*=UTF-8''", result ? "attachment" : "inline");
	for (const unsigned char *s = (const unsigned char *)f.file_name; *s; s++) {
		if ((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		    (*s >= '0' && *s <= '9') || strchr("-._~", *s))
			tb_buf_putc(&cd, (char)*s);
		else
			tb_buf_printf(&cd, "%%%02X", *s);
	}
	tb_buf_putc(&cd, 0);
	tb_http_add_header(r, "Content-Disposition", tb_arena_strdup(&r->arena, cd.data));
	tb_buf_release(&cd);
	tb_http_add_header(r, "Content-Security-Policy", "sandbox; default-src 'none'");
	tb_http_add_header(r, "Cache-Control", "private, no-store");
	size_t len = data.len;
	char *body = tb_buf_steal(&data, &len);
	tb_http_reply(r, 200, f.mime, body, len);
}

static void get_case_file(struct tb_req *r)
{
	send_file(r, false);
}

static void get_result(struct tb_req *r)
{
	send_file(r, true);
}

static void assign(struct tb_req *r)
{
	static const char *const f[] = {"user_id", NULL};
	json_t *body = tb_http_json_object(r, f);
	struct tb_db *db = body ? tb_http_db(r) : NULL;
	if (!db) {
		json_decref(body);
		return;
	}
	struct tb_err err = {0};
	long user = 0;
	json_t *out = NULL;
	tb_rc rc =
	    tb_jv_int(body, "", "user_id", true, 1, 0x7fffffffL, &user, &err)
		? tb_cases_assign(db, &r->principal, tb_http_param(r, "case_no"), user, &out, &err)
		: TB_EINVAL;
	tb_http_reply_result(r, rc, &err, 200, out);
	json_decref(body);
}

/* ---- the applicant's lists ---- */

static void my_cases(struct tb_req *r)
{
	int page, per_page;
	if (!tb_http_paging(r, &page, &per_page))
		return;
	const char *state = tb_http_query(r, "state");
	if (state && strlen(state) > 40) {
		tb_http_reply_error(r, 400, "bad-request", "state", "state is a state name");
		return;
	}
	struct tb_db *db = tb_http_db(r);
	if (!db)
		return;
	struct tb_err err = {0};
	json_t *out = NULL;
	tb_rc rc = tb_cases_mine(db, &r->principal, state && *state ? state : NULL, page, per_page,
				 &out, &err);
	tb_http_reply_result(r, rc, &err, 200, out);
}

static void notifications(struct tb_req *r)
{
	int page, per_page;
	if (!tb_http_paging(r, &page, &per_page))
		return;
	const char *u = tb_http_query(r, "unread");
	if (u && strcmp(u, "true") && strcmp(u, "false")) {
		tb_http_reply_error(r, 400, "bad-request", "unread", "unread is true or false");
		return;
	}
	struct tb_db *db = tb_http_db(r);
	if (!db)
		return;
	struct tb_err err = {0};
	json_t *out = NULL;
	tb_rc rc = tb_cases_notifications(db, &r->principal, u && !strcmp(u, "true"), page,
					  per_page, &out, &err);
	tb_http_reply_result(r, rc, &err, 200, out);
}

static void read_notification(struct tb_req *r)
{
	int64_t id;
	struct tb_db *db;
	if (!id_param(r, "id", &id) || !(db = tb_http_db(r)))
		return;
	struct tb_err err = {0};
	tb_rc rc = tb_cases_notification_read(db, &r->principal, id, &err);
	if (rc)
		tb_http_reply_rc(r, rc, &err);
	else
		tb_http_reply(r, 204, NULL, NULL, 0);
}

static void read_all(struct tb_req *r)
{
	struct tb_db *db = tb_http_db(r);
	if (!db)
		return;
	struct tb_err err = {0};
	tb_rc rc = tb_cases_notification_read(db, &r->principal, 0, &err);
	if (rc)
		tb_http_reply_rc(r, rc, &err);
	else
		tb_http_reply(r, 204, NULL, NULL, 0);
}

/* ---- the workbench ---- */

static void summary(struct tb_req *r)
{
	struct tb_db *db = tb_http_db(r);
	if (!db)
		return;
	struct tb_err err = {0};
	json_t *out = NULL;
	tb_rc rc = tb_cases_queue_summary(db, &r->principal, &out, &err);
	tb_http_reply_result(r, rc, &err, 200, out);
}

static void queue(struct tb_req *r)
{
	int page, per_page;
	if (!tb_http_paging(r, &page, &per_page))
		return;
	struct tb_db *db = tb_http_db(r);
	if (!db)
		return;
	struct tb_err err = {0};
	json_t *out = NULL;
	tb_rc rc = tb_cases_queue(db, &r->principal, tb_http_query(r, "queue"),
				  tb_http_query(r, "q"), page, per_page, &out, &err);
	if (rc == TB_EINVAL)
		tb_http_reply_error(r, 400, "bad-request", err.field, "%s", err.msg);
	else
		tb_http_reply_result(r, rc, &err, 200, out);
}

static void batch(struct tb_req *r)
{
	static const char *const f[] = {"action", "case_nos", "comment", NULL};
	json_t *body = tb_http_json_object(r, f);
	struct tb_db *db = body ? tb_http_db(r) : NULL;
	if (!db) {
		json_decref(body);
		return;
	}
	struct tb_err err = {0};
	json_t *out = NULL;
	tb_rc rc = tb_cases_batch(db, &r->principal, body, &out, &err);
	tb_http_reply_result(r, rc, &err, 200, out);
	json_decref(body);
}

/* ---- workflows and the calendar ---- */

static void list_workflows(struct tb_req *r)
{
	struct tb_db *db = tb_http_db(r);
	if (!db)
		return;
	struct tb_err err = {0};
	json_t *out = NULL;
	tb_rc rc = tb_cases_workflows(db, &out, &err);
	tb_http_reply_result(r, rc, &err, 200, out);
}

static void get_workflow(struct tb_req *r)
{
	struct tb_db *db = tb_http_db(r);
	if (!db)
		return;
	struct tb_err err = {0};
	json_t *out = NULL;
	tb_rc rc = tb_cases_workflow_get(db, tb_http_param(r, "key"), &out, &err);
	tb_http_reply_result(r, rc, &err, 200, out);
}

static void put_workflow(struct tb_req *r)
{
	json_t *body = tb_http_json_object(r, NULL);
	struct tb_db *db = body ? tb_http_db(r) : NULL;
	if (!db) {
		json_decref(body);
		return;
	}
	struct tb_err err = {0};
	json_t *out = NULL;
	tb_rc rc =
	    tb_cases_workflow_put(db, &r->principal, tb_http_param(r, "key"), body, &out, &err);
	tb_http_reply_result(r, rc, &err, 200, out);
	json_decref(body);
}

static bool year_param(struct tb_req *r, int *year)
{
	const char *s = tb_http_param(r, "year");
	if (!s || strlen(s) != 4 || s[0] < '1' || s[0] > '2' || !strchr("0123456789", s[1]) ||
	    !strchr("0123456789", s[2]) || !strchr("0123456789", s[3])) {
		tb_http_reply_error(r, 404, "not-found", "year", "year is four digits");
		return false;
	}
	*year = atoi(s);
	return true;
}

static void get_calendar(struct tb_req *r)
{
	int year;
	struct tb_db *db;
	if (!year_param(r, &year) || !(db = tb_http_db(r)))
		return;
	struct tb_err err = {0};
	json_t *out = NULL;
	tb_rc rc = tb_cases_calendar_get(db, year, &out, &err);
	tb_http_reply_result(r, rc, &err, 200, out);
}

static void put_calendar(struct tb_req *r)
{
	int year;
	if (!year_param(r, &year))
		return;
	json_t *body =
	    tb_http_json_object(r, NULL); /* well-formed JSON, then the text as it came */
	struct tb_db *db = body ? tb_http_db(r) : NULL;
	json_decref(body);
	if (!db)
		return;
	struct tb_err err = {0};
	tb_rc rc = tb_cases_calendar_put(db, &r->principal, year, r->body.data, r->body.len, &err);
	json_t *out = NULL;
	if (!rc)
		rc = tb_cases_calendar_get(db, year, &out, &err);
	tb_http_reply_result(r, rc, &err, 200, out);
}

#define WORKERS                                                                                    \
	(TB_ROLE_CLERK | TB_ROLE_APPROVER | TB_ROLE_DEPT_ADMIN | TB_ROLE_SUPERVISOR |              \
	 TB_ROLE_PLATFORM_ADMIN)

const struct tb_route tb_cases_routes[] = {
    {"POST", "/api/v1/drafts", create_draft, TB_AUTH_PERSON, 0, 0},
    {"GET", "/api/v1/drafts", list_drafts, TB_AUTH_USER, 0, 0},
    {"GET", "/api/v1/drafts/{id}", get_draft, TB_AUTH_USER, 0, 0},
    {"PATCH", "/api/v1/drafts/{id}", patch_draft, TB_AUTH_USER, 0, 0},
    {"DELETE", "/api/v1/drafts/{id}", delete_draft, TB_AUTH_USER, 0, 0},
    {"POST", "/api/v1/drafts/{id}/materials", add_draft_file, TB_AUTH_USER, 0, UPLOAD_BODY},
    {"DELETE", "/api/v1/drafts/{id}/materials/{file_id}", remove_draft_file, TB_AUTH_USER, 0, 0},
    {"PUT", "/api/v1/drafts/{id}/deferrals/{seq}", put_deferral, TB_AUTH_USER, 0, 0},
    {"DELETE", "/api/v1/drafts/{id}/deferrals/{seq}", delete_deferral, TB_AUTH_USER, 0, 0},
    {"POST", "/api/v1/drafts/{id}/submit", submit_draft, TB_AUTH_USER, 0, 0},
    {"POST", "/api/v1/window/drafts", window_draft, TB_AUTH_STAFF, TB_ROLE_CLERK, 0},
    {"POST", "/api/v1/cases", apply, TB_AUTH_PERSON, 0, UPLOAD_BODY},
    {"GET", "/api/v1/cases/{case_no}", get_case, TB_AUTH_USER, 0, 0},
    {"POST", "/api/v1/cases/{case_no}/actions", act, TB_AUTH_USER, 0, 0},
    {"POST", "/api/v1/cases/{case_no}/files", add_case_file, TB_AUTH_USER, 0, UPLOAD_BODY},
    {"GET", "/api/v1/cases/{case_no}/files/{file_id}", get_case_file, TB_AUTH_USER, 0, 0},
    {"GET", "/api/v1/cases/{case_no}/result", get_result, TB_AUTH_USER, 0, 0},
    {"POST", "/api/v1/cases/{case_no}/assignee", assign, TB_AUTH_STAFF, WORKERS, 0},
    {"GET", "/api/v1/me/cases", my_cases, TB_AUTH_PERSON, 0, 0},
    {"GET", "/api/v1/me/notifications", notifications, TB_AUTH_USER, 0, 0},
    {"POST", "/api/v1/me/notifications/read-all", read_all, TB_AUTH_USER, 0, 0},
    {"POST", "/api/v1/me/notifications/{id}/read", read_notification, TB_AUTH_USER, 0, 0},
    {"GET", "/api/v1/workbench/summary", summary, TB_AUTH_STAFF, WORKERS, 0},
    {"GET", "/api/v1/workbench/cases", queue, TB_AUTH_STAFF, WORKERS, 0},
    {"POST", "/api/v1/workbench/batch", batch, TB_AUTH_STAFF, TB_ROLE_CLERK | TB_ROLE_APPROVER, 0},
    {"GET", "/api/v1/workflows", list_workflows, TB_AUTH_STAFF, 0, 0},
    {"GET", "/api/v1/workflows/{key}", get_workflow, TB_AUTH_STAFF, 0, 0},
    {"PUT", "/api/v1/workflows/{key}", put_workflow, TB_AUTH_STAFF,
     TB_ROLE_PLATFORM_ADMIN | TB_ROLE_DEPT_ADMIN, 0},
    {"GET", "/api/v1/calendar/{year}", get_calendar, TB_AUTH_PUBLIC, 0, 0},
    {"PUT", "/api/v1/calendar/{year}", put_calendar, TB_AUTH_STAFF, TB_ROLE_PLATFORM_ADMIN, 0},
    {NULL, NULL, NULL, 0, 0, 0},
};
