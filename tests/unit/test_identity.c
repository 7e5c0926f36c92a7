/* test_identity.c: the identity block without a server, on SQLite, with a clock the
 * test moves: sessions expire (absolute and idle), last_seen_at is
 * written at most once a minute, the lockout backs off, passwords are rehashed when the
 * parameters change, personal data is sealed at rest, a TOTP step is used once.
 * (The same behaviour through HTTP on both stores: tests/api/cases/08*.) */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <liboath/oath.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "identity/identity.h"
#include "store/store.h"

struct fixture {
	char dir[64];
	struct tb_store *store;
	struct tb_db *db;
};

static struct tb_identity_config config(const char *key, unsigned long long ops)
{
	struct tb_identity_config c = {.key_file = key,
				       .create_key = true,
				       .session_ttl = 3600,
				       .session_idle = 600,
				       .pwhash_ops = ops,
				       .pwhash_mem = 8u << 20};
	return c;
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	strcpy(f->dir, "/tmp/tb-test-identity.XXXXXX");
	if (!mkdtemp(f->dir))
		return -1;
	char key[128], url[160];
	snprintf(key, sizeof(key), "%s/key", f->dir);
	struct tb_identity_config c = config(key, 2);
	struct tb_err err = {0};
	if (tb_identity_init(&c, &err))
		return -1;
	snprintf(url, sizeof(url), "sqlite:%s/t.db", f->dir);
	if (tb_store_open(url, &f->store, &err) || tb_store_migrate(f->store, NULL, &err))
		return -1;
	f->db = tb_store_db(f->store, &err);
	*state = f;
	return f->db ? 0 : -1;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	tb_store_free(f->store);
	tb_identity_shutdown();
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	int rc = system(cmd);
	free(f);
	return rc ? -1 : 0;
}

static const struct tb_person_in zhang = {"张三", "440106199001011235", "13912340001",
					  "Zhangsan@2026"};

static struct tb_login_out login(struct fixture *f, const char *pw, long long now)
{
	struct tb_login_in in = {
	    .login = "13912340001", .password = pw, .bearer = true, .ip = "192.0.2.1"};
	struct tb_login_out out;
	struct tb_err err = {0};
	assert_int_equal(tb_identity_login(f->db, &in, now, &out, &err), TB_OK);
	return out;
}

static void test_sealed_at_rest(void **state)
{
	struct fixture *f = *state;
	struct tb_err err = {0};
	int64_t id;
	assert_int_equal(tb_identity_register(f->db, &zhang, &id, &err), TB_OK);
	assert_true(id > 0);
	/* nothing in the row shows the number or the phone */
	struct tb_stmt *st;
	bool row;
	assert_int_equal(tb_db_prepare(f->db,
				       "SELECT id_number_sealed, id_number_masked, phone_sealed, "
				       "phone_index FROM users WHERE id = ?",
				       &st),
			 TB_OK);
	tb_stmt_bind_int(st, 1, id);
	assert_int_equal(tb_stmt_step(st, &row), TB_OK);
	assert_true(row);
	for (int c = 0; c < 4; c++) {
		assert_null(strstr(tb_stmt_text(st, c), "199001011235"));
		assert_null(strstr(tb_stmt_text(st, c), "12340001"));
	}
	assert_string_equal(tb_stmt_text(st, 1), "4401**********1235");
	tb_stmt_done(st);
	/* the holder reads it back */
	json_t *me;
	assert_int_equal(tb_identity_me(f->db, id, &me, &err), TB_OK);
	assert_string_equal(json_string_value(json_object_get(me, "id_number")),
			    "440106199001011235");
	json_decref(me);
	/* a second registration of the same number changes nothing and says the same */
	struct tb_person_in again = zhang;
	again.password = "Other-pass-2026";
	again.phone = "13912349999";
	assert_int_equal(tb_identity_register(f->db, &again, &id, &err), TB_OK);
	assert_int_equal(id, 0);
}

