/* identity.c: the data key, sealing helpers, real-name verification, accounts,
 * passwords, TOTP and login. Sessions are in session.c, enterprises in enterprise.c,
 * staff administration in admin.c. */
#include "identity/internal.h"
#include "base/codes.h"
#include "base/crypto.h"
#include "base/log.h"
#include "base/mask.h"
#include "base/text.h"

#include <errno.h>
#include <fcntl.h>
#include <liboath/oath.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static struct {
	struct tb_identity_config cfg;
	struct tb_seal_key key;
	bool ready;
	char dummy_hash[crypto_pwhash_STRBYTES]; /* verified against for unknown accounts */
	struct tb_verifier verifier;
	/* the built-in checker's registry: "ID|name" lines, sorted */
	char **registry;
	size_t nregistry;
} g;

/* Failed logins: per identifier, a lock of 30 s doubling from the 5th failure in the
 * window (up to 15 min); per source address a 15 min lock from the 100th. */
#define FAIL_WINDOW	  900
#define FAIL_ID_LIMIT	  5
#define FAIL_ID_BASE_LOCK 30
#define FAIL_ID_MAX_LOCK  900
#define FAIL_IP_LIMIT	  100
#define FAIL_IP_LOCK	  900
/* ended sessions stay listed (login history) this long, then go */
#define SESSION_KEEP (30 * 86400LL)

/* ---- key and helpers ---- */

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static tb_rc load_key(const char *path, bool create, struct tb_err *err)
{
	char text[130];
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 && errno == ENOENT && create) {
		uint8_t raw[32];
		char hex[65];
		tb_crypto_random(raw, sizeof(raw));
		sodium_bin2hex(hex, sizeof(hex), raw, sizeof(raw));
		tb_crypto_wipe(raw, sizeof(raw));
		char *slash = strrchr(path, '/');
		if (slash) {
			char dir[512];
			snprintf(dir, sizeof(dir), "%.*s", (int)(slash - path), path);
			mkdir(dir, 0700);
		}
		/* written aside, then linked into place: two processes starting at once
		 * end up with the same key, and nobody reads a half-written one */
		char tmp[600];
		snprintf(tmp, sizeof(tmp), "%s.%ld.tmp", path, (long)getpid());
		int wfd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
		if (wfd < 0)
			return tb_fail(err, TB_EIO, "key_file", "cannot create %s: %s", path,
				       strerror(errno));
		hex[64] = '\n';
		ssize_t w = write(wfd, hex, 65);
		close(wfd);
		tb_crypto_wipe(hex, sizeof(hex));
		bool made = w == 65 && link(tmp, path) == 0;
		unlink(tmp);
		if (made)
			tb_log(TB_LOG_WARN, "identity",
			       "no data key at %s: created a new one (0600). Keep it safe and back "
			       "it up: personal data cannot be read without it",
			       path);
		fd = open(path, O_RDONLY | O_CLOEXEC);
	}
	if (fd < 0)
		return tb_fail(err, TB_EIO, "key_file", "cannot read the data key %s: %s", path,
			       strerror(errno));
	ssize_t n = read(fd, text, sizeof(text) - 1);
	close(fd);
	if (n < 64)
		return tb_fail(err, TB_EINVAL, "key_file",
			       "%s must hold 64 hex characters (32 bytes)", path);
	uint8_t raw[32];
	for (int i = 0; i < 32; i++) {
		int hi = hexval(text[2 * i]), lo = hexval(text[2 * i + 1]);
		if (hi < 0 || lo < 0) {
			tb_crypto_wipe(text, sizeof(text));
			return tb_fail(err, TB_EINVAL, "key_file",
				       "%s must hold 64 hex characters (32 bytes)", path);
		}
		raw[i] = (uint8_t)(hi << 4 | lo);
	}
	tb_crypto_wipe(text, sizeof(text));
	tb_rc rc = tb_seal_key_derive(&g.key, raw, sizeof(raw));
	tb_crypto_wipe(raw, sizeof(raw));
	return rc ? tb_fail(err, rc, "key_file", "cannot derive the data keys") : TB_OK;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void registry_free(void)
{
	for (size_t i = 0; i < g.nregistry; i++)
		free(g.registry[i]);
	free(g.registry);
	g.registry = NULL;
	g.nregistry = 0;
}

static tb_rc load_registry(const char *path, struct tb_err *err)
{
	json_error_t je;
	json_t *doc = json_load_file(path, 0, &je);
	if (!json_is_array(doc)) {
		json_decref(doc);
		return tb_fail(err, TB_EINVAL, "registry_file",
			       "%s: not a JSON array of {name, id_number} (%s)", path, je.text);
	}
	g.registry = calloc(json_array_size(doc) + 1, sizeof(char *));
	size_t i;
	json_t *v;
	json_array_foreach(doc, i, v)
	{
		const char *name = json_string_value(json_object_get(v, "name"));
		const char *id = json_string_value(json_object_get(v, "id_number"));
		if (!name || !id)
			continue;
		char *line = malloc(strlen(id) + strlen(name) + 2);
		if (!line)
			break;
		sprintf(line, "%s|%s", id, name);
		g.registry[g.nregistry++] = line;
	}
	json_decref(doc);
	qsort(g.registry, g.nregistry, sizeof(char *), cmp_str);
	return TB_OK;
}

/* The built-in verifier: the number's own checks (GB 11643), then the offline
 * registry when there is one. */
static tb_rc offline_check(void *ctx, const char *name, const char *id_number, int *level,
			   struct tb_err *err)
{
	(void)ctx;
	struct tb_err e = {0};
	if (!tb_code_id_number_valid(id_number, &e))
		return tb_fail(err, TB_EINVAL, "id_number", "%s", e.msg);
	*level = 1;
	if (g.nregistry) {
		char key[256];
		snprintf(key, sizeof(key), "%s|%s", id_number, name);
		const char *k = key;
		if (bsearch(&k, g.registry, g.nregistry, sizeof(char *), cmp_str))
			*level = 2;
	}
	return TB_OK;
}

