/* blob.c: telling uploads apart by content (libmagic) and storing them once per
 * SHA-256. */
#include "cases/blob.h"
#include "base/log.h"
#include "store/store.h"

#include <magic.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

/* The accepted kinds, and the Content-Types clients declare for each (browsers and
 * operating systems disagree: Windows says image/pjpeg or application/x-zip-compressed,
 * and few know .ofd, whose files then come as a ZIP or as application/octet-stream). */
static const struct kind {
	const char *mime;
	const char *aliases[4];
} kinds[] = {
    {"application/pdf", {"application/x-pdf"}},
    {"image/jpeg", {"image/jpg", "image/pjpeg"}},
    {"image/png", {"image/x-png"}},
    {"application/ofd", {"application/zip", "application/x-zip-compressed"}},
};

/* ---- libmagic, one handle per thread ---- */

/* A magic_t is not safe to share between threads: each thread loads its own on first
 * use (the compiled database is mapped: about 1 ms, 5 ms cold) and frees it when the
 * thread exits. */
static pthread_key_t magic_key;
static pthread_once_t magic_once = PTHREAD_ONCE_INIT;
static int magic_key_rc;

static void magic_free(void *m)
{
	magic_close(m);
}

static void magic_key_init(void)
{
	magic_key_rc = pthread_key_create(&magic_key, magic_free);
}

static magic_t thread_magic(void)
{
	pthread_once(&magic_once, magic_key_init);
	if (magic_key_rc)
		return NULL;
	magic_t m = pthread_getspecific(magic_key);
	if (m)
		return m;
	/* never look inside compressed data: no decompression of what a stranger sent */
	m = magic_open(MAGIC_MIME_TYPE | MAGIC_NO_CHECK_COMPRESS);
	if (!m)
		return NULL;
	if (magic_load(m, NULL) != 0) {
		tb_log(TB_LOG_ERROR, "blob", "libmagic cannot load its database: %s",
		       magic_error(m) ? magic_error(m) : "?");
		magic_close(m);
		return NULL;
	}
	if (pthread_setspecific(magic_key, m)) {
		magic_close(m);
		return NULL;
	}
	return m;
}

/* ---- OFD: a ZIP whose root holds OFD.xml ---- */

static uint32_t le16(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8;
}

static uint32_t le32(const unsigned char *p)
{
	return le16(p) | le16(p + 2) << 16;
}

/* True when the ZIP's central directory lists OFD.xml at the root and the entry's
 * local file header carries the same name (a reader that walks local headers and one
 * that reads the directory then agree on it). ZIP64 archives are not OFD-sized. */
static bool zip_has_ofd_xml(const unsigned char *z, size_t n)
{
	static const char want[] = "OFD.xml";
	const size_t wl = sizeof(want) - 1;
	if (n < 22 || memcmp(z, "PK\3\4", 4))
		return false;
	/* the end of central directory record: 22 bytes plus a comment of up to 64 KiB */
	size_t lo = n > 22 + 65535 ? n - 22 - 65535 : 0;
	const unsigned char *eocd = NULL;
	for (size_t i = n - 22 + 1; i-- > lo;)
		if (!memcmp(z + i, "PK\5\6", 4) && i + 22 + le16(z + i + 20) == n) {
			eocd = z + i;
			break;
		}
	if (!eocd)
		return false;
	uint32_t entries = le16(eocd + 10), cd_size = le32(eocd + 12), cd_off = le32(eocd + 16);
	if ((size_t)cd_off > n || (size_t)cd_size > n - cd_off || z + cd_off + cd_size > eocd)
		return false;
	const unsigned char *p = z + cd_off, *end = p + cd_size;
	for (uint32_t e = 0; e < entries; e++) {
		if (end - p < 46 || memcmp(p, "PK\1\2", 4))
			return false;
		size_t nl = le16(p + 28), xl = le16(p + 30), cl = le16(p + 32);
		uint32_t local = le32(p + 42);
		if ((size_t)(end - p) < 46 + nl + xl + cl)
			return false;
		if (nl == wl && !memcmp(p + 46, want, wl)) {
			if ((size_t)local > n || n - local < 30 + wl)
				return false;
			const unsigned char *lh = z + local;
			return !memcmp(lh, "PK\3\4", 4) && le16(lh + 26) == wl &&
			       !memcmp(lh + 30, want, wl);
		}
		p += 46 + nl + xl + cl;
	}
	return false;
}

/* ---- sniffing ---- */

static const struct kind *declared_kind(const char *declared)
{
	char t[128];
	size_t l = strcspn(declared, ";");
	while (l && (declared[l - 1] == ' ' || declared[l - 1] == '\t'))
		l--;
	while (l && (*declared == ' ' || *declared == '\t'))
		declared++, l--;
	if (l >= sizeof(t))
		return NULL;
	memcpy(t, declared, l);
	t[l] = 0;
	for (size_t i = 0; i < TB_ARRAY_LEN(kinds); i++) {
		if (!strcasecmp(t, kinds[i].mime))
			return &kinds[i];
		for (size_t a = 0; a < TB_ARRAY_LEN(kinds[i].aliases) && kinds[i].aliases[a]; a++)
			if (!strcasecmp(t, kinds[i].aliases[a]))
				return &kinds[i];
	}
	return NULL;
}

static bool not_declared(const char *declared)
{
	if (!declared)
		return true;
	size_t l = strcspn(declared, ";");
	while (*declared == ' ')
		declared++, l--;
	return l == 0 || (!strncasecmp(declared, "application/octet-stream", 24) &&
			  (l == 24 || declared[24] == ' '));
}

#define SNIFF_BYTES (16 << 10)

