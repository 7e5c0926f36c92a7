/* fuzz_http.c: the HTTP edge's own parsers: route matching with path parameters
 * (server.c's match()), the JSON nesting pre-scan (json_depth()), Accept-Language
 * (pick_lang()), the static path check (path_escapes()), the listen address
 * (parse_listen()). The static functions are reached by including the sources.
 * Input: a NUL-separated list "pattern\0path\0rest..." is cut from the bytes. */
#include "../src/http/server.c"
#include "../src/http/static.c"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);
	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = 0;
	/* the first NUL splits pattern from path */
	const char *pattern = s;
	const char *path = strlen(s) < size ? s + strlen(s) + 1 : "";

	struct tb_req r;
	memset(&r, 0, sizeof(r));
	tb_arena_init(&r.arena, 1 << 20);
	if (match(&r, pattern, path)) {
		/* every captured parameter is a non-empty segment without '/' */
		for (int i = 0; i < r.nparams; i++)
			if (!*r.param_values[i] || strchr(r.param_values[i], '/'))
				abort();
	}
	tb_arena_release(&r.arena);

	int depth = json_depth(s, size);
	if (depth < 0 || (size_t)depth > size)
		abort();
	(void)pick_lang(s);
	(void)path_escapes(s);
	(void)has_extension(s);
	(void)mime_of(s);
	struct sockaddr_storage ss;
	struct tb_err err;
	if (size < 300)
		(void)parse_listen(s, &ss, &err);
	free(s);
	return 0;
}