tb_rc tb_identity_init(const struct tb_identity_config *cfg, struct tb_err *err)
{
	if (sodium_init() < 0 || oath_init() != OATH_OK)
		return tb_fail(err, TB_EINTERNAL, "", "cannot initialise libsodium or liboath");
	g.cfg = *cfg;
	if (g.cfg.session_ttl <= 0)
		g.cfg.session_ttl = 12 * 3600;
	if (g.cfg.session_idle <= 0)
		g.cfg.session_idle = 1800;
	if (!g.cfg.pwhash_ops)
		g.cfg.pwhash_ops = crypto_pwhash_OPSLIMIT_INTERACTIVE;
	if (!g.cfg.pwhash_mem)
		g.cfg.pwhash_mem = crypto_pwhash_MEMLIMIT_INTERACTIVE;
	tb_rc rc;
	if (cfg->key_file && (rc = load_key(cfg->key_file, cfg->create_key, err)))
		return rc;
	if (cfg->registry_file && (rc = load_registry(cfg->registry_file, err)))
		return rc;
	char pw[33];
	if ((rc = idn_random_token(24, pw, sizeof(pw))))
		return tb_fail(err, rc, "", "no randomness");
	if (crypto_pwhash_str(g.dummy_hash, pw, strlen(pw), g.cfg.pwhash_ops, g.cfg.pwhash_mem))
		return tb_fail(err, TB_ENOMEM, "", "cannot hash a password (out of memory?)");
	g.verifier = (struct tb_verifier){"offline", offline_check, NULL};
	g.ready = true;
	return TB_OK;
}

void tb_identity_shutdown(void)
{
	tb_seal_key_wipe(&g.key);
	registry_free();
	oath_done();
	g.ready = false;
}

const struct tb_identity_config *tb_identity_config(void)
{
	return &g.cfg;
}

void tb_identity_set_verifier(const struct tb_verifier *v)
{
	g.verifier = v ? *v : (struct tb_verifier){"offline", offline_check, NULL};
}

const struct tb_seal_key *idn_key(void)
{
	return &g.key;
}

