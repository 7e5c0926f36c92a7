/* test_multipart.c: multipart/form-data parsing (http/multipart.c), on bodies written
 * by hand for the edge cases and on one that Node's FormData (undici, a real client)
 * encodes. */
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

struct parsed {
	struct tb_arena arena;
	struct tb_part parts[8];
	size_t n;
	struct tb_err err;
	tb_rc rc;
};

static struct parsed *parse_n(const char *ct, const char *body, size_t len, size_t max)
{
	static struct parsed p;
	tb_arena_release(&p.arena);
	memset(&p, 0, sizeof(p));
	tb_arena_init(&p.arena, 1 << 20);
	p.rc = tb_multipart_parse(ct, body, len, p.parts, max, &p.n, &p.arena, &p.err);
	return &p;
}

static struct parsed *parse(const char *ct, const char *body)
{
	return parse_n(ct, body, strlen(body), 8);
}

static void assert_data(const struct tb_part *part, const char *want, size_t n)
{
	assert_int_equal(part->len, n);
	assert_memory_equal(part->data, want, n);
}

static void test_simple(void **state)
{
	(void)state;
	const char *body = "--xyz\r\n"
			   "Content-Disposition: form-data; name=\"material\"\r\n"
			   "\r\n"
			   "3\r\n"
			   "--xyz\r\n"
			   "content-disposition: form-data; name=\"file\"; filename=\"a.pdf\"\r\n"
			   "Content-Type: Application/PDF; x=y\r\n"
			   "\r\n"
			   "%PDF-1.4\r\n\r\nline\r\n"
			   "--xyz--\r\n";
	struct parsed *p = parse("multipart/form-data; boundary=xyz", body);
	assert_int_equal(p->rc, TB_OK);
	assert_int_equal(p->n, 2);
	assert_string_equal(p->parts[0].name, "material");
	assert_null(p->parts[0].filename);
	assert_null(p->parts[0].content_type);
	assert_data(&p->parts[0], "3", 1);
	assert_string_equal(p->parts[1].name, "file");
	assert_string_equal(p->parts[1].filename, "a.pdf");
	assert_string_equal(p->parts[1].content_type, "application/pdf");
	assert_data(&p->parts[1], "%PDF-1.4\r\n\r\nline", 16);
	/* data points into the body: no copies */
	assert_true(p->parts[1].data > body && p->parts[1].data < body + strlen(body));
}

static void test_quoted_boundary_preamble_epilogue(void **state)
{
	(void)state;
	const char *body = "This is the preamble. --b? not here\r\n"
			   "--a b:c?\r\n"
			   "Content-Disposition: form-data; name=x\r\n"
			   "\r\n"
			   "v\r\n"
			   "--a b:c?--  \r\n"
			   "epilogue\r\n--a b:c?\r\nignored";
	struct parsed *p = parse("Multipart/Form-Data ; charset=utf-8; boundary=\"a b:c?\"", body);
	assert_int_equal(p->rc, TB_OK);
	assert_int_equal(p->n, 1);
	assert_string_equal(p->parts[0].name, "x");
	assert_data(&p->parts[0], "v", 1);
	/* transport padding after a delimiter */
	p = parse("multipart/form-data; boundary=q",
		  "--q \t\r\nContent-Disposition: form-data; name=\"n\"\r\n\r\n1\r\n--q--");
	assert_int_equal(p->rc, TB_OK);
	assert_int_equal(p->n, 1);
}

