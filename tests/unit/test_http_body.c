/* test_http_body.c: body caps per route, through a real server (http/server.c on a
 * loopback port) and a real client (curl): a route's own cap applies, a declared
 * Content-Length over it and a chunked body that grows over it both get a 413
 * problem, and the connection stays usable after a body that was drained. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "http/http.h"

static void echo_len(struct tb_req *r)
{
	tb_http_reply_json(r, 200, json_pack("{s:I}", "len", (json_int_t)r->body.len));
}

static const struct tb_route test_routes[] = {
    {"POST", "/t/small", echo_len, TB_AUTH_PUBLIC, 0, 0},
    {"POST", "/t/big", echo_len, TB_AUTH_PUBLIC, 0, 256 * 1024},
    {NULL, NULL, NULL, 0, 0, 0},
};

static struct tb_app app = {.max_body = 4096, .access_log_fd = -1};
static struct tb_server *server;
static char dir[64];

static int setup(void **state)
{
	(void)state;
	struct tb_err err = {0};
	if (!tb_http_add_routes(test_routes) ||
	    tb_server_start(&app, "127.0.0.1:0", 2, &server, &err) != TB_OK)
		return -1;
	strcpy(dir, "/tmp/tb-test-body.XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	tb_server_stop(server, 1);
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

/* A file of n bytes in dir; returns its path. */
static const char *data_file(size_t n)
{
	static char path[128];
	snprintf(path, sizeof(path), "%s/body-%zu", dir, n);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	for (size_t i = 0; i < n; i++)
		fputc('a' + (int)(i % 26), f);
	fclose(f);
	return path;
}

struct answer {
	int status, connects;
	char type[128];
	char body[1024];
};

/* Runs curl with args (then a URL path of the server); with `again`, a second small
 * request to /t/small on the same curl handle, whose answer goes to *second. */
static void curl(const char *args, const char *path, struct answer *first, struct answer *second)
{
	char cmd[2048], out1[128], out2[128];
	snprintf(out1, sizeof(out1), "%s/out1", dir);
	snprintf(out2, sizeof(out2), "%s/out2", dir);
	int n = snprintf(cmd, sizeof(cmd),
			 "curl -s -o %s -w '%%{http_code} %%{num_connects} %%{content_type}\\n' "
			 "-H 'Content-Type: application/octet-stream' %s http://127.0.0.1:%u%s",
			 out1, args, tb_server_port(server), path);
	if (second)
		snprintf(cmd + n, sizeof(cmd) - (size_t)n,
			 " --next -s -o %s -w '%%{http_code} %%{num_connects} "
			 "%%{content_type}\\n' -H 'Content-Type: application/json' -d '{}' "
			 "http://127.0.0.1:%u/t/small",
			 out2, tb_server_port(server));
	if (getenv("TB_TEST_DEBUG"))
		fprintf(stderr, "%s\n", cmd);
	FILE *p = popen(cmd, "r");
	assert_non_null(p);
	struct answer *a[2] = {first, second};
	for (int i = 0; i < (second ? 2 : 1); i++) {
		memset(a[i], 0, sizeof(*a[i]));
		char line[256];
		assert_non_null(fgets(line, sizeof(line), p));
		assert_true(sscanf(line, "%d %d %127[^\n]", &a[i]->status, &a[i]->connects,
				   a[i]->type) >= 2);
		FILE *f = fopen(i ? out2 : out1, "r");
		if (f) {
			size_t got = fread(a[i]->body, 1, sizeof(a[i]->body) - 1, f);
			a[i]->body[got] = 0;
			fclose(f);
			remove(i ? out2 : out1);
		}
	}
	pclose(p);
}

static void assert_413(const struct answer *a, const char *cap)
{
	assert_int_equal(a->status, 413);
	assert_non_null(strstr(a->type, "application/problem+json"));
	assert_non_null(strstr(a->body, "\"status\":413"));
	assert_non_null(strstr(a->body, "\"field\":\"body\""));
	assert_non_null(strstr(a->body, cap));
}

