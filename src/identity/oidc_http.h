/* oidc_http.h: the OpenID Connect provider's routes (docs/oidc.md). */
#ifndef TB_IDENTITY_OIDC_HTTP_H
#define TB_IDENTITY_OIDC_HTTP_H

#include "http/http.h"

extern const struct tb_route tb_oidc_routes[];

#endif