static void test_session_expiry(void **state)
{
	struct fixture *f = *state;
	struct tb_err err = {0};
	int64_t id;
	assert_int_equal(tb_identity_register(f->db, &zhang, &id, &err), TB_OK);
	long long t0 = 1900000000;
	struct tb_login_out out = login(f, "Zhangsan@2026", t0);
	assert_int_equal(out.result, TB_LOGIN_OK);
	struct tb_principal p;
	/* a bearer token is not a cookie */
	assert_int_equal(tb_identity_session_lookup(f->db, out.token, true, t0, &p, &err), TB_OK);
	assert_int_equal(p.kind, TB_PRINCIPAL_ANONYMOUS);
	/* used every 5 minutes it lives until the absolute expiry, not past it */
	long long t;
	for (t = t0; t < t0 + 3600; t += 300) {
		assert_int_equal(tb_identity_session_lookup(f->db, out.token, false, t, &p, &err),
				 TB_OK);
		assert_int_equal(p.kind, TB_PRINCIPAL_PERSON);
	}
	assert_int_equal(tb_identity_session_lookup(f->db, out.token, false, t0 + 3600, &p, &err),
			 TB_OK);
	assert_int_equal(p.kind, TB_PRINCIPAL_ANONYMOUS);
	/* idle for longer than the idle timeout: gone */
	out = login(f, "Zhangsan@2026", t0);
	assert_int_equal(tb_identity_session_lookup(f->db, out.token, false, t0 + 599, &p, &err),
			 TB_OK);
	assert_int_equal(p.kind, TB_PRINCIPAL_PERSON);
	assert_int_equal(
	    tb_identity_session_lookup(f->db, out.token, false, t0 + 599 + 600, &p, &err), TB_OK);
	assert_int_equal(p.kind, TB_PRINCIPAL_ANONYMOUS);
}

static int64_t last_seen(struct fixture *f, int64_t session)
{
	struct tb_stmt *st;
	bool row;
	int64_t v = -1;
	assert_int_equal(
	    tb_db_prepare(f->db, "SELECT last_seen_at FROM sessions WHERE id = ?", &st), TB_OK);
	tb_stmt_bind_int(st, 1, session);
	if (!tb_stmt_step(st, &row) && row)
		v = tb_stmt_int(st, 0);
	tb_stmt_done(st);
	return v;
}

static void test_touch_throttled(void **state)
{
	struct fixture *f = *state;
	struct tb_err err = {0};
	int64_t id;
	assert_int_equal(tb_identity_register(f->db, &zhang, &id, &err), TB_OK);
	long long t0 = 1900000000;
	struct tb_login_out out = login(f, "Zhangsan@2026", t0);
	struct tb_principal p;
	tb_identity_session_lookup(f->db, out.token, false, t0 + 30, &p, &err);
	assert_int_equal(last_seen(f, out.session_id), t0);
	tb_identity_session_lookup(f->db, out.token, false, t0 + 61, &p, &err);
	assert_int_equal(last_seen(f, out.session_id), t0 + 61);
}

static void test_lockout_backoff(void **state)
{
	struct fixture *f = *state;
	struct tb_err err = {0};
	int64_t id;
	assert_int_equal(tb_identity_register(f->db, &zhang, &id, &err), TB_OK);
	long long t = 1900000000;
	for (int i = 0; i < 5; i++)
		assert_int_equal(login(f, "wrong-password", t).result, TB_LOGIN_INVALID);
	struct tb_login_out out = login(f, "Zhangsan@2026", t);
	assert_int_equal(out.result, TB_LOGIN_LOCKED);
	assert_int_equal(out.retry_after, 30);
	/* after the lock, one more failure locks for twice as long */
	t += 31;
	assert_int_equal(login(f, "wrong-password", t).result, TB_LOGIN_INVALID);
	out = login(f, "Zhangsan@2026", t);
	assert_int_equal(out.result, TB_LOGIN_LOCKED);
	assert_int_equal(out.retry_after, 60);
	/* and the right password after that logs in and clears the count */
	t += 61;
	assert_int_equal(login(f, "Zhangsan@2026", t).result, TB_LOGIN_OK);
	assert_int_equal(login(f, "wrong-password", t).result, TB_LOGIN_INVALID);
	assert_int_equal(login(f, "Zhangsan@2026", t).result, TB_LOGIN_OK);
}

