/* jobs_http.h: the scheduler's HTTP route (the node list an operator reads). */
#ifndef TB_JOBS_JOBS_HTTP_H
#define TB_JOBS_JOBS_HTTP_H

#include "http/http.h"

extern const struct tb_route tb_jobs_routes[];

#endif
