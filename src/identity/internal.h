/* internal.h: what the identity block's files share (not for other blocks). */
#ifndef TB_IDENTITY_INTERNAL_H
#define TB_IDENTITY_INTERNAL_H

#include "identity/identity.h"
#include "store/store.h"

/* A sealed value as base64url text: TB_SEAL_OVERHEAD + up to 64 bytes. */
#define IDN_SEALED_MAX 192

const struct tb_seal_key *idn_key(void);
/* Seal plain under "<table>.<column>.<row>" into out (base64url, NUL-terminated). */
tb_rc idn_seal(const char *table, const char *column, int64_t row, const void *plain, size_t n,
	       char out[IDN_SEALED_MAX]);
/* Open what idn_seal made; out gets the plaintext NUL-terminated (n bytes). */
tb_rc idn_open(const char *table, const char *column, int64_t row, const char *sealed, char *out,
	       size_t outlen, size_t *n);
tb_rc idn_index(const char *value, char hex[65]);
/* The person account holding the (checked) ID number idn: *id (0 when none) and its
 * name into name[namelen]. */
tb_rc idn_find_person(struct tb_db *db, const char *idn, int64_t *id, char *name, size_t namelen);
/* Validate an ID number (GB 11643) into its normal form (check char upper case). */
bool idn_id_number(const char *in, const char *field, char out[19], struct tb_err *err);
bool idn_phone(const char *in, const char *field, char out[12], struct tb_err *err);
bool idn_name(const char *in, const char *field, struct tb_err *err);
/* Does the person (user id) hold this ID number's index? */
tb_rc idn_user_index(struct tb_db *db, int64_t user_id, char hex[65], char *name, size_t nlen);
void idn_now(char out[32]);
/* "YYYY-MM-DD" of today in +08:00. */
void idn_today(char out[11]);
/* RFC 3339 (+08:00) of a UNIX time. */
void idn_time(long long t, char out[32]);
/* A random base64url string of n random bytes (n <= 48). */
tb_rc idn_random_token(size_t n, char *out, size_t outlen);
/* Load the grants of a staff principal. */
tb_rc idn_load_grants(struct tb_db *db, struct tb_principal *p);
/* Fill p->acting for enterprise_id if p still holds a live capacity (clears it otherwise). */
tb_rc idn_load_acting(struct tb_db *db, struct tb_principal *p, int64_t enterprise_id,
		      const char *today);
bool idn_date_valid(const char *s);

#endif
