/* catalog_http.h: the catalogue's HTTP routes. */
#ifndef TB_CATALOG_CATALOG_HTTP_H
#define TB_CATALOG_CATALOG_HTTP_H

#include "http/http.h"

extern const struct tb_route tb_catalog_routes[];

#endif