static void test_rehash(void **state)
{
	struct fixture *f = *state;
	struct tb_err err = {0};
	int64_t id;
	assert_int_equal(tb_identity_register(f->db, &zhang, &id, &err), TB_OK);
	/* the parameters change (ops 2 -> 3): the next login rehashes */
	char key[128];
	snprintf(key, sizeof(key), "%s/key", f->dir);
	struct tb_identity_config c = config(key, 3);
	assert_int_equal(tb_identity_init(&c, &err), TB_OK);
	assert_int_equal(login(f, "Zhangsan@2026", 1900000000).result, TB_LOGIN_OK);
	struct tb_stmt *st;
	bool row;
	assert_int_equal(tb_db_prepare(f->db, "SELECT password_hash FROM users WHERE id = ?", &st),
			 TB_OK);
	tb_stmt_bind_int(st, 1, id);
	assert_int_equal(tb_stmt_step(st, &row), TB_OK);
	assert_non_null(strstr(tb_stmt_text(st, 0), "$argon2id$"));
	assert_non_null(strstr(tb_stmt_text(st, 0), ",t=3,"));
	tb_stmt_done(st);
	assert_int_equal(login(f, "Zhangsan@2026", 1900000000).result, TB_LOGIN_OK);
}

static void test_totp_once(void **state)
{
	struct fixture *f = *state;
	struct tb_err err = {0};
	struct tb_staff_in in = {.name = "郑测试",
				 .id_number = "440106199505050115",
				 .phone = "13700000006",
				 .roles = TB_ROLE_AUDITOR,
				 .password = "TotpTest@2026",
				 .totp_secret = "TOTPTESTERAAAAAATOTPTESTERAAAAAA"};
	struct tb_staff_out so;
	assert_int_equal(tb_identity_staff_create(f->db, &in, 0, &so, &err), TB_OK);
	char *secret;
	size_t slen;
	assert_int_equal(oath_base32_decode(in.totp_secret, strlen(in.totp_secret), &secret, &slen),
			 OATH_OK);
	time_t now = 1900000000;
	char code[7], prev[7];
	assert_int_equal(oath_totp_generate(secret, slen, now, 30, 0, 6, code), OATH_OK);
	assert_int_equal(oath_totp_generate(secret, slen, now - 30, 30, 0, 6, prev), OATH_OK);
	free(secret);
	struct tb_login_in li = {.login = "440106199505050115",
				 .password = "TotpTest@2026",
				 .staff = true,
				 .totp = code,
				 .bearer = true,
				 .ip = "192.0.2.2"};
	struct tb_login_out out;
	assert_int_equal(tb_identity_login(f->db, &li, now, &out, &err), TB_OK);
	assert_int_equal(out.result, TB_LOGIN_OK);
	/* the same code again, or the one before it (inside the window): refused */
	assert_int_equal(tb_identity_login(f->db, &li, now + 1, &out, &err), TB_OK);
	assert_int_equal(out.result, TB_LOGIN_TOTP_INVALID);
	li.totp = prev;
	assert_int_equal(tb_identity_login(f->db, &li, now + 1, &out, &err), TB_OK);
	assert_int_equal(out.result, TB_LOGIN_TOTP_INVALID);
	/* the next step's code is fresh */
	char next[7];
	assert_int_equal(oath_base32_decode(in.totp_secret, strlen(in.totp_secret), &secret, &slen),
			 OATH_OK);
	assert_int_equal(oath_totp_generate(secret, slen, now + 30, 30, 0, 6, next), OATH_OK);
	free(secret);
	li.totp = next;
	assert_int_equal(tb_identity_login(f->db, &li, now + 30, &out, &err), TB_OK);
	assert_int_equal(out.result, TB_LOGIN_OK);
}