static void test_filenames(void **state)
{
	(void)state;
	/* filename* (RFC 5987) wins over filename and is percent-decoded */
	struct parsed *p = parse(
	    "multipart/form-data; boundary=B",
	    "--B\r\nContent-Disposition: form-data; name=\"file\"; filename=\"fallback.pdf\"; "
	    "filename*=utf-8''%E8%90%A5%E4%B8%9A%E6%89%A7%E7%85%A7.pdf\r\n\r\nx\r\n--B--\r\n");
	assert_int_equal(p->rc, TB_OK);
	assert_string_equal(p->parts[0].filename, "营业执照.pdf");
	/* paths are stripped, both kinds; a backslash is not an escape, an escaped quote is */
	p = parse("multipart/form-data; boundary=B",
		  "--B\r\nContent-Disposition: form-data; name=\"f\"; "
		  "filename=\"C:\\Users\\me\\scan \\\"1\\\".png\"\r\n\r\nx\r\n--B--\r\n");
	assert_int_equal(p->rc, TB_OK);
	assert_string_equal(p->parts[0].filename, "scan \"1\".png");
	p = parse("multipart/form-data; boundary=B",
		  "--B\r\nContent-Disposition: form-data; name=\"f\"; "
		  "filename=\"../../etc/passwd\"\r\n\r\nx\r\n--B--\r\n");
	assert_string_equal(p->parts[0].filename, "passwd");
	/* the WHATWG encoding of a quote */
	p = parse("multipart/form-data; boundary=B",
		  "--B\r\nContent-Disposition: form-data; name=\"f\"; "
		  "filename=\"%22q%22.pdf\"\r\n\r\nx\r\n--B--\r\n");
	assert_string_equal(p->parts[0].filename, "\"q\".pdf");
	/* control characters, over-long names, bad escapes and bad UTF-8 are 400s */
	p = parse("multipart/form-data; boundary=B",
		  "--B\r\nContent-Disposition: form-data; name=\"f\"; "
		  "filename*=UTF-8''a%0Ab.pdf\r\n\r\nx\r\n--B--\r\n");
	assert_int_equal(p->rc, TB_EINVAL);
	assert_string_equal(p->err.field, "f");
	assert_non_null(strstr(p->err.msg, "control"));
	p = parse("multipart/form-data; boundary=B",
		  "--B\r\nContent-Disposition: form-data; name=\"f\"; "
		  "filename*=UTF-8''a%0\r\n\r\nx\r\n--B--\r\n");
	assert_int_equal(p->rc, TB_EINVAL);
	p = parse("multipart/form-data; boundary=B",
		  "--B\r\nContent-Disposition: form-data; name=\"f\"; "
		  "filename*=ISO-8859-1''a%E9.pdf\r\n\r\nx\r\n--B--\r\n");
	assert_int_equal(p->rc, TB_EINVAL);
	p = parse("multipart/form-data; boundary=B",
		  "--B\r\nContent-Disposition: form-data; name=\"f\"; "
		  "filename=\"\xff\xfe.pdf\"\r\n\r\nx\r\n--B--\r\n");
	assert_int_equal(p->rc, TB_EINVAL);
	assert_non_null(strstr(p->err.msg, "UTF-8"));
	char body[1024], longname[300];
	memset(longname, 'a', 256);
	longname[256] = 0;
	snprintf(body, sizeof(body),
		 "--B\r\nContent-Disposition: form-data; name=\"f\"; filename=\"%s\"\r\n\r\nx\r\n"
		 "--B--\r\n",
		 longname);
	p = parse("multipart/form-data; boundary=B", body);
	assert_int_equal(p->rc, TB_EINVAL);
	assert_non_null(strstr(p->err.msg, "255"));
	longname[255] = 0; /* exactly 255 bytes is fine */
	snprintf(body, sizeof(body),
		 "--B\r\nContent-Disposition: form-data; name=\"f\"; filename=\"%s\"\r\n\r\nx\r\n"
		 "--B--\r\n",
		 longname);
	p = parse("multipart/form-data; boundary=B", body);
	assert_int_equal(p->rc, TB_OK);
	assert_int_equal(strlen(p->parts[0].filename), 255);
}

static void test_boundary_inside_data(void **state)
{
	(void)state;
	/* the boundary text inside data (not after CRLF, or followed by more text) is data */
	const char *body = "--bd\r\n"
			   "Content-Disposition: form-data; name=\"file\"; filename=\"x.bin\"\r\n"
			   "\r\n"
			   "a--bd b\r\n--bdX\r\n--bd-\r\n"
			   "--bd\r\n"
			   "Content-Disposition: form-data; name=\"t\"\r\n\r\n"
			   "\r\n--bd--";
	struct parsed *p = parse("multipart/form-data; boundary=bd", body);
	assert_int_equal(p->rc, TB_OK);
	assert_int_equal(p->n, 2);
	assert_data(&p->parts[0], "a--bd b\r\n--bdX\r\n--bd-", 21);
	assert_data(&p->parts[1], "", 0);
}

