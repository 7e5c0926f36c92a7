/* cases_http.h: the routes of case handling (docs/cases.md). */
#ifndef TB_CASES_CASES_HTTP_H
#define TB_CASES_CASES_HTTP_H

#include "http/http.h"

extern const struct tb_route tb_cases_routes[];

#endif