static void test_claims_and_assurance(void **state)
{
	struct fixture *f = *state;
	struct tb_err err = {0};
	int64_t id;
	assert_int_equal(tb_identity_register(f->db, &zhang, &id, &err), TB_OK);
	struct tb_principal p = {.kind = TB_PRINCIPAL_PERSON, .user_id = id, .assurance = 1};
	/* a region table row is not needed: enterprises keep the code as given */
	struct tb_enterprise_in e = {"广州示例科技有限公司", "91440106MA5X12349Y", "张三",
				     "440106199001011235", "440106"};
	json_t *out = NULL;
	assert_int_equal(tb_identity_enterprise_create(f->db, &p, &e, &out, &err), TB_OK);
	json_decref(out);
	json_t *c;
	assert_int_equal(tb_identity_claims(f->db, id,
					    TB_CLAIMS_PROFILE | TB_CLAIMS_PHONE | TB_CLAIMS_IDCARD |
						TB_CLAIMS_ENTERPRISE,
					    false, &c, &err),
			 TB_OK);
	char sub[24];
	snprintf(sub, sizeof(sub), "%lld", (long long)id);
	assert_string_equal(json_string_value(json_object_get(c, "sub")), sub);
	assert_string_equal(json_string_value(json_object_get(c, "name")), "张三");
	assert_string_equal(json_string_value(json_object_get(c, "acr")), "tongban:l1");
	assert_string_equal(json_string_value(json_object_get(c, "phone_number")), "13912340001");
	assert_string_equal(json_string_value(json_object_get(c, "id_number")),
			    "4401**********1235");
	json_t *ent = json_array_get(json_object_get(c, "enterprises"), 0);
	assert_string_equal(json_string_value(json_object_get(ent, "uscc")), "91440106MA5X12349Y");
	assert_string_equal(json_string_value(json_object_get(ent, "capacity")), "legal_rep");
	json_decref(c);
	/* full_id: the whole number; no scope: sub and kind only */
	assert_int_equal(tb_identity_claims(f->db, id, TB_CLAIMS_IDCARD, true, &c, &err), TB_OK);
	assert_string_equal(json_string_value(json_object_get(c, "id_number")),
			    "440106199001011235");
	json_decref(c);
	assert_int_equal(tb_identity_claims(f->db, id, 0, false, &c, &err), TB_OK);
	assert_int_equal(json_object_size(c), 2);
	json_decref(c);
	assert_int_equal(tb_identity_claims(f->db, id + 1000, 0, false, &c, &err), TB_ENOTFOUND);
	/* a service requiring L2 refuses L1, accepts L3 */
	assert_int_equal(tb_identity_require_assurance(&p, 2, &err), TB_EFORBIDDEN);
	p.assurance = 3;
	assert_int_equal(tb_identity_require_assurance(&p, 2, &err), TB_OK);
	p.kind = TB_PRINCIPAL_ANONYMOUS;
	assert_int_equal(tb_identity_require_assurance(&p, 1, &err), TB_EUNAUTH);
}

static void test_principal_helpers(void **state)
{
	(void)state;
	struct tb_principal p = {.kind = TB_PRINCIPAL_STAFF, .ngrants = 2};
	p.grants[0] = (struct tb_grant){TB_ROLE_APPROVER, "11440100008446488A", "4401"};
	p.grants[1] = (struct tb_grant){TB_ROLE_AUDITOR, "", ""};
	/* Guangzhou and below, that department */
	assert_true(tb_principal_has_role(&p, TB_ROLE_APPROVER, "11440100008446488A", "4401"));
	assert_true(tb_principal_has_role(&p, TB_ROLE_APPROVER, "11440100008446488A", "440106"));
	assert_true(tb_principal_has_role(&p, TB_ROLE_APPROVER, NULL, "440106001"));
	/* not Shenzhen, not another department, not the province above */
	assert_false(tb_principal_has_role(&p, TB_ROLE_APPROVER, "11440100008446488A", "4403"));
	assert_false(tb_principal_has_role(&p, TB_ROLE_APPROVER, "11440300008604861B", "4401"));
	assert_false(tb_principal_has_role(&p, TB_ROLE_APPROVER, NULL, "44"));
	assert_false(tb_principal_has_role(&p, TB_ROLE_CLERK, NULL, NULL));
	/* a grant over everything */
	assert_true(tb_principal_has_role(&p, TB_ROLE_AUDITOR, "11440300008604861B", "4403"));
	p.kind = TB_PRINCIPAL_PERSON;
	assert_false(tb_principal_has_role(&p, TB_ROLE_AUDITOR, NULL, NULL));
	/* acting */
	assert_false(tb_principal_acting_covers(&p, "114400000001"));
	p.acting.capacity = TB_CAPACITY_AGENT;
	strcpy(p.acting.scope, "114400000001,114400000002");
	assert_true(tb_principal_acting_covers(&p, "114400000002"));
	assert_false(tb_principal_acting_covers(&p, "11440000000"));
	assert_false(tb_principal_acting_covers(&p, "114400000003"));
	strcpy(p.acting.scope, "*");
	assert_true(tb_principal_acting_covers(&p, "114400000003"));
	assert_string_equal(tb_role_name(TB_ROLE_DEPT_ADMIN), "dept_admin");
	assert_int_equal(tb_role_from_name("platform_admin"), TB_ROLE_PLATFORM_ADMIN);
	assert_int_equal(tb_role_from_name("janitor"), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_sealed_at_rest, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_session_expiry, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_touch_throttled, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_lockout_backoff, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_rehash, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_totp_once, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_claims_and_assurance, setup, teardown),
	    cmocka_unit_test(test_principal_helpers),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
