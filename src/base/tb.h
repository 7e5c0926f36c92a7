/* tb.h: the status type every fallible tongban function returns. */
#ifndef TB_BASE_TB_H
#define TB_BASE_TB_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

/* A status. TB_OK is 0 so that `if (rc) goto fail;` reads naturally.
 * The human-readable detail travels separately (struct tb_err), owned by the caller. */
typedef enum tb_rc {
	TB_OK = 0,
	TB_EINVAL,    /* bad input from the caller: maps to 400/422 */
	TB_ENOTFOUND, /* maps to 404 */
	TB_ECONFLICT, /* already exists / version clash: 409 */
	TB_EFORBIDDEN,
	TB_EUNAUTH,
	TB_ETOOBIG, /* a cap was passed: 413 */
	TB_ENOMEM,
	TB_EIO,	     /* files, sockets */
	TB_EDB,	     /* the store failed */
	TB_EUNAVAIL, /* the store is unreachable: 503 */
	TB_EINTERNAL,
	TB_ETYPE, /* content of a kind not accepted, or not what it claims: 415 */
} tb_rc;

/* Details of a failure: a message and, for validation, the field it concerns.
 * Fixed-size so that filling it never allocates. */
struct tb_err {
	char field[96];
	char msg[256];
};

/* Fill err (may be NULL) and return rc. printf-style. */
tb_rc tb_fail(struct tb_err *err, tb_rc rc, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

const char *tb_rc_str(tb_rc rc);

#define TB_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

#endif