static void test_route_cap(void **state)
{
	(void)state;
	struct answer a, b;
	char args[256];
	/* the route's cap admits what the app's would not */
	snprintf(args, sizeof(args), "-H 'Expect:' --data-binary @%s", data_file(200 * 1024));
	curl(args, "/t/big", &a, NULL);
	assert_int_equal(a.status, 200);
	assert_string_equal(a.body, "{\"len\":204800}");
	snprintf(args, sizeof(args), "-H 'Expect:' --data-binary @%s", data_file(256 * 1024));
	curl(args, "/t/big", &a, NULL);
	assert_int_equal(a.status, 200);
	/* routes without one keep the app's */
	snprintf(args, sizeof(args), "--data-binary @%s", data_file(4096));
	curl(args, "/t/small", &a, NULL);
	assert_int_equal(a.status, 200);
	snprintf(args, sizeof(args), "--data-binary @%s", data_file(4097));
	curl(args, "/t/small", &a, &b);
	assert_413(&a, "4096 bytes");
	assert_int_equal(b.status, 200);
	assert_int_equal(b.connects, 0); /* the same connection answered the next request */
}

static void test_declared_too_big(void **state)
{
	(void)state;
	struct answer a, b;
	char args[256];
	/* Content-Length over the cap, body sent at once: read, dropped, 413, kept alive */
	snprintf(args, sizeof(args), "-H 'Expect:' --data-binary @%s", data_file(300 * 1024));
	curl(args, "/t/big", &a, &b);
	assert_413(&a, "262144 bytes");
	assert_int_equal(b.status, 200);
	assert_int_equal(b.connects, 0);
	/* a client that waits for 100 Continue is answered before it sends the body */
	snprintf(args, sizeof(args), "-H 'Expect: 100-continue' --data-binary @%s",
		 data_file(300 * 1024));
	curl(args, "/t/big", &a, &b);
	assert_413(&a, "262144 bytes");
	assert_int_equal(b.status, 200);
}

static void test_chunked_too_big(void **state)
{
	(void)state;
	struct answer a, b;
	char args[256];
	snprintf(args, sizeof(args), "-H 'Transfer-Encoding: chunked' --data-binary @%s",
		 data_file(200 * 1024));
	curl(args, "/t/big", &a, NULL);
	assert_int_equal(a.status, 200);
	assert_string_equal(a.body, "{\"len\":204800}");
	snprintf(args, sizeof(args), "-H 'Transfer-Encoding: chunked' --data-binary @%s",
		 data_file(300 * 1024));
	curl(args, "/t/big", &a, &b);
	assert_413(&a, "262144 bytes");
	assert_int_equal(b.status, 200);
	assert_int_equal(b.connects, 0);
}

/* Past twice the cap (and a MiB) the body is not drained. A declared length that big
 * is answered at once and the connection closed: curl then sees the 413 or, when the
 * close resets the connection while it still sends, nothing (TCP discards the answer;
 * libmicrohttpd 0.9.75 has no lingering close). A chunked body that grows that big
 * loses its connection: libmicrohttpd refuses a response queued in the middle of a
 * body. Either way nothing is kept and the server answers the next request. */
static void test_far_too_big(void **state)
{
	(void)state;
	struct answer a, b;
	char args[256];
	const char *f = data_file(4u << 20);
	snprintf(args, sizeof(args), "-H 'Expect:' --data-binary @%s", f);
	curl(args, "/t/big", &a, &b);
	assert_true(a.status == 413 || a.status == 0);
	if (a.status == 413)
		assert_413(&a, "262144 bytes");
	assert_int_equal(b.status, 200);
	snprintf(args, sizeof(args), "-H 'Transfer-Encoding: chunked' --data-binary @%s", f);
	curl(args, "/t/big", &a, &b);
	assert_true(a.status == 100 || a.status == 0);
	assert_int_equal(b.status, 200);
	assert_int_equal(b.connects, 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_route_cap),
	    cmocka_unit_test(test_declared_too_big),
	    cmocka_unit_test(test_chunked_too_big),
	    cmocka_unit_test(test_far_too_big),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