tb_rc idn_seal(const char *table, const char *column, int64_t row, const void *plain, size_t n,
	       char out[IDN_SEALED_MAX])
{
	char ad[96];
	int adn = snprintf(ad, sizeof(ad), "%s.%s.%lld", table, column, (long long)row);
	struct tb_buf b;
	tb_buf_init(&b, 256);
	tb_rc rc = tb_seal(&g.key, ad, (size_t)adn, plain, n, &b);
	if (!rc && sodium_base64_ENCODED_LEN(b.len, sodium_base64_VARIANT_URLSAFE_NO_PADDING) >
		       IDN_SEALED_MAX)
		rc = TB_ETOOBIG;
	if (!rc)
		sodium_bin2base64(out, IDN_SEALED_MAX, (const unsigned char *)b.data, b.len,
				  sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	tb_buf_release(&b);
	return rc;
}

tb_rc idn_open(const char *table, const char *column, int64_t row, const char *sealed, char *out,
	       size_t outlen, size_t *n)
{
	char ad[96];
	int adn = snprintf(ad, sizeof(ad), "%s.%s.%lld", table, column, (long long)row);
	unsigned char bin[IDN_SEALED_MAX];
	size_t blen;
	if (!sealed || sodium_base642bin(bin, sizeof(bin), sealed, strlen(sealed), NULL, &blen,
					 NULL, sodium_base64_VARIANT_URLSAFE_NO_PADDING))
		return TB_EINVAL;
	struct tb_buf b;
	tb_buf_init(&b, 256);
	tb_rc rc = tb_open(&g.key, ad, (size_t)adn, bin, blen, &b);
	if (!rc && b.len + 1 > outlen)
		rc = TB_ETOOBIG;
	if (!rc) {
		memcpy(out, b.data, b.len);
		out[b.len] = 0;
		if (n)
			*n = b.len;
	}
	if (b.data)
		tb_crypto_wipe(b.data, b.len);
	tb_buf_release(&b);
	return rc;
}

tb_rc idn_index(const char *value, char hex[65])
{
	return tb_blind_index(&g.key, value, strlen(value), hex);
}

bool idn_id_number(const char *in, const char *field, char out[19], struct tb_err *err)
{
	if (!in || strlen(in) != 18) {
		tb_fail(err, TB_EINVAL, field, "an ID number has 18 characters");
		return false;
	}
	memcpy(out, in, 19);
	if (out[17] == 'x')
		out[17] = 'X';
	struct tb_err e = {0};
	if (!tb_code_id_number_valid(out, &e)) {
		tb_fail(err, TB_EINVAL, field, "not a valid ID number: %s", e.msg);
		return false;
	}
	return true;
}

bool idn_phone(const char *in, const char *field, char out[12], struct tb_err *err)
{
	bool ok = in && strlen(in) == 11 && in[0] == '1' && in[1] >= '3' && in[1] <= '9';
	for (int i = 0; ok && i < 11; i++)
		ok = in[i] >= '0' && in[i] <= '9';
	if (!ok) {
		tb_fail(err, TB_EINVAL, field, "a mobile number is 11 digits, 1[3-9]XXXXXXXXX");
		return false;
	}
	memcpy(out, in, 12);
	return true;
}

bool idn_name(const char *in, const char *field, struct tb_err *err)
{
	size_t n = in ? strlen(in) : 0;
	if (n == 0 || n > 120 || tb_utf8_len(in, n) > 40) {
		tb_fail(err, TB_EINVAL, field, "a name of 1 to 40 characters is required");
		return false;
	}
	for (const char *c = in; *c; c++)
		if ((unsigned char)*c < 0x20 || *c == '|') {
			tb_fail(err, TB_EINVAL, field, "a name has no control characters or '|'");
			return false;
		}
	return true;
}

void idn_now(char out[32])
{
	tb_time_rfc3339(out);
}

void idn_time(long long t, char out[32])
{
	tb_time_rfc3339_at(t, out);
}

void idn_today(char out[11])
{
	char ts[32];
	tb_time_rfc3339(ts);
	memcpy(out, ts, 10);
	out[10] = 0;
}

bool idn_date_valid(const char *s)
{
	if (!s || strlen(s) != 10 || s[4] != '-' || s[7] != '-')
		return false;
	for (int i = 0; i < 10; i++)
		if (i != 4 && i != 7 && (s[i] < '0' || s[i] > '9'))
			return false;
	int m = atoi(s + 5), d = atoi(s + 8);
	return m >= 1 && m <= 12 && d >= 1 && d <= 31;
}

tb_rc idn_random_token(size_t n, char *out, size_t outlen)
{
	unsigned char raw[48];
	if (n > sizeof(raw) ||
	    outlen < sodium_base64_ENCODED_LEN(n, sodium_base64_VARIANT_URLSAFE_NO_PADDING))
		return TB_EINTERNAL;
	randombytes_buf(raw, n);
	sodium_bin2base64(out, outlen, raw, n, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	sodium_memzero(raw, sizeof(raw));
	return TB_OK;
}

tb_rc idn_user_index(struct tb_db *db, int64_t user_id, char hex[65], char *name, size_t nlen)
{
	struct tb_stmt *st;
	bool row = false;
	tb_rc rc = tb_db_prepare(db, "SELECT id_number_index, name FROM users WHERE id = ?", &st);
	if (rc)
		return rc;
	tb_stmt_bind_int(st, 1, user_id);
	if (!(rc = tb_stmt_step(st, &row)) && row) {
		snprintf(hex, 65, "%s", tb_stmt_text(st, 0));
		if (name)
			snprintf(name, nlen, "%s", tb_stmt_text(st, 1));
	}
	tb_stmt_done(st);
	return rc ? rc : row ? TB_OK : TB_ENOTFOUND;
}

tb_rc tb_identity_require_assurance(const struct tb_principal *p, int level, struct tb_err *err)
{
	if (p->kind == TB_PRINCIPAL_ANONYMOUS)
		return tb_fail(err, TB_EUNAUTH, NULL, "log in first");
	if (p->assurance < level)
		return tb_fail(err, TB_EFORBIDDEN, NULL,
			       "this service needs real-name assurance level %d (yours is %d)%s",
			       level, p->assurance,
			       level >= 3 ? ": have it confirmed in person at a service window"
					  : "");
	return TB_OK;
}

tb_rc tb_identity_audit(struct tb_db *db, int64_t actor, const char *action, int64_t target,
			const char *reason, const char *detail)
{
	struct tb_stmt *st;
	char now[32];
	idn_now(now);
	tb_rc rc = tb_db_prepare(db,
				 "INSERT INTO audit_log (at, actor, action, target_user, reason, "
				 "detail) VALUES (?, ?, ?, ?, ?, ?)",
				 &st);
	if (rc)
		return rc;
	tb_stmt_bind_text(st, 1, now);
	if (actor)
		tb_stmt_bind_int(st, 2, actor);
	else
		tb_stmt_bind_null(st, 2);
	tb_stmt_bind_text(st, 3, action);
	if (target)
		tb_stmt_bind_int(st, 4, target);
	else
		tb_stmt_bind_null(st, 4);
	tb_stmt_bind_text(st, 5, reason ? reason : "");
	tb_stmt_bind_text(st, 6, detail ? detail : "");
	rc = tb_stmt_exec(st, NULL);
	tb_stmt_done(st);
	return rc;
}

/* ---- passwords ---- */

static bool password_ok(const char *pw, const char *field, struct tb_err *err)
{
	static const char *const common[] = {
	    "12345678",	 "123456789", "1234567890", "password",	  "password1", "qwertyuiop",
	    "11111111",	 "88888888",  "00000000",   "abcd1234",	  "a1234567",  "12341234",
	    "iloveyou",	 "qwerty123", "1qaz2wsx",   "woaini1314", "abc12345",  "87654321",
	    "asdfghjkl", "admin123",  "p@ssw0rd",   "passw0rd",	  "66666666",  "123123123"};
	size_t n = pw ? strlen(pw) : 0;
	if (n < 8 || n > 128) {
		tb_fail(err, TB_EINVAL, field, "a password has 8 to 128 characters");
		return false;
	}
	bool same = true;
	for (size_t i = 1; i < n; i++)
		same &= pw[i] == pw[0];
	for (size_t i = 0; i < TB_ARRAY_LEN(common) && !same; i++)
		same = !strcasecmp(pw, common[i]);
	if (same) {
		tb_fail(err, TB_EINVAL, field, "this password is too common: choose another");
		return false;
	}
	return true;
}

static tb_rc hash_password(const char *pw, char out[crypto_pwhash_STRBYTES])
{
	return crypto_pwhash_str(out, pw, strlen(pw), g.cfg.pwhash_ops, g.cfg.pwhash_mem)
		   ? TB_ENOMEM
		   : TB_OK;
}

/* ---- accounts ---- */

/* Insert a user and seal its personal data under the new row's id. */
static tb_rc insert_user(struct tb_db *db, const char *kind, const char *name,
			 const char *id_number, const char *phone, const char *pw_hash,
			 int assurance, const uint8_t *totp, size_t totp_len,
			 const char *department, const char *region, int64_t *id)
{
	char id_idx[65], ph_idx[65], id_mask[19], ph_mask[12], now[32];
	tb_rc rc;
	if ((rc = idn_index(id_number, id_idx)))
		return rc;
	if (phone && (rc = idn_index(phone, ph_idx)))
		return rc;
	tb_mask_id_number(id_number, id_mask, sizeof(id_mask));
	if (phone)
		tb_mask_phone(phone, ph_mask, sizeof(ph_mask));
	idn_now(now);
	struct tb_stmt *st;
	if ((rc = tb_db_prepare(db,
				"INSERT INTO users (kind, name, id_number_sealed, id_number_index, "
				"id_number_masked, phone_index, phone_masked, password_hash, "
				"assurance, department, region, created_at, updated_at) VALUES "
				"(?, ?, '', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
				&st)))
		return rc;
	tb_stmt_bind_text(st, 1, kind);
	tb_stmt_bind_text(st, 2, name);
	tb_stmt_bind_text(st, 3, id_idx);
	tb_stmt_bind_text(st, 4, id_mask);
	tb_stmt_bind_text(st, 5, phone ? ph_idx : NULL);
	tb_stmt_bind_text(st, 6, phone ? ph_mask : NULL);
	tb_stmt_bind_text(st, 7, pw_hash);
	tb_stmt_bind_int(st, 8, assurance);
	tb_stmt_bind_text(st, 9, department);
	tb_stmt_bind_text(st, 10, region);
	tb_stmt_bind_text(st, 11, now);
	tb_stmt_bind_text(st, 12, now);
	bool row = false;
	rc = tb_stmt_step(st, &row);
	if (!rc && row)
		*id = tb_stmt_int(st, 0);
	tb_stmt_done(st);
	if (rc)
		return rc;
	if (!row)
		return TB_EDB;
	char s_id[IDN_SEALED_MAX], s_ph[IDN_SEALED_MAX], s_totp[IDN_SEALED_MAX];
	if ((rc = idn_seal("users", "id_number", *id, id_number, strlen(id_number), s_id)) ||
	    (phone && (rc = idn_seal("users", "phone", *id, phone, strlen(phone), s_ph))) ||
	    (totp && (rc = idn_seal("users", "totp", *id, totp, totp_len, s_totp))))
		return rc;
	if ((rc = tb_db_prepare(db,
				"UPDATE users SET id_number_sealed = ?, phone_sealed = ?, "
				"totp_sealed = ? WHERE id = ?",
				&st)))
		return rc;
	tb_stmt_bind_text(st, 1, s_id);
	tb_stmt_bind_text(st, 2, phone ? s_ph : NULL);
	tb_stmt_bind_text(st, 3, totp ? s_totp : NULL);
	tb_stmt_bind_int(st, 4, *id);
	rc = tb_stmt_exec(st, NULL);
	tb_stmt_done(st);
	return rc;
}

tb_rc idn_find_person(struct tb_db *db, const char *idn, int64_t *id, char *name, size_t namelen)
{
	char idx[65];
	struct tb_stmt *st;
	bool row = false;
	*id = 0;
	name[0] = 0;
	tb_rc rc = idn_index(idn, idx);
	if (rc || (rc = tb_db_prepare(db,
				      "SELECT id, name FROM users WHERE kind = 'person' AND "
				      "id_number_index = ?",
				      &st)))
		return rc;
	tb_stmt_bind_text(st, 1, idx);
	if (!(rc = tb_stmt_step(st, &row)) && row) {
		*id = tb_stmt_int(st, 0);
		snprintf(name, namelen, "%s", tb_stmt_text(st, 1));
	}
	tb_stmt_done(st);
	return rc;
}

/* Is there a user of `kind` whose ID number or phone has this index? */
static tb_rc find_user(struct tb_db *db, const char *kind, const char *column, const char *idx,
		       int64_t *id)
{
	struct tb_stmt *st;
	char sql[128];
	snprintf(sql, sizeof(sql), "SELECT id FROM users WHERE kind = ? AND %s = ?", column);
	*id = 0;
	tb_rc rc = tb_db_prepare(db, sql, &st);
	if (rc)
		return rc;
	tb_stmt_bind_text(st, 1, kind);
	tb_stmt_bind_text(st, 2, idx);
	bool row = false;
	if (!(rc = tb_stmt_step(st, &row)) && row)
		*id = tb_stmt_int(st, 0);
	tb_stmt_done(st);
	return rc;
}

struct person_prep {
	char idn[19], phone[12], hash[crypto_pwhash_STRBYTES];
	int level;
};

/* Validate, verify and hash: the slow part, outside any transaction. */
static tb_rc person_prepare(const struct tb_person_in *in, int level_min, struct person_prep *pp,
			    struct tb_err *err)
{
	if (!idn_name(in->name, "name", err) ||
	    !idn_id_number(in->id_number, "id_number", pp->idn, err) ||
	    !idn_phone(in->phone, "phone", pp->phone, err) ||
	    !password_ok(in->password, "password", err))
		return TB_EINVAL;
	pp->level = 1;
	tb_rc rc = g.verifier.check(g.verifier.ctx, in->name, pp->idn, &pp->level, err);
	if (rc)
		return rc;
	if (pp->level < level_min)
		pp->level = level_min;
	/* hashed whether or not the account exists: both cost the same time */
	if ((rc = hash_password(in->password, pp->hash)))
		return tb_fail(err, rc, NULL, "cannot hash the password");
	return TB_OK;
}

/* Insert unless the ID number or phone is registered (then *id = 0). */
static tb_rc person_store(struct tb_db *db, const char *name, const struct person_prep *pp,
			  int64_t *id)
{
	char id_idx[65], ph_idx[65];
	int64_t found = 0, found2 = 0;
	*id = 0;
	tb_rc rc;
	if ((rc = idn_index(pp->idn, id_idx)) || (rc = idn_index(pp->phone, ph_idx)))
		return rc;
	if (!(rc = find_user(db, "person", "id_number_index", id_idx, &found)) && !found)
		rc = find_user(db, "person", "phone_index", ph_idx, &found2);
	if (!rc && !found && !found2)
		rc = insert_user(db, "person", name, pp->idn, pp->phone, pp->hash, pp->level, NULL,
				 0, NULL, NULL, id);
	return rc;
}

/* Register inside the caller's write transaction (imports). */
tb_rc idn_register_tx(struct tb_db *db, const struct tb_person_in *in, int level_min, int64_t *id,
		      struct tb_err *err);
tb_rc idn_register_tx(struct tb_db *db, const struct tb_person_in *in, int level_min, int64_t *id,
		      struct tb_err *err)
{
	struct person_prep pp;
	tb_rc rc = person_prepare(in, level_min, &pp, err);
	return rc ? rc : person_store(db, in->name, &pp, id);
}

tb_rc tb_identity_register(struct tb_db *db, const struct tb_person_in *in, int64_t *id,
			   struct tb_err *err)
{
	struct person_prep pp;
	*id = 0;
	tb_rc rc = person_prepare(in, 1, &pp, err);
	if (rc || (rc = tb_db_begin(db, true)))
		return rc;
	rc = person_store(db, in->name, &pp, id);
	if (!rc)
		rc = tb_db_commit(db);
	else
		tb_db_rollback(db);
	if (rc == TB_ECONFLICT) { /* registered at the same moment elsewhere */
		*id = 0;
		return TB_OK;
	}
	return rc;
}

static const char b32[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

static tb_rc b32_decode(const char *in, uint8_t *out, size_t cap, size_t *n)
{
	uint32_t acc = 0;
	int bits = 0;
	*n = 0;
	for (const char *c = in; *c; c++) {
		if (*c == '=')
			break;
		const char *p = strchr(b32, *c >= 'a' && *c <= 'z' ? *c - 32 : *c);
		if (!p || !*c)
			return TB_EINVAL;
		acc = acc << 5 | (uint32_t)(p - b32);
		bits += 5;
		if (bits >= 8) {
			if (*n >= cap)
				return TB_ETOOBIG;
			out[(*n)++] = (uint8_t)(acc >> (bits - 8));
			bits -= 8;
		}
	}
	return *n ? TB_OK : TB_EINVAL;
}

static void b32_encode(const uint8_t *in, size_t n, char *out, size_t cap)
{
	uint32_t acc = 0;
	int bits = 0;
	size_t o = 0;
	for (size_t i = 0; i < n; i++) {
		acc = acc << 8 | in[i];
		bits += 8;
		while (bits >= 5 && o + 1 < cap) {
			out[o++] = b32[(acc >> (bits - 5)) & 31];
			bits -= 5;
		}
	}
	if (bits > 0 && o + 1 < cap)
		out[o++] = b32[(acc << (5 - bits)) & 31];
	out[o] = 0;
}

/* The grants a role mask gives a member of staff of department/region. */
static tb_rc insert_grants(struct tb_db *db, int64_t user, unsigned roles, const char *department,
			   const char *region)
{
	char now[32];
	idn_now(now);
	for (unsigned bit = 1; bit & TB_ROLE_ALL; bit <<= 1) {
		if (!(roles & bit))
			continue;
		bool global = bit == TB_ROLE_PLATFORM_ADMIN || bit == TB_ROLE_AUDITOR;
		bool all_depts = global || bit == TB_ROLE_SUPERVISOR;
		struct tb_stmt *st;
		tb_rc rc = tb_db_prepare(db,
					 "INSERT INTO staff_grants (user_id, role, department, "
					 "region, created_at) VALUES (?, ?, ?, ?, ?)",
					 &st);
		if (rc)
			return rc;
		tb_stmt_bind_int(st, 1, user);
		tb_stmt_bind_text(st, 2, tb_role_name(bit));
		tb_stmt_bind_text(st, 3, all_depts || !department ? "" : department);
		tb_stmt_bind_text(st, 4, global || !region ? "" : region);
		tb_stmt_bind_text(st, 5, now);
		rc = tb_stmt_exec(st, NULL);
		tb_stmt_done(st);
		if (rc)
			return rc;
	}
	return TB_OK;
}

tb_rc idn_staff_grants_replace(struct tb_db *db, int64_t user, unsigned roles);
tb_rc idn_staff_grants_replace(struct tb_db *db, int64_t user, unsigned roles)
{
	struct tb_stmt *st;
	char dept[32] = "", region[16] = "";
	bool row = false;
	tb_rc rc = tb_db_prepare(db, "SELECT department, region FROM users WHERE id = ?", &st);
	if (rc)
		return rc;
	tb_stmt_bind_int(st, 1, user);
	if (!(rc = tb_stmt_step(st, &row)) && row) {
		snprintf(dept, sizeof(dept), "%s", tb_stmt_null(st, 0) ? "" : tb_stmt_text(st, 0));
		snprintf(region, sizeof(region), "%s",
			 tb_stmt_null(st, 1) ? "" : tb_stmt_text(st, 1));
	}
	tb_stmt_done(st);
	if (rc)
		return rc;
	if ((rc = tb_db_prepare(db, "DELETE FROM staff_grants WHERE user_id = ?", &st)))
		return rc;
	tb_stmt_bind_int(st, 1, user);
	rc = tb_stmt_exec(st, NULL);
	tb_stmt_done(st);
	return rc ? rc : insert_grants(db, user, roles, dept, region);
}

tb_rc tb_identity_staff_create(struct tb_db *db, const struct tb_staff_in *in, int64_t actor,
			       struct tb_staff_out *out, struct tb_err *err)
{
	char idn[19], phone[12], hash[crypto_pwhash_STRBYTES];
	memset(out, 0, sizeof(*out));
	if (!idn_name(in->name, "name", err) ||
	    !idn_id_number(in->id_number, "id_number", idn, err) ||
	    !idn_phone(in->phone, "phone", phone, err))
		return TB_EINVAL;
	if (in->department && !tb_code_uscc_valid(in->department, err))
		return tb_fail(err, TB_EINVAL, "department", "not a valid USCC: %s", err->msg);
	if (in->region && !tb_code_region_valid(in->region))
		return tb_fail(err, TB_EINVAL, "region", "not a valid division code");
	if (!in->roles)
		return tb_fail(err, TB_EINVAL, "roles", "at least one role");
	if ((in->roles & ~(unsigned)(TB_ROLE_PLATFORM_ADMIN | TB_ROLE_AUDITOR)) &&
	    (!in->department || !in->region))
		return tb_fail(err, TB_EINVAL, in->department ? "region" : "department",
			       "staff with department roles need a department and a region");
	tb_rc rc;
	if (in->password) {
		if (!password_ok(in->password, "password", err))
			return TB_EINVAL;
		snprintf(out->password, sizeof(out->password), "%s", in->password);
	} else if ((rc = idn_random_token(12, out->password, sizeof(out->password)))) {
		return rc;
	}
	uint8_t secret[32];
	size_t slen = 20;
	if (in->totp_secret) {
		if (b32_decode(in->totp_secret, secret, sizeof(secret), &slen) || slen < 10)
			return tb_fail(err, TB_EINVAL, "totp_secret",
				       "a base32 secret of at least 80 bits");
	} else {
		randombytes_buf(secret, slen);
	}
	b32_encode(secret, slen, out->totp_secret, sizeof(out->totp_secret));
	if ((rc = hash_password(out->password, hash)))
		return tb_fail(err, rc, NULL, "cannot hash the password");
	char idx[65];
	int64_t found;
	if ((rc = idn_index(idn, idx)) ||
	    (rc = find_user(db, "staff", "id_number_index", idx, &found)))
		return rc;
	if (found)
		return tb_fail(err, TB_ECONFLICT, "id_number", "staff with this ID number exist");
	if (in->department) {
		struct tb_stmt *st;
		bool row = false;
		if ((rc = tb_db_prepare(db, "SELECT 1 FROM departments WHERE uscc = ?", &st)))
			return rc;
		tb_stmt_bind_text(st, 1, in->department);
		rc = tb_stmt_step(st, &row);
		tb_stmt_done(st);
		if (rc)
			return rc;
		if (!row)
			return tb_fail(err, TB_EINVAL, "department", "no department %s",
				       in->department);
	}
	rc = insert_user(db, "staff", in->name, idn, phone, hash, 3, secret, slen, in->department,
			 in->region, &out->id);
	tb_crypto_wipe(secret, sizeof(secret));
	if (rc == TB_ECONFLICT)
		return tb_fail(err, rc, "phone", "staff with this phone number exist");
	if (rc || (rc = insert_grants(db, out->id, in->roles, in->department, in->region)))
		return rc;
	snprintf(out->totp_uri, sizeof(out->totp_uri),
		 "otpauth://totp/tongban:staff-%lld?secret=%s&issuer=tongban&algorithm=SHA1&"
		 "digits=6&period=30",
		 (long long)out->id, out->totp_secret);
	char detail[64];
	snprintf(detail, sizeof(detail), "roles %#x", in->roles);
	return tb_identity_audit(db, actor, "staff.create", out->id, "", detail);
}

tb_rc tb_identity_bootstrap(struct tb_store *store, const char *name, const char *id_number,
			    const char *phone, struct tb_staff_out *out, struct tb_err *err)
{
	struct tb_db *db = tb_store_db(store, err);
	if (!db)
		return TB_EUNAVAIL;
	tb_rc rc = tb_db_begin(db, true);
	if (rc)
		return rc;
	struct tb_stmt *st;
	bool row = false;
	if (!(rc = tb_db_prepare(
		  db, "SELECT 1 FROM staff_grants WHERE role = 'platform_admin' LIMIT 1", &st))) {
		rc = tb_stmt_step(st, &row);
		tb_stmt_done(st);
	}
	if (!rc && row)
		rc = tb_fail(err, TB_ECONFLICT, NULL,
			     "a platform administrator exists already: bootstrap is for the first "
			     "one only");
	struct tb_staff_in in = {
	    .name = name, .id_number = id_number, .phone = phone, .roles = TB_ROLE_PLATFORM_ADMIN};
	if (!rc)
		rc = tb_identity_staff_create(db, &in, 0, out, err);
	if (!rc)
		rc = tb_db_commit(db);
	else
		tb_db_rollback(db);
	return rc;
}

/* ---- housekeeping (a scheduled job, once across nodes) ---- */

/* Rows of one DELETE with two bound times. */
static tb_rc purge(struct tb_db *db, const char *sql, long long a, long long b, int64_t *gone,
		   struct tb_err *err)
{
	struct tb_stmt *st;
	tb_rc rc = tb_db_prepare(db, sql, &st);
	if (rc)
		return tb_fail(err, rc, "", "purge: %s", tb_db_errmsg(db));
	tb_stmt_bind_int(st, 1, a);
	tb_stmt_bind_int(st, 2, b);
	rc = tb_stmt_exec(st, gone);
	tb_stmt_done(st);
	if (rc)
		return tb_fail(err, rc, "", "purge: %s", tb_db_errmsg(db));
	return TB_OK;
}

tb_rc tb_identity_purge(struct tb_db *db, long long now, struct tb_err *err)
{
	int64_t sessions = 0, failures = 0;
	tb_rc rc = purge(db,
			 "DELETE FROM sessions WHERE expires_at < ? OR "
			 "(revoked_at IS NOT NULL AND revoked_at < ?)",
			 now - SESSION_KEEP, now - SESSION_KEEP, &sessions, err);
	if (!rc)
		rc = purge(db,
			   "DELETE FROM login_failures WHERE window_start < ? AND "
			   "locked_until < ?",
			   now - FAIL_WINDOW, now, &failures, err);
	if (!rc && (sessions || failures))
		tb_log(TB_LOG_INFO, "identity.purge",
		       "forgot %lld ended session(s) and %lld stale failure count(s)",
		       (long long)sessions, (long long)failures);
	return rc;
}

/* ---- login ---- */

/* Count one failure under key; returns the lock it earns (0: none yet). */
static tb_rc count_failure(struct tb_db *db, const char *key, bool ip, long long now)
{
	struct tb_stmt *st;
	tb_rc rc = tb_db_prepare(
	    db,
	    "INSERT INTO login_failures (key, failures, window_start, locked_until) VALUES "
	    "(?, 1, ?, 0) ON CONFLICT (key) DO UPDATE SET failures = CASE WHEN "
	    "login_failures.window_start < ? AND login_failures.locked_until < ? THEN 1 ELSE "
	    "login_failures.failures + 1 END, window_start = CASE WHEN "
	    "login_failures.window_start < ? AND login_failures.locked_until < ? THEN ? ELSE "
	    "login_failures.window_start END RETURNING failures",
	    &st);
	if (rc)
		return rc;
	tb_stmt_bind_text(st, 1, key);
	tb_stmt_bind_int(st, 2, now);
	tb_stmt_bind_int(st, 3, now - FAIL_WINDOW);
	tb_stmt_bind_int(st, 4, now);
	tb_stmt_bind_int(st, 5, now - FAIL_WINDOW);
	tb_stmt_bind_int(st, 6, now);
	tb_stmt_bind_int(st, 7, now);
	bool row = false;
	long failures = 0;
	if (!(rc = tb_stmt_step(st, &row)) && row)
		failures = (long)tb_stmt_int(st, 0);
	tb_stmt_done(st);
	if (rc)
		return rc;
	long lock = 0;
	if (ip && failures >= FAIL_IP_LIMIT)
		lock = FAIL_IP_LOCK;
	else if (!ip && failures >= FAIL_ID_LIMIT) {
		lock = FAIL_ID_BASE_LOCK;
		for (long i = FAIL_ID_LIMIT; i < failures && lock < FAIL_ID_MAX_LOCK; i++)
			lock *= 2;
		if (lock > FAIL_ID_MAX_LOCK)
			lock = FAIL_ID_MAX_LOCK;
	}
	if (!lock)
		return TB_OK;
	if ((rc = tb_db_prepare(db, "UPDATE login_failures SET locked_until = ? WHERE key = ?",
				&st)))
		return rc;
	tb_stmt_bind_int(st, 1, now + lock);
	tb_stmt_bind_text(st, 2, key);
	rc = tb_stmt_exec(st, NULL);
	tb_stmt_done(st);
	return rc;
}

static tb_rc locked_until(struct tb_db *db, const char *key, long long *until)
{
	struct tb_stmt *st;
	bool row = false;
	*until = 0;
	tb_rc rc = tb_db_prepare(db, "SELECT locked_until FROM login_failures WHERE key = ?", &st);
	if (rc)
		return rc;
	tb_stmt_bind_text(st, 1, key);
	if (!(rc = tb_stmt_step(st, &row)) && row)
		*until = tb_stmt_int(st, 0);
	tb_stmt_done(st);
	return rc;
}

static tb_rc clear_failures(struct tb_db *db, const char *key)
{
	struct tb_stmt *st;
	tb_rc rc = tb_db_prepare(db, "DELETE FROM login_failures WHERE key = ?", &st);
	if (rc)
		return rc;
	tb_stmt_bind_text(st, 1, key);
	rc = tb_stmt_exec(st, NULL);
	tb_stmt_done(st);
	return rc;
}

tb_rc idn_session_create(struct tb_db *db, int64_t user, bool bearer, int aal, const char *ip,
			 const char *ua, long long now, struct tb_login_out *out);

tb_rc tb_identity_login(struct tb_db *db, const struct tb_login_in *in, long long now,
			struct tb_login_out *out, struct tb_err *err)
{
	memset(out, 0, sizeof(*out));
	const char *kind = in->staff ? "staff" : "person";
	/* the identifier in its normal form: an ID number, a phone, or (unknown) as is */
	char login[24], column[24] = "", idkey[80], ipkey[80], hex[65];
	size_t ln = in->login ? strlen(in->login) : 0;
	if (ln == 18) {
		snprintf(login, sizeof(login), "%s", in->login);
		if (login[17] == 'x')
			login[17] = 'X';
		strcpy(column, "id_number_index");
	} else if (ln == 11) {
		snprintf(login, sizeof(login), "%s", in->login);
		strcpy(column, "phone_index");
	} else {
		snprintf(login, sizeof(login), "%.*s", ln > 23 ? 23 : (int)ln,
			 in->login ? in->login : "");
	}
	char tmp[64];
	snprintf(tmp, sizeof(tmp), "login:%s:%s", kind, login);
	tb_rc rc = idn_index(tmp, hex);
	if (rc)
		return rc;
	snprintf(idkey, sizeof(idkey), "id:%s", hex);
	snprintf(tmp, sizeof(tmp), "ip:%s", in->ip ? in->ip : "");
	if ((rc = idn_index(tmp, hex)))
		return rc;
	snprintf(ipkey, sizeof(ipkey), "ip:%s", hex);
	long long until_id, until_ip;
	if ((rc = locked_until(db, idkey, &until_id)) || (rc = locked_until(db, ipkey, &until_ip)))
		return rc;
	long long until = until_id > until_ip ? until_id : until_ip;
	if (until > now) {
		out->result = TB_LOGIN_LOCKED;
		out->retry_after = (long)(until - now);
		return TB_OK;
	}
	/* find the account */
	int64_t uid = 0;
	char pw_hash[crypto_pwhash_STRBYTES] = "", totp_sealed[IDN_SEALED_MAX] = "";
	long long last_step = 0;
	if (column[0] && !(rc = idn_index(login, hex))) {
		struct tb_stmt *st;
		char sql[160];
		snprintf(sql, sizeof(sql),
			 "SELECT id, password_hash, totp_sealed, totp_last_step FROM users WHERE "
			 "kind = ? AND %s = ?",
			 column);
		bool row = false;
		if (!(rc = tb_db_prepare(db, sql, &st))) {
			tb_stmt_bind_text(st, 1, kind);
			tb_stmt_bind_text(st, 2, hex);
			if (!(rc = tb_stmt_step(st, &row)) && row) {
				uid = tb_stmt_int(st, 0);
				snprintf(pw_hash, sizeof(pw_hash), "%s", tb_stmt_text(st, 1));
				if (!tb_stmt_null(st, 2))
					snprintf(totp_sealed, sizeof(totp_sealed), "%s",
						 tb_stmt_text(st, 2));
				last_step = tb_stmt_int(st, 3);
			}
			tb_stmt_done(st);
		}
	}
	if (rc)
		return rc;
	const char *pw = in->password ? in->password : "";
	/* an unknown account costs the same verification as a known one */
	bool ok = crypto_pwhash_str_verify(uid ? pw_hash : g.dummy_hash, pw, strlen(pw)) == 0;
	if (!uid || !ok) {
		if ((rc = count_failure(db, idkey, false, now)) ||
		    (rc = count_failure(db, ipkey, true, now)))
			return rc;
		out->result = TB_LOGIN_INVALID;
		return TB_OK;
	}
	int aal = 1;
	if (in->staff) {
		if (!in->totp || !*in->totp) {
			out->result = TB_LOGIN_TOTP_REQUIRED;
			return TB_OK;
		}
		uint8_t secret[64];
		size_t slen = 0;
		bool valid = false;
		uint64_t step = 0;
		if (strlen(in->totp) == 6 && !idn_open("users", "totp", uid, totp_sealed,
						       (char *)secret, sizeof(secret), &slen)) {
			int pos;
			valid = oath_totp_validate3((const char *)secret, slen, (time_t)now, 30, 0,
						    1, &pos, &step, in->totp) >= 0;
		}
		tb_crypto_wipe(secret, sizeof(secret));
		/* a step is used once: the conditional update wins on one node only */
		int64_t changed = 0;
		if (valid && (long long)step > last_step) {
			struct tb_stmt *st;
			if ((rc = tb_db_prepare(
				 db,
				 "UPDATE users SET totp_last_step = ? WHERE id = ? AND "
				 "totp_last_step < ?",
				 &st)))
				return rc;
			tb_stmt_bind_int(st, 1, (int64_t)step);
			tb_stmt_bind_int(st, 2, uid);
			tb_stmt_bind_int(st, 3, (int64_t)step);
			rc = tb_stmt_exec(st, &changed);
			tb_stmt_done(st);
			if (rc)
				return rc;
		}
		if (!changed) {
			if ((rc = count_failure(db, idkey, false, now)) ||
			    (rc = count_failure(db, ipkey, true, now)))
				return rc;
			out->result = TB_LOGIN_TOTP_INVALID;
			return TB_OK;
		}
		aal = 2;
	}
	if (crypto_pwhash_str_needs_rehash(pw_hash, g.cfg.pwhash_ops, g.cfg.pwhash_mem)) {
		char fresh[crypto_pwhash_STRBYTES];
		struct tb_stmt *st;
		if (!hash_password(pw, fresh) &&
		    !tb_db_prepare(db, "UPDATE users SET password_hash = ? WHERE id = ?", &st)) {
			tb_stmt_bind_text(st, 1, fresh);
			tb_stmt_bind_int(st, 2, uid);
			if (tb_stmt_exec(st, NULL))
				tb_log(TB_LOG_WARN, "identity", "rehash of user %lld failed",
				       (long long)uid);
			tb_stmt_done(st);
		}
	}
	if ((rc = clear_failures(db, idkey)))
		return rc;
	if ((rc = idn_session_create(db, uid, in->bearer, aal, in->ip, in->user_agent, now, out)))
		return tb_fail(err, rc, NULL, "cannot create the session");
	out->result = TB_LOGIN_OK;
	out->user_id = uid;
	return TB_OK;
}

tb_rc tb_identity_change_password(struct tb_db *db, const struct tb_principal *p,
				  const char *current, const char *next, long long now,
				  struct tb_err *err)
{
	if (!password_ok(next, "new_password", err))
		return TB_EINVAL;
	struct tb_stmt *st;
	char hash[crypto_pwhash_STRBYTES] = "";
	bool row = false;
	tb_rc rc = tb_db_prepare(db, "SELECT password_hash FROM users WHERE id = ?", &st);
	if (rc)
		return rc;
	tb_stmt_bind_int(st, 1, p->user_id);
	if (!(rc = tb_stmt_step(st, &row)) && row)
		snprintf(hash, sizeof(hash), "%s", tb_stmt_text(st, 0));
	tb_stmt_done(st);
	if (rc)
		return rc;
	if (!row || !current || crypto_pwhash_str_verify(hash, current, strlen(current)) != 0)
		return tb_fail(err, TB_EINVAL, "current_password", "the current password is wrong");
	if ((rc = hash_password(next, hash)))
		return rc;
	if ((rc = tb_db_prepare(
		 db, "UPDATE users SET password_hash = ?, updated_at = ? WHERE id = ?", &st)))
		return rc;
	char ts[32];
	idn_now(ts);
	tb_stmt_bind_text(st, 1, hash);
	tb_stmt_bind_text(st, 2, ts);
	tb_stmt_bind_int(st, 3, p->user_id);
	rc = tb_stmt_exec(st, NULL);
	tb_stmt_done(st);
	return rc ? rc : tb_identity_sessions_end_all(db, p->user_id, p->session_id, now, err);
}

tb_rc tb_identity_set_phone(struct tb_db *db, int64_t user_id, const char *phone_in,
			    struct tb_err *err)
{
	char phone[12], idx[65], mask[12], sealed[IDN_SEALED_MAX], ts[32];
	if (!idn_phone(phone_in, "phone", phone, err))
		return TB_EINVAL;
	tb_rc rc;
	if ((rc = idn_index(phone, idx)) ||
	    (rc = idn_seal("users", "phone", user_id, phone, strlen(phone), sealed)))
		return rc;
	tb_mask_phone(phone, mask, sizeof(mask));
	idn_now(ts);
	struct tb_stmt *st;
	if ((rc = tb_db_prepare(
		 db,
		 "UPDATE users SET phone_sealed = ?, phone_index = ?, phone_masked = ?, "
		 "updated_at = ? WHERE id = ?",
		 &st)))
		return rc;
	tb_stmt_bind_text(st, 1, sealed);
	tb_stmt_bind_text(st, 2, idx);
	tb_stmt_bind_text(st, 3, mask);
	tb_stmt_bind_text(st, 4, ts);
	tb_stmt_bind_int(st, 5, user_id);
	rc = tb_stmt_exec(st, NULL);
	tb_stmt_done(st);
	if (rc == TB_ECONFLICT)
		return tb_fail(err, rc, "phone", "this phone number belongs to another account");
	return rc;
}

/* ---- reading accounts ---- */

struct user_row {
	int64_t id;
	char kind[8], name[192], id_number[19], phone[12], id_masked[19], phone_masked[12];
	char created_at[40], department[24], region[16];
	int assurance;
};

static tb_rc read_user(struct tb_db *db, int64_t id, bool open_data, struct user_row *u)
{
	struct tb_stmt *st;
	bool row = false;
	memset(u, 0, sizeof(*u));
	tb_rc rc = tb_db_prepare(db,
				 "SELECT kind, name, id_number_sealed, phone_sealed, "
				 "id_number_masked, phone_masked, assurance, created_at, "
				 "department, region FROM users WHERE id = ?",
				 &st);
	if (rc)
		return rc;
	tb_stmt_bind_int(st, 1, id);
	if (!(rc = tb_stmt_step(st, &row)) && row) {
		u->id = id;
		snprintf(u->kind, sizeof(u->kind), "%s", tb_stmt_text(st, 0));
		snprintf(u->name, sizeof(u->name), "%s", tb_stmt_text(st, 1));
		if (open_data) {
			rc = idn_open("users", "id_number", id, tb_stmt_text(st, 2), u->id_number,
				      sizeof(u->id_number), NULL);
			if (!rc && !tb_stmt_null(st, 3))
				rc = idn_open("users", "phone", id, tb_stmt_text(st, 3), u->phone,
					      sizeof(u->phone), NULL);
		}
		snprintf(u->id_masked, sizeof(u->id_masked), "%s", tb_stmt_text(st, 4));
		snprintf(u->phone_masked, sizeof(u->phone_masked), "%s",
			 tb_stmt_null(st, 5) ? "" : tb_stmt_text(st, 5));
		u->assurance = (int)tb_stmt_int(st, 6);
		snprintf(u->created_at, sizeof(u->created_at), "%s", tb_stmt_text(st, 7));
		snprintf(u->department, sizeof(u->department), "%s",
			 tb_stmt_null(st, 8) ? "" : tb_stmt_text(st, 8));
		snprintf(u->region, sizeof(u->region), "%s",
			 tb_stmt_null(st, 9) ? "" : tb_stmt_text(st, 9));
	}
	tb_stmt_done(st);
	if (rc == TB_EINVAL) {
		tb_log(TB_LOG_ERROR, "identity",
		       "user %lld: sealed data does not open (another data key?)", (long long)id);
		return TB_EINTERNAL;
	}
	return rc ? rc : row ? TB_OK : TB_ENOTFOUND;
}

tb_rc idn_user_json(struct tb_db *db, int64_t id, bool full, json_t **out);
tb_rc idn_user_json(struct tb_db *db, int64_t id, bool full, json_t **out)
{
	struct user_row u;
	tb_rc rc = read_user(db, id, full, &u);
	if (rc)
		return rc;
	*out = json_pack("{s:I,s:s,s:s,s:s,s:s*,s:i,s:s}", "id", (json_int_t)id, "kind", u.kind,
			 "name", u.name, "id_number", full ? u.id_number : u.id_masked, "phone",
			 full		     ? u.phone
			 : u.phone_masked[0] ? u.phone_masked
					     : NULL,
			 "assurance", u.assurance, "created_at", u.created_at);
	if (!strcmp(u.kind, "staff")) {
		json_object_set_new(*out, "department",
				    u.department[0] ? json_string(u.department) : json_null());
		json_object_set_new(*out, "region",
				    u.region[0] ? json_string(u.region) : json_null());
	}
	return *out ? TB_OK : TB_ENOMEM;
}

tb_rc tb_identity_me(struct tb_db *db, int64_t user_id, json_t **out, struct tb_err *err)
{
	tb_rc rc = idn_user_json(db, user_id, true, out);
	return rc == TB_ENOTFOUND ? tb_fail(err, rc, NULL, "no such account") : rc;
}

tb_rc idn_enterprises_of(struct tb_db *db, int64_t user_id, const char *today, json_t **items);

tb_rc tb_identity_claims(struct tb_db *db, int64_t user_id, unsigned scopes, bool full_id,
			 json_t **out, struct tb_err *err)
{
	struct user_row u;
	tb_rc rc = read_user(db, user_id, true, &u);
	if (rc)
		return rc == TB_ENOTFOUND ? tb_fail(err, rc, NULL, "no such account") : rc;
	char sub[24];
	snprintf(sub, sizeof(sub), "%lld", (long long)user_id);
	json_t *c = json_pack("{s:s,s:s}", "sub", sub, "kind", u.kind);
	if (scopes & TB_CLAIMS_PROFILE) {
		char acr[16];
		snprintf(acr, sizeof(acr), "tongban:l%d", u.assurance);
		json_object_set_new(c, "name", json_string(u.name));
		json_object_set_new(c, "assurance", json_integer(u.assurance));
		json_object_set_new(c, "acr", json_string(acr));
	}
	if ((scopes & TB_CLAIMS_PHONE) && u.phone[0]) {
		json_object_set_new(c, "phone_number", json_string(u.phone));
		json_object_set_new(c, "phone_number_verified", json_false());
	}
	if (scopes & TB_CLAIMS_IDCARD)
		json_object_set_new(c, "id_number",
				    json_string(full_id ? u.id_number : u.id_masked));
	if (scopes & TB_CLAIMS_ENTERPRISE) {
		char today[11];
		idn_today(today);
		json_t *items = NULL;
		if ((rc = idn_enterprises_of(db, user_id, today, &items))) {
			json_decref(c);
			return rc;
		}
		json_object_set_new(c, "enterprises", items);
	}
	tb_crypto_wipe(&u, sizeof(u));
	*out = c;
	return TB_OK;
}