static void test_binary_and_empty_file(void **state)
{
	(void)state;
	char body[512];
	size_t n = 0;
	n += (size_t)sprintf(body + n,
			     "--Z\r\nContent-Disposition: form-data; name=\"bin\"; "
			     "filename=\"b\"\r\nContent-Type: application/octet-stream\r\n\r\n");
	for (int i = 0; i < 256; i++)
		body[n++] = (char)i;
	n += (size_t)sprintf(body + n, "\r\n--Z\r\nContent-Disposition: form-data; name=\"empty\"; "
				       "filename=\"\"\r\n\r\n\r\n--Z--\r\n");
	struct parsed *p = parse_n("multipart/form-data; boundary=Z", body, n, 8);
	assert_int_equal(p->rc, TB_OK);
	assert_int_equal(p->n, 2);
	assert_int_equal(p->parts[0].len, 256);
	for (int i = 0; i < 256; i++)
		assert_int_equal((unsigned char)p->parts[0].data[i], i);
	assert_string_equal(p->parts[1].filename, "");
	assert_int_equal(p->parts[1].len, 0);
}

static void test_errors(void **state)
{
	(void)state;
	const char *one = "--B\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n1\r\n--B--\r\n";
	/* not multipart: 415 */
	struct parsed *p = parse("application/json", "{}");
	assert_int_equal(p->rc, TB_ETYPE);
	assert_string_equal(p->err.field, "Content-Type");
	p = parse(NULL, one);
	assert_int_equal(p->rc, TB_ETYPE);
	p = parse("multipart/form-datax; boundary=B", one);
	assert_int_equal(p->rc, TB_ETYPE);
	p = parse("multipart/mixed; boundary=B", one);
	assert_int_equal(p->rc, TB_ETYPE);
	/* no boundary, a bad one */
	p = parse("multipart/form-data", one);
	assert_int_equal(p->rc, TB_EINVAL);
	assert_string_equal(p->err.field, "Content-Type");
	assert_non_null(strstr(p->err.msg, "boundary"));
	p = parse("multipart/form-data; boundary=\"\"", one);
	assert_int_equal(p->rc, TB_EINVAL);
	p = parse("multipart/form-data; boundary=\"a\001\"", one);
	assert_int_equal(p->rc, TB_EINVAL);
	p = parse("multipart/form-data; boundary=\"unterminated", one);
	assert_int_equal(p->rc, TB_EINVAL);
	/* the boundary never appears */
	p = parse("multipart/form-data; boundary=C", one);
	assert_int_equal(p->rc, TB_EINVAL);
	assert_string_equal(p->err.field, "body");
	p = parse("multipart/form-data; boundary=B", "");
	assert_int_equal(p->rc, TB_EINVAL);
	/* missing final boundary */
	p = parse("multipart/form-data; boundary=B",
		  "--B\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n1\r\n");
	assert_int_equal(p->rc, TB_EINVAL);
	assert_non_null(strstr(p->err.msg, "closing boundary"));
	/* headers that never end */
	p = parse("multipart/form-data; boundary=B",
		  "--B\r\nContent-Disposition: form-data; name=\"a\"\r\n");
	assert_int_equal(p->rc, TB_EINVAL);
	/* no Content-Disposition, not form-data, no name, a line without colon, folding */
	p = parse("multipart/form-data; boundary=B",
		  "--B\r\nContent-Type: text/plain\r\n\r\n1\r\n--B--\r\n");
	assert_int_equal(p->rc, TB_EINVAL);
	assert_non_null(strstr(p->err.msg, "Content-Disposition"));
	p = parse("multipart/form-data; boundary=B", "--B\r\n\r\n1\r\n--B--\r\n");
	assert_int_equal(p->rc, TB_EINVAL);
	p = parse("multipart/form-data; boundary=B",
		  "--B\r\nContent-Disposition: attachment; name=\"a\"\r\n\r\n1\r\n--B--\r\n");
	assert_int_equal(p->rc, TB_EINVAL);
	p = parse("multipart/form-data; boundary=B",
		  "--B\r\nContent-Disposition: form-data; filename=\"a\"\r\n\r\n1\r\n--B--\r\n");
	assert_int_equal(p->rc, TB_EINVAL);
	assert_non_null(strstr(p->err.msg, "no name"));
	p = parse(
	    "multipart/form-data; boundary=B",
	    "--B\r\nContent-Disposition: form-data; name=\"a\"\r\nbogus\r\n\r\n1\r\n--B--\r\n");
	assert_int_equal(p->rc, TB_EINVAL);
	p = parse("multipart/form-data; boundary=B",
		  "--B\r\nContent-Disposition: form-data;\r\n name=\"a\"\r\n\r\n1\r\n--B--\r\n");
	assert_int_equal(p->rc, TB_EINVAL);
	p = parse(
	    "multipart/form-data; boundary=B",
	    "--B\r\nContent-Disposition: form-data; name=\"a\"; name=\"b\"\r\n\r\n1\r\n--B--\r\n");
	assert_int_equal(p->rc, TB_EINVAL);
	assert_non_null(strstr(p->err.msg, "repeats"));
	p = parse(
	    "multipart/form-data; boundary=B",
	    "--B\r\nContent-Disposition: form-data; name=\"a\"\r\nContent-Type: nonsense\r\n\r\n1"
	    "\r\n--B--\r\n");
	assert_int_equal(p->rc, TB_EINVAL);
	/* the good one still parses */
	p = parse("multipart/form-data; boundary=B", one);
	assert_int_equal(p->rc, TB_OK);
}

