#include "base/tb.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

tb_rc tb_fail(struct tb_err *err, tb_rc rc, const char *field, const char *fmt, ...)
{
	if (!err)
		return rc;
	snprintf(err->field, sizeof(err->field), "%s", field ? field : "");
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	return rc;
}

const char *tb_rc_str(tb_rc rc)
{
	switch (rc) {
	case TB_OK:
		return "ok";
	case TB_EINVAL:
		return "invalid input";
	case TB_ENOTFOUND:
		return "not found";
	case TB_ECONFLICT:
		return "conflict";
	case TB_EFORBIDDEN:
		return "forbidden";
	case TB_EUNAUTH:
		return "unauthenticated";
	case TB_ETOOBIG:
		return "too big";
	case TB_ENOMEM:
		return "out of memory";
	case TB_EIO:
		return "i/o error";
	case TB_EDB:
		return "database error";
	case TB_EUNAVAIL:
		return "database unavailable";
	case TB_EINTERNAL:
		return "internal error";
	case TB_ETYPE:
		return "unsupported media type";
	}
	return "unknown";
}