tb_rc tb_blob_sniff(const void *data, size_t len, const char *declared, const char *field,
		    const char **mime, struct tb_err *err)
{
	if (len == 0)
		return tb_fail(err, TB_EINVAL, field, "the file is empty");
	if (len > TB_BLOB_MAX)
		return tb_fail(err, TB_ETOOBIG, field, "the file is larger than %u MiB",
			       TB_BLOB_MAX >> 20);
	magic_t m = thread_magic();
	if (!m)
		return tb_fail(err, TB_EINTERNAL, field, "libmagic is not available");
	/* the kinds accepted are told by their first bytes: libmagic need not look
	 * further (it runs its text and encoding rules over all it is given: a tenth of a
	 * submission's CPU with three 100 KiB files, bench/cases.sh); OFD's ZIP is looked
	 * into below over the whole file */
	const char *found = magic_buffer(m, data, len < SNIFF_BYTES ? len : SNIFF_BYTES);
	if (!found)
		return tb_fail(err, TB_EINTERNAL, field, "libmagic: %s",
			       magic_error(m) ? magic_error(m) : "?");
	const struct kind *k = NULL;
	for (size_t i = 0; i < TB_ARRAY_LEN(kinds) && !k; i++)
		if (!strcmp(found, kinds[i].mime))
			k = &kinds[i];
	if (!k &&
	    (!strcmp(found, "application/zip") || !strcmp(found, "application/octet-stream")) &&
	    zip_has_ofd_xml(data, len))
		k = &kinds[3];
	if (!k)
		return tb_fail(err, TB_ETYPE, field,
			       "the file is %s; only PDF, JPEG, PNG and OFD files are accepted",
			       found);
	if (!not_declared(declared) && declared_kind(declared) != k)
		return tb_fail(err, TB_ETYPE, field,
			       "the file is %s, not the %.64s it is declared as", k->mime,
			       declared);
	*mime = k->mime;
	return TB_OK;
}

/* ---- storing ---- */

static bool sha256_hex(const void *data, size_t len, char out[65])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int ml = 0;
	if (!EVP_Digest(data, len, md, &ml, EVP_sha256(), NULL) || ml != 32)
		return false;
	for (unsigned i = 0; i < 32; i++)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
	return true;
}

tb_rc tb_blob_put(struct tb_db *db, const void *data, size_t len, const char *declared,
		  const char *field, struct tb_blob_info *out, struct tb_err *err)
{
	const char *mime;
	tb_rc rc = tb_blob_sniff(data, len, declared, field, &mime, err);
	if (rc)
		return rc;
	if (!sha256_hex(data, len, out->sha256))
		return tb_fail(err, TB_EINTERNAL, field, "SHA-256 failed");
	out->mime = mime;
	out->size = (int64_t)len;
	char now[32];
	tb_time_rfc3339(now);
	struct tb_stmt *st;
	/* the same bytes are kept once: a second upload only refers to them */
	rc = tb_db_prepare(db,
			   "INSERT INTO blobs (sha256, mime, size, data, created_at) "
			   "VALUES (?, ?, ?, ?, ?) ON CONFLICT (sha256) DO NOTHING",
			   &st);
	if (rc)
		return tb_fail(err, rc, NULL, "%s", tb_db_errmsg(db));
	int64_t changes = 0;
	if (!(rc = tb_stmt_bind_text(st, 1, out->sha256)) &&
	    !(rc = tb_stmt_bind_text(st, 2, mime)) && !(rc = tb_stmt_bind_int(st, 3, out->size)) &&
	    !(rc = tb_stmt_bind_blob(st, 4, data, len)) && !(rc = tb_stmt_bind_text(st, 5, now)))
		rc = tb_stmt_exec(st, &changes);
	if (rc)
		tb_fail(err, rc, NULL, "%s", tb_db_errmsg(db));
	tb_stmt_done(st);
	out->existed = !rc && changes == 0;
	return rc;
}

static bool is_sha256_hex(const char *s)
{
	size_t i = 0;
	for (; s[i]; i++)
		if (i == 64 || !((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return i == 64;
}

tb_rc tb_blob_get(struct tb_db *db, const char *sha256, struct tb_buf *out, const char **mime,
		  struct tb_err *err)
{
	if (!sha256 || !is_sha256_hex(sha256))
		return tb_fail(err, TB_EINVAL, "sha256", "not a lower-case hex SHA-256");
	struct tb_stmt *st;
	tb_rc rc = tb_db_prepare(db, "SELECT mime, data FROM blobs WHERE sha256 = ?", &st);
	if (rc)
		return tb_fail(err, rc, NULL, "%s", tb_db_errmsg(db));
	bool row = false;
	if (!(rc = tb_stmt_bind_text(st, 1, sha256)))
		rc = tb_stmt_step(st, &row);
	if (rc) {
		tb_fail(err, rc, NULL, "%s", tb_db_errmsg(db));
	} else if (!row) {
		rc = tb_fail(err, TB_ENOTFOUND, "sha256", "no such file");
	} else {
		const char *m = tb_stmt_text(st, 0);
		*mime = "application/octet-stream";
		for (size_t i = 0; m && i < TB_ARRAY_LEN(kinds); i++)
			if (!strcmp(m, kinds[i].mime))
				*mime = kinds[i].mime;
		size_t n = 0;
		const void *p = tb_stmt_blob(st, 1, &n);
		if (!p)
			rc = tb_fail(err, TB_EDB, NULL, "the blob %s has no data", sha256);
		else if ((rc = tb_buf_append(out, p, n)))
			tb_fail(err, rc, NULL, "the file does not fit the buffer");
	}
	tb_stmt_done(st);
	return rc;
}
