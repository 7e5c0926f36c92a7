/* principal.h: whose behalf a request acts on: a person or a staff member, the
 * enterprise a person acts for, and staff roles over departments and regions
 * (docs/identity.md). Filled by the http edge from the request's credentials, read by
 * every block; base, so that blocks need not include http. */
#ifndef TB_BASE_PRINCIPAL_H
#define TB_BASE_PRINCIPAL_H

#include "base/tb.h"

/* Staff roles (docs/identity.md), as bits so that a route can admit several. */
enum tb_role {
	TB_ROLE_CLERK = 1u << 0,	  /* window clerk */
	TB_ROLE_APPROVER = 1u << 1,	  /* 审批 */
	TB_ROLE_DEPT_ADMIN = 1u << 2,	  /* department administrator */
	TB_ROLE_SUPERVISOR = 1u << 3,	  /* 监察 */
	TB_ROLE_PLATFORM_ADMIN = 1u << 4, /* the whole platform */
	TB_ROLE_AUDITOR = 1u << 5,	  /* reads the audit log */
};
#define TB_ROLE_ALL 0x3fu
/* "clerk" ... for one bit; NULL otherwise. */
const char *tb_role_name(unsigned role);
/* The bit for a name, 0 if unknown. */
unsigned tb_role_from_name(const char *name);

enum tb_principal_kind { TB_PRINCIPAL_ANONYMOUS, TB_PRINCIPAL_PERSON, TB_PRINCIPAL_STAFF };
enum tb_capacity { TB_CAPACITY_NONE, TB_CAPACITY_LEGAL_REP, TB_CAPACITY_AGENT };

#define TB_PRINCIPAL_MAX_GRANTS 16

/* A role over a department (USCC; "" = every department) and a region (division code;
 * "" = every region). A grant covers a target region equal to its own or below it. */
struct tb_grant {
	unsigned role; /* one enum tb_role bit */
	char department[19];
	char region[13];
};

struct tb_principal {
	enum tb_principal_kind kind; /* ANONYMOUS: nobody logged in */
	int64_t user_id, session_id;
	int assurance; /* 1 self-declared, 2 checked against a registry, 3 in person */
	int aal;       /* 1 password, 2 password + TOTP */
	bool via_cookie, via_bearer;
	long long expires_at; /* UNIX seconds: the session's absolute expiry */
	char name[192];
	char csrf_token[64]; /* cookie sessions: what X-CSRF-Token must carry */
	struct {
		enum tb_capacity capacity; /* NONE: acting for oneself */
		int64_t enterprise_id;
		char uscc[19];
		char name[256];
		char scope[512]; /* agents: "*" or comma-separated catalog codes */
	} acting;
	struct tb_grant grants[TB_PRINCIPAL_MAX_GRANTS];
	int ngrants;
};

/* true when p is staff holding a role in `roles` through a grant that covers the
 * department (NULL: any) and region (NULL: any): the grant's department is "" or equal,
 * and its region is "" or region itself or an ancestor of it (tb_code_region_parent). */
bool tb_principal_has_role(const struct tb_principal *p, unsigned roles, const char *department,
			   const char *region);
/* true when p acts for an enterprise and may do so for the service item catalog_code:
 * as its legal representative, or as an agent whose scope is "*" or names the code. */
bool tb_principal_acting_covers(const struct tb_principal *p, const char *catalog_code);

#endif
