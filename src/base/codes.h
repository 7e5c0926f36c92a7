/* codes.h: check algorithms of the national codes (shared/STANDARDS.md §1, §2, §5, §7).
 * Every function takes a NUL-terminated string and never reads past its end. */
#ifndef TB_BASE_CODES_H
#define TB_BASE_CODES_H

#include "base/tb.h"

/* GB 11643-1999 resident identity number: 18 chars, area code of 6 digits whose
 * province part is a real province code, a real birth date not in the future and not
 * before 1850 (STANDARDS.md lists a valid number of someone born in 1880), 3-digit sequence, ISO
 * 7064 MOD 11-2 check ('X' upper case only). On failure err->msg says which part is wrong. */
bool tb_code_id_number_valid(const char *s, struct tb_err *err);
/* The check character for the first 17 digits (s must hold 17 digits). */
char tb_code_id_number_check(const char *s17);

/* GB 11714 organisation code (9 chars, 8 [0-9A-Z] + check 0-9/X). */
bool tb_code_org_code_valid(const char *s);

/* GB 32100-2015 unified social credit code: 18 chars from 0123456789ABCDEFGHJKLMNPQRTUWXY,
 * the check char, and the inner GB 11714 check of chars 9-17. */
bool tb_code_uscc_valid(const char *s, struct tb_err *err);
/* The GB 32100 check character for the first 17 chars, or 0 if one is not in the alphabet. */
char tb_code_uscc_check(const char *s17);

/* 12-char catalog code (基本编码): [0-9A-Z]{12}. */
bool tb_code_catalog_valid(const char *s, struct tb_err *err);
/* 31-char implementation code: valid USCC(18) + level '1'-'6' + catalog code(12). */
bool tb_code_impl_valid(const char *s, struct tb_err *err);

/* GB/T 2260 + statistics bureau division code: digits, length 2, 4, 6, 9 or 12,
 * not all-zero levels where a level is present (e.g. "4400" is not a city), except the
 * county part of towns in cities without counties (441900003 东莞市东城街道). */
bool tb_code_region_valid(const char *s);
/* Parent code of a division (length 4->2, 6->4, 9->6 or 4 when the county part is 00,
 * 12->9) into out (>= 13 bytes);
 * false for a top-level code. */
bool tb_code_region_parent(const char *s, char *out);
/* Level 1 province .. 5 village from the length; 0 if invalid. */
int tb_code_region_level(const char *s);

/* ISO/IEC 7064 MOD 37,36 check character over [0-9A-Z] (GB/T 36904 licence ids). */
char tb_code_mod37_36(const char *s);
/* GB/T 36904 licence identifier 1.2.156.3005.2.<type 21>.<issuer 18>.<serial>.<version 3>.<check>.
 */
bool tb_code_licence_id_valid(const char *s, struct tb_err *err);

#endif
