/* static.c: the portal's files, with ETag and Cache-Control, never outside web_root. */
#include "http/http.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <microhttpd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *mime_of(const char *path)
{
	static const struct {
		const char *ext, *type;
	} types[] = {
	    {".html", "text/html; charset=utf-8"},
	    {".js", "text/javascript; charset=utf-8"},
	    {".mjs", "text/javascript; charset=utf-8"},
	    {".css", "text/css; charset=utf-8"},
	    {".json", "application/json; charset=utf-8"},
	    {".svg", "image/svg+xml"},
	    {".png", "image/png"},
	    {".jpg", "image/jpeg"},
	    {".jpeg", "image/jpeg"},
	    {".ico", "image/x-icon"},
	    {".woff2", "font/woff2"},
	    {".woff", "font/woff"},
	    {".ttf", "font/ttf"},
	    {".txt", "text/plain; charset=utf-8"},
	    {".webmanifest", "application/manifest+json"},
	    {".map", "application/json"},
	};
	const char *dot = strrchr(path, '.');
	if (dot && !strchr(dot, '/'))
		for (size_t i = 0; i < TB_ARRAY_LEN(types); i++)
			if (!strcasecmp(dot, types[i].ext))
				return types[i].type;
	return "application/octet-stream";
}

/* True if any segment of path is "..", or it holds a backslash or a NUL byte. */
static bool path_escapes(const char *path)
{
	if (strchr(path, '\\'))
		return true;
	for (const char *p = path; (p = strstr(p, "..")); p += 2) {
		bool start = p == path || p[-1] == '/';
		bool end = p[2] == 0 || p[2] == '/';
		if (start && end)
			return true;
	}
	return false;
}

static bool has_extension(const char *path)
{
	const char *slash = strrchr(path, '/');
	const char *dot = strrchr(path, '.');
	return dot && (!slash || dot > slash);
}

void tb_http_static(struct tb_req *r)
{
	const char *root = r->app->web_root;
	if (!root) {
		tb_http_reply_error(r, 404, "not-found", NULL, "no such resource: %s", r->path);
		return;
	}
	if (path_escapes(r->path) || r->path[0] != '/') {
		tb_http_reply_error(r, 400, "bad-path", "path", "the path may not contain '..'");
		return;
	}
	char rootreal[PATH_MAX], full[PATH_MAX * 2], real[PATH_MAX];
	if (!realpath(root, rootreal)) {
		tb_http_reply_error(r, 404, "not-found", NULL, "the portal is not installed");
		return;
	}
	const char *rel = strcmp(r->path, "/") ? r->path : "/index.html";
	snprintf(full, sizeof(full), "%s%s", rootreal, rel);
	struct stat st;
	if (stat(full, &st) || !S_ISREG(st.st_mode)) {
		if (has_extension(rel)) {
			tb_http_reply_error(r, 404, "not-found", NULL, "no such file: %s", r->path);
			return;
		}
		/* a route of the single-page app: the app itself answers it */
		snprintf(full, sizeof(full), "%s/index.html", rootreal);
		rel = "/index.html";
		if (stat(full, &st) || !S_ISREG(st.st_mode)) {
			tb_http_reply_error(r, 404, "not-found", NULL, "the portal is not built");
			return;
		}
	}
	size_t rl = strlen(rootreal);
	if (!realpath(full, real) || strncmp(real, rootreal, rl) || real[rl] != '/') {
		tb_http_reply_error(r, 404, "not-found", NULL, "no such file: %s", r->path);
		return;
	}
	char etag[64];
	snprintf(etag, sizeof(etag), "\"%llx-%llx\"", (unsigned long long)st.st_size,
		 (unsigned long long)st.st_mtim.tv_sec * 1000000000ull +
		     (unsigned long long)st.st_mtim.tv_nsec);
	const char *cache =
	    !strncmp(rel, "/assets/", 8) ? "public, max-age=31536000, immutable" : "no-cache";
	tb_http_add_header(r, "ETag", etag);
	tb_http_add_header(r, "Cache-Control", cache);
	const char *inm = tb_http_header(r, "If-None-Match");
	if (inm && (strstr(inm, etag) || !strcmp(inm, "*"))) {
		tb_http_reply(r, 304, NULL, NULL, 0);
		return;
	}
	int fd = open(real, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		tb_http_reply_error(r, 404, "not-found", NULL, "no such file: %s", r->path);
		return;
	}
	tb_http_reply(r, 200, mime_of(real), NULL, 0);
	r->resp_fd = fd;
	r->resp_fd_size = (uint64_t)st.st_size;
	r->resp_len = (size_t)st.st_size;
}
