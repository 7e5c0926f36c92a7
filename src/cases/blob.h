/* blob.h: uploaded files (申请材料), stored once per SHA-256 in the database.
 *
 * Accepted kinds, told from the content by libmagic, never from the name or the
 * declared type: PDF (application/pdf), JPEG (image/jpeg), PNG (image/png) and OFD
 * (application/ofd: GB/T 33190, a ZIP whose root holds OFD.xml). */
#ifndef TB_CASES_BLOB_H
#define TB_CASES_BLOB_H

#include "base/buf.h"
#include "base/tb.h"

struct tb_db;

/* The cap of one file (bytes). */
#define TB_BLOB_MAX (20u << 20)

/* The kind of data: *mime gets one of the four types above. TB_ETYPE (415, err->field
 * = field) when the content is none of them, or when `declared` (the part's
 * Content-Type; NULL or "application/octet-stream": not checked) names another kind;
 * TB_ETOOBIG when len > TB_BLOB_MAX; TB_EINVAL when len is 0. Thread-safe. */
tb_rc tb_blob_sniff(const void *data, size_t len, const char *declared, const char *field,
		    const char **mime, struct tb_err *err);

struct tb_blob_info {
	char sha256[65]; /* lower-case hex */
	const char *mime;
	int64_t size;
	bool existed; /* the same bytes were stored before */
};
/* Sniff and store data (inside the caller's write transaction); the same bytes are
 * stored once. */
tb_rc tb_blob_put(struct tb_db *db, const void *data, size_t len, const char *declared,
		  const char *field, struct tb_blob_info *out, struct tb_err *err);
/* The same in two steps, so that the work on the bytes (sniffing, hashing) happens
 * before the write transaction: prepare fills out without the database; store inserts
 * what prepare described (data: the same bytes). */
tb_rc tb_blob_prepare(const void *data, size_t len, const char *declared, const char *field,
		      struct tb_blob_info *out, struct tb_err *err);
tb_rc tb_blob_store(struct tb_db *db, const void *data, struct tb_blob_info *info,
		    struct tb_err *err);
/* The bytes of a blob appended to out; *mime (borrowed from a static table) set. */
tb_rc tb_blob_get(struct tb_db *db, const char *sha256, struct tb_buf *out, const char **mime,
		  struct tb_err *err);

#endif
