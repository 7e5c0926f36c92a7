/* principal.c: roles and jurisdiction of a request's principal (principal.h). */
#include "base/principal.h"
#include "base/codes.h"

#include <string.h>

static const char *const role_names[] = {"clerk",      "approver",	 "dept_admin",
					 "supervisor", "platform_admin", "auditor"};

const char *tb_role_name(unsigned role)
{
	for (size_t i = 0; i < TB_ARRAY_LEN(role_names); i++)
		if (role == 1u << i)
			return role_names[i];
	return NULL;
}

unsigned tb_role_from_name(const char *name)
{
	for (size_t i = 0; name && i < TB_ARRAY_LEN(role_names); i++)
		if (!strcmp(name, role_names[i]))
			return 1u << i;
	return 0;
}

/* true when `region` is `ancestor` or lies below it. */
static bool region_within(const char *region, const char *ancestor)
{
	char cur[16], parent[16];
	if (strlen(region) >= sizeof(cur))
		return false;
	strcpy(cur, region);
	for (int depth = 0; depth < 8; depth++) {
		if (!strcmp(cur, ancestor))
			return true;
		if (!tb_code_region_parent(cur, parent))
			return false;
		strcpy(cur, parent);
	}
	return false;
}

bool tb_principal_has_role(const struct tb_principal *p, unsigned roles, const char *department,
			   const char *region)
{
	if (!p || p->kind != TB_PRINCIPAL_STAFF)
		return false;
	for (int i = 0; i < p->ngrants; i++) {
		const struct tb_grant *g = &p->grants[i];
		if (!(g->role & roles))
			continue;
		if (department && g->department[0] && strcmp(department, g->department))
			continue;
		if (region && g->region[0] && !region_within(region, g->region))
			continue;
		return true;
	}
	return false;
}

bool tb_principal_acting_covers(const struct tb_principal *p, const char *catalog_code)
{
	if (!p || p->acting.capacity == TB_CAPACITY_NONE)
		return false;
	if (p->acting.capacity == TB_CAPACITY_LEGAL_REP || !strcmp(p->acting.scope, "*"))
		return true;
	size_t n = catalog_code ? strlen(catalog_code) : 0;
	for (const char *s = p->acting.scope; n && *s;) {
		const char *comma = strchr(s, ',');
		size_t len = comma ? (size_t)(comma - s) : strlen(s);
		if (len == n && !memcmp(s, catalog_code, n))
			return true;
		s += len + (comma ? 1 : 0);
	}
	return false;
}