static void test_too_many_parts(void **state)
{
	(void)state;
	char body[2048] = "";
	for (int i = 0; i < 5; i++)
		snprintf(body + strlen(body), sizeof(body) - strlen(body),
			 "--B\r\nContent-Disposition: form-data; name=\"p%d\"\r\n\r\n%d\r\n", i, i);
	strcat(body, "--B--\r\n");
	struct parsed *p = parse_n("multipart/form-data; boundary=B", body, strlen(body), 5);
	assert_int_equal(p->rc, TB_OK);
	assert_int_equal(p->n, 5);
	assert_string_equal(p->parts[4].name, "p4");
	p = parse_n("multipart/form-data; boundary=B", body, strlen(body), 4);
	assert_int_equal(p->rc, TB_ETOOBIG);
	assert_non_null(strstr(p->err.msg, "more than 4 parts"));
}

/* A body as Node's FormData (undici) writes it: what the portal's fetch sends. */
static void test_real_client(void **state)
{
	(void)state;
	const char *js =
	    "const fd = new FormData();"
	    "fd.append('material', '3');"
	    "const bytes = new Uint8Array(300); for (let i = 0; i < 300; i++) bytes[i] = i % 256;"
	    "fd.append('file', new Blob([bytes], {type: 'image/png'}), 'C:\\\\tmp\\\\身份证 "
	    "\"正面\".png');"
	    "fd.append('empty', new Blob([]), '');"
	    "const r = new Response(fd);"
	    "r.arrayBuffer().then(b => { process.stdout.write(r.headers.get('content-type') + "
	    "'\\n');"
	    " process.stdout.write(Buffer.from(b)); });";
	char path[64], cmd[128];
	snprintf(path, sizeof(path), "/tmp/tb-test-multipart-%d.js", (int)getpid());
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(js, f);
	fclose(f);
	snprintf(cmd, sizeof(cmd), "node %s", path);
	FILE *pp = popen(cmd, "r");
	assert_non_null(pp);
	static char out[8192];
	size_t n = fread(out, 1, sizeof(out), pp);
	assert_int_equal(pclose(pp), 0);
	remove(path);
	char *nl = memchr(out, '\n', n);
	assert_non_null(nl);
	*nl = 0;
	struct parsed *p = parse_n(out, nl + 1, n - (size_t)(nl + 1 - out), 8);
	assert_int_equal(p->rc, TB_OK);
	assert_int_equal(p->n, 3);
	assert_string_equal(p->parts[0].name, "material");
	assert_data(&p->parts[0], "3", 1);
	assert_string_equal(p->parts[1].name, "file");
	assert_string_equal(p->parts[1].filename, "身份证 \"正面\".png");
	assert_string_equal(p->parts[1].content_type, "image/png");
	assert_int_equal(p->parts[1].len, 300);
	for (int i = 0; i < 300; i++)
		assert_int_equal((unsigned char)p->parts[1].data[i], i % 256);
	assert_string_equal(p->parts[2].name, "empty");
	assert_int_equal(p->parts[2].len, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_simple),
	    cmocka_unit_test(test_quoted_boundary_preamble_epilogue),
	    cmocka_unit_test(test_filenames),
	    cmocka_unit_test(test_boundary_inside_data),
	    cmocka_unit_test(test_binary_and_empty_file),
	    cmocka_unit_test(test_errors),
	    cmocka_unit_test(test_too_many_parts),
	    cmocka_unit_test(test_real_client),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
