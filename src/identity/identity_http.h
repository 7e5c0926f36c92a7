/* identity_http.h: the identity block's routes and the authenticate callback that
 * main.c puts in struct tb_app. */
#ifndef TB_IDENTITY_IDENTITY_HTTP_H
#define TB_IDENTITY_IDENTITY_HTTP_H

#include "http/http.h"

extern const struct tb_route tb_identity_routes[];

/* struct tb_app.authenticate: the session cookie or a bearer token -> r->principal. */
tb_rc tb_identity_authenticate(struct tb_req *r, struct tb_err *err);

#endif
