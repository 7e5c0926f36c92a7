/* test_blob.c: uploads told apart by content with the real libmagic (cases/blob.c),
 * and stored once per SHA-256. The sample files are built here byte by byte as their
 * formats define them (a PNG with CRCs and a zlib stream, a baseline JPEG that libjpeg
 * decodes to one gray block, an OFD package as a stored ZIP), so nothing binary sits
 * in the tree. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/buf.h"
#include "cases/blob.h"
#include "store/store.h"

/* ---- sample files ---- */

static uint32_t crc32_of(const unsigned char *p, size_t n)
{
	uint32_t c = 0xffffffffu;
	for (size_t i = 0; i < n; i++) {
		c ^= p[i];
		for (int k = 0; k < 8; k++)
			c = c & 1 ? (c >> 1) ^ 0xedb88320u : c >> 1;
	}
	return c ^ 0xffffffffu;
}

static void put_be32(struct tb_buf *b, uint32_t v)
{
	unsigned char x[4] = {(unsigned char)(v >> 24), (unsigned char)(v >> 16),
			      (unsigned char)(v >> 8), (unsigned char)v};
	tb_buf_append(b, x, 4);
}

static void put_le(struct tb_buf *b, uint32_t v, int bytes)
{
	for (int i = 0; i < bytes; i++)
		tb_buf_putc(b, (char)(v >> (8 * i)));
}

static void png_chunk(struct tb_buf *b, const char *type, const unsigned char *data, size_t n)
{
	put_be32(b, (uint32_t)n);
	size_t at = b->len;
	tb_buf_append(b, type, 4);
	tb_buf_append(b, data, n);
	put_be32(b, crc32_of((const unsigned char *)b->data + at, n + 4));
}

/* A 2x2 RGB PNG: IHDR, one IDAT (a zlib stream of one stored deflate block), IEND. */
static void make_png(struct tb_buf *b)
{
	tb_buf_append(b, "\x89PNG\r\n\x1a\n", 8);
	const unsigned char ihdr[13] = {0, 0, 0, 2, 0, 0, 0, 2, 8, 2, 0, 0, 0};
	png_chunk(b, "IHDR", ihdr, sizeof(ihdr));
	/* two scanlines: filter byte 0, then 2 pixels of RGB */
	const unsigned char raw[14] = {0, 255, 0, 0, 0, 255, 0, 0, 0, 0, 255, 255, 255, 255};
	unsigned char z[2 + 5 + sizeof(raw) + 4];
	size_t n = 0;
	z[n++] = 0x78, z[n++] = 0x01;			     /* deflate, 32K window, check bits */
	z[n++] = 1;					     /* final block, stored */
	z[n++] = sizeof(raw), z[n++] = 0;		     /* LEN */
	z[n++] = (unsigned char)~sizeof(raw), z[n++] = 0xff; /* NLEN */
	memcpy(z + n, raw, sizeof(raw));
	n += sizeof(raw);
	uint32_t a = 1, s = 0; /* Adler-32 */
	for (size_t i = 0; i < sizeof(raw); i++)
		a = (a + raw[i]) % 65521, s = (s + a) % 65521;
	uint32_t adler = s << 16 | a;
	z[n++] = (unsigned char)(adler >> 24), z[n++] = (unsigned char)(adler >> 16);
	z[n++] = (unsigned char)(adler >> 8), z[n++] = (unsigned char)adler;
	png_chunk(b, "IDAT", z, n);
	png_chunk(b, "IEND", NULL, 0);
}

/* An 8x8 gray baseline JPEG (JFIF): quantisation all 1, one-code Huffman tables, and
 * one block whose DC difference is 0 and whose AC is an EOB: mid-gray. (Checked once
 * with libjpeg: decodes to 8x8, every pixel 128, no warnings.) */
static void make_jpeg(struct tb_buf *b)
{
	static const unsigned char head[] = {
	    0xFF, 0xD8,								 /* SOI */
	    0xFF, 0xE0, 0, 16, 'J', 'F', 'I', 'F', 0, 1, 1, 0, 0, 1, 0, 1, 0, 0, /* APP0 */
	};
	tb_buf_append(b, head, sizeof(head));
	static const unsigned char dqt[] = {0xFF, 0xDB, 0, 67, 0};
	tb_buf_append(b, dqt, sizeof(dqt));
	for (int i = 0; i < 64; i++)
		tb_buf_putc(b, 1);
	static const unsigned char sof[] = {0xFF, 0xC0, 0, 11, 8, 0, 8, 0, 8, 1, 1, 0x11, 0};
	tb_buf_append(b, sof, sizeof(sof));
	for (int t = 0; t < 2; t++) { /* DC table 0, AC table 0: one symbol, code "0" */
		unsigned char dht[22] = {0xFF, 0xC4, 0, 20, (unsigned char)(t ? 0x10 : 0x00), 1};
		tb_buf_append(b, dht, sizeof(dht));
	}
	static const unsigned char scan[] = {
	    0xFF, 0xDA, 0, 8, 1, 1, 0, 0, 63, 0, 0x3F, /* bits 0 (DC 0), 0 (EOB), padding 1s */
	    0xFF, 0xD9};
	tb_buf_append(b, scan, sizeof(scan));
}

static void make_pdf(struct tb_buf *b)
{
	const char *objs[] = {
	    "<< /Type /Catalog /Pages 2 0 R >>",
	    "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
	    "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] >>",
	};
	size_t off[3];
	tb_buf_puts(b, "%PDF-1.4\n");
	for (int i = 0; i < 3; i++) {
		off[i] = b->len;
		tb_buf_printf(b, "%d 0 obj\n%s\nendobj\n", i + 1, objs[i]);
	}
	size_t xref = b->len;
	tb_buf_puts(b, "xref\n0 4\n0000000000 65535 f \n");
	for (int i = 0; i < 3; i++)
		tb_buf_printf(b, "%010zu 00000 n \n", off[i]);
	tb_buf_printf(b, "trailer\n<< /Size 4 /Root 1 0 R >>\nstartxref\n%zu\n%%%%EOF\n", xref);
}

struct zip_entry {
	const char *name, *data;
};

/* A ZIP (stored, no compression) of the entries: local headers, central directory,
 * end record, as APPNOTE.TXT lays them out. */
static void make_zip(struct tb_buf *b, const struct zip_entry *e, int n)
{
	size_t offs[8];
	for (int i = 0; i < n; i++) {
		size_t nl = strlen(e[i].name), dl = strlen(e[i].data);
		uint32_t crc = crc32_of((const unsigned char *)e[i].data, dl);
		offs[i] = b->len;
		tb_buf_append(b, "PK\3\4", 4);
		put_le(b, 20, 2), put_le(b, 0, 2), put_le(b, 0, 2); /* version, flags, stored */
		put_le(b, 0, 2), put_le(b, 0x21, 2);		    /* time, date (1980-01-01) */
		put_le(b, crc, 4), put_le(b, (uint32_t)dl, 4), put_le(b, (uint32_t)dl, 4);
		put_le(b, (uint32_t)nl, 2), put_le(b, 0, 2);
		tb_buf_append(b, e[i].name, nl);
		tb_buf_append(b, e[i].data, dl);
	}
	size_t cd = b->len;
	for (int i = 0; i < n; i++) {
		size_t nl = strlen(e[i].name), dl = strlen(e[i].data);
		tb_buf_append(b, "PK\1\2", 4);
		put_le(b, 20, 2), put_le(b, 20, 2), put_le(b, 0, 2), put_le(b, 0, 2);
		put_le(b, 0, 2), put_le(b, 0x21, 2);
		put_le(b, crc32_of((const unsigned char *)e[i].data, dl), 4);
		put_le(b, (uint32_t)dl, 4), put_le(b, (uint32_t)dl, 4);
		put_le(b, (uint32_t)nl, 2), put_le(b, 0, 2), put_le(b, 0, 2); /* extra, comment */
		put_le(b, 0, 2), put_le(b, 0, 2), put_le(b, 0, 4);	      /* disk, attrs */
		put_le(b, (uint32_t)offs[i], 4);
		tb_buf_append(b, e[i].name, nl);
	}
	size_t cd_len = b->len - cd;
	tb_buf_append(b, "PK\5\6", 4);
	put_le(b, 0, 2), put_le(b, 0, 2), put_le(b, (uint32_t)n, 2), put_le(b, (uint32_t)n, 2);
	put_le(b, (uint32_t)cd_len, 4), put_le(b, (uint32_t)cd, 4), put_le(b, 0, 2);
}

static const char ofd_xml[] =
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
    "<ofd:OFD xmlns:ofd=\"http://www.ofdspec.org/2016\" Version=\"1.0\" DocType=\"OFD\">"
    "<ofd:DocBody><ofd:DocRoot>Doc_0/Document.xml</ofd:DocRoot></ofd:DocBody></ofd:OFD>\n";
static const char doc_xml[] = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
			      "<ofd:Document xmlns:ofd=\"http://www.ofdspec.org/2016\"/>\n";

static void make_ofd(struct tb_buf *b)
{
	const struct zip_entry e[] = {{"OFD.xml", ofd_xml}, {"Doc_0/Document.xml", doc_xml}};
	make_zip(b, e, 2);
}

/* ---- sniffing ---- */

static tb_rc sniff(struct tb_buf *b, const char *declared, const char **mime, struct tb_err *err)
{
	*mime = NULL;
	memset(err, 0, sizeof(*err));
	return tb_blob_sniff(b->data, b->len, declared, "file", mime, err);
}

static void test_accepted_kinds(void **state)
{
	(void)state;
	struct tb_buf b;
	struct tb_err err;
	const char *mime;
	void (*make[])(struct tb_buf *) = {make_pdf, make_jpeg, make_png, make_ofd};
	const char *want[] = {"application/pdf", "image/jpeg", "image/png", "application/ofd"};
	const char *alias[] = {"Application/PDF", "image/jpg", "image/png; foo=bar",
			       "application/zip"};
	for (int i = 0; i < 4; i++) {
		tb_buf_init(&b, 0);
		make[i](&b);
		assert_int_equal(sniff(&b, NULL, &mime, &err), TB_OK);
		assert_string_equal(mime, want[i]);
		assert_int_equal(sniff(&b, want[i], &mime, &err), TB_OK);
		assert_int_equal(sniff(&b, alias[i], &mime, &err), TB_OK);
		assert_int_equal(sniff(&b, "application/octet-stream", &mime, &err), TB_OK);
		assert_string_equal(mime, want[i]);
		tb_buf_release(&b);
	}
}

static void test_rejected(void **state)
{
	(void)state;
	struct tb_buf b;
	struct tb_err err;
	const char *mime;
	/* text */
	tb_buf_init(&b, 0);
	tb_buf_puts(&b, "申请书\nname: 张三\n");
	assert_int_equal(sniff(&b, NULL, &mime, &err), TB_ETYPE);
	assert_string_equal(err.field, "file");
	assert_non_null(strstr(err.msg, "text/plain"));
	assert_null(mime);
	/* a text file that calls itself a PDF is still text */
	assert_int_equal(sniff(&b, "application/pdf", &mime, &err), TB_ETYPE);
	tb_buf_release(&b);
	/* a PNG declared as a PDF */
	tb_buf_init(&b, 0);
	make_png(&b);
	assert_int_equal(sniff(&b, "application/pdf", &mime, &err), TB_ETYPE);
	assert_string_equal(err.field, "file");
	assert_non_null(strstr(err.msg, "image/png"));
	assert_non_null(strstr(err.msg, "application/pdf"));
	assert_int_equal(sniff(&b, "image/jpeg", &mime, &err), TB_ETYPE);
	tb_buf_release(&b);
	/* a ZIP without OFD.xml at its root, however its entries are named */
	const struct zip_entry plain[] = {{"readme.txt", "hello"}};
	const struct zip_entry nested[] = {{"Doc_0/OFD.xml", ofd_xml}, {"x/OFD.xml", ofd_xml}};
	const struct zip_entry lower[] = {{"ofd.xml", ofd_xml}};
	const struct zip_entry *zips[] = {plain, nested, lower};
	int nz[] = {1, 2, 1};
	for (int i = 0; i < 3; i++) {
		tb_buf_init(&b, 0);
		make_zip(&b, zips[i], nz[i]);
		assert_int_equal(sniff(&b, NULL, &mime, &err), TB_ETYPE);
		assert_int_equal(sniff(&b, "application/ofd", &mime, &err), TB_ETYPE);
		tb_buf_release(&b);
	}
	/* an OFD cut short (no central directory) is not one */
	tb_buf_init(&b, 0);
	make_ofd(&b);
	b.len -= 30;
	assert_int_equal(sniff(&b, NULL, &mime, &err), TB_ETYPE);
	tb_buf_release(&b);
	/* an OFD declared as an image */
	tb_buf_init(&b, 0);
	make_ofd(&b);
	assert_int_equal(sniff(&b, "image/png", &mime, &err), TB_ETYPE);
	tb_buf_release(&b);
	/* empty: 422; over the cap: 413 */
	assert_int_equal(tb_blob_sniff("", 0, NULL, "file", &mime, &err), TB_EINVAL);
	assert_string_equal(err.field, "file");
	tb_buf_init(&b, 0);
	make_pdf(&b);
	char *big = calloc(1, TB_BLOB_MAX + 1);
	assert_non_null(big);
	memcpy(big, b.data, b.len);
	assert_int_equal(tb_blob_sniff(big, TB_BLOB_MAX, NULL, "file", &mime, &err), TB_OK);
	assert_string_equal(mime, "application/pdf");
	assert_int_equal(tb_blob_sniff(big, TB_BLOB_MAX + 1, NULL, "file", &mime, &err),
			 TB_ETOOBIG);
	assert_non_null(strstr(err.msg, "20 MiB"));
	free(big);
	tb_buf_release(&b);
}

/* Each thread sniffs with its own libmagic handle; the handles go with the threads. */
static void *sniff_many(void *arg)
{
	(void)arg;
	struct tb_buf png, pdf;
	tb_buf_init(&png, 0);
	tb_buf_init(&pdf, 0);
	make_png(&png);
	make_pdf(&pdf);
	intptr_t bad = 0;
	for (int i = 0; i < 200; i++) {
		const char *mime = NULL;
		struct tb_err err;
		struct tb_buf *b = i % 2 ? &png : &pdf;
		if (sniff(b, NULL, &mime, &err) ||
		    strcmp(mime, i % 2 ? "image/png" : "application/pdf"))
			bad++;
	}
	tb_buf_release(&png);
	tb_buf_release(&pdf);
	return (void *)bad;
}

static void test_threads(void **state)
{
	(void)state;
	pthread_t t[4];
	for (int i = 0; i < 4; i++)
		assert_int_equal(pthread_create(&t[i], NULL, sniff_many, NULL), 0);
	for (int i = 0; i < 4; i++) {
		void *bad;
		pthread_join(t[i], &bad);
		assert_int_equal((intptr_t)bad, 0);
	}
}

/* ---- storing ---- */

static void sha256sum(const struct tb_buf *b, char out[65])
{
	char path[64], cmd[128];
	snprintf(path, sizeof(path), "/tmp/tb-test-blob-%d", (int)getpid());
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fwrite(b->data, 1, b->len, f);
	fclose(f);
	snprintf(cmd, sizeof(cmd), "sha256sum %s", path);
	FILE *p = popen(cmd, "r");
	assert_non_null(p);
	assert_int_equal(fscanf(p, "%64s", out), 1);
	pclose(p);
	remove(path);
}

static void test_put_get(void **state)
{
	(void)state;
	char dir[] = "/tmp/tb-test-blob.XXXXXX", url[128];
	assert_non_null(mkdtemp(dir));
	snprintf(url, sizeof(url), "sqlite:%s/t.db", dir);
	struct tb_store *s;
	struct tb_err err = {0};
	int applied;
	assert_int_equal(tb_store_open(url, &s, &err), TB_OK);
	assert_int_equal(tb_store_migrate(s, &applied, &err), TB_OK);
	struct tb_db *db = tb_store_db(s, &err);
	assert_non_null(db);

	struct tb_buf png, pdf, got;
	tb_buf_init(&png, 0);
	tb_buf_init(&pdf, 0);
	make_png(&png);
	make_pdf(&pdf);
	char want[65];
	sha256sum(&png, want);

	struct tb_blob_info a, b, c;
	assert_int_equal(tb_db_begin(db, true), TB_OK);
	assert_int_equal(tb_blob_put(db, png.data, png.len, "image/png", "file", &a, &err), TB_OK);
	assert_string_equal(a.sha256, want);
	assert_string_equal(a.mime, "image/png");
	assert_int_equal(a.size, (int64_t)png.len);
	assert_false(a.existed);
	/* the same bytes again: stored once */
	assert_int_equal(tb_blob_put(db, png.data, png.len, NULL, "file", &b, &err), TB_OK);
	assert_string_equal(b.sha256, want);
	assert_true(b.existed);
	assert_int_equal(tb_blob_put(db, pdf.data, pdf.len, NULL, "file", &c, &err), TB_OK);
	assert_false(c.existed);
	assert_string_not_equal(c.sha256, want);
	/* what is not accepted is not stored */
	assert_int_equal(tb_blob_put(db, "text\n", 5, NULL, "material_1", &c, &err), TB_ETYPE);
	assert_string_equal(err.field, "material_1");
	assert_int_equal(tb_db_commit(db), TB_OK);

	struct tb_stmt *st;
	bool row;
	assert_int_equal(tb_db_prepare(db, "SELECT COUNT(*) FROM blobs", &st), TB_OK);
	assert_int_equal(tb_stmt_step(st, &row), TB_OK);
	assert_int_equal(tb_stmt_int(st, 0), 2);
	tb_stmt_done(st);

	const char *mime = NULL;
	tb_buf_init(&got, 0);
	assert_int_equal(tb_blob_get(db, want, &got, &mime, &err), TB_OK);
	assert_string_equal(mime, "image/png");
	assert_int_equal(got.len, png.len);
	assert_memory_equal(got.data, png.data, png.len);
	tb_buf_release(&got);
	/* a cap on the caller's buffer is the caller's 413 */
	tb_buf_init(&got, 16);
	assert_int_equal(tb_blob_get(db, want, &got, &mime, &err), TB_ETOOBIG);
	tb_buf_release(&got);
	tb_buf_init(&got, 0);
	assert_int_equal(
	    tb_blob_get(db, "0000000000000000000000000000000000000000000000000000000000000000",
			&got, &mime, &err),
	    TB_ENOTFOUND);
	assert_int_equal(tb_blob_get(db, "ABC", &got, &mime, &err), TB_EINVAL);
	assert_int_equal(tb_blob_get(db, "' OR 1=1 --", &got, &mime, &err), TB_EINVAL);
	tb_buf_release(&got);

	tb_buf_release(&png);
	tb_buf_release(&pdf);
	tb_store_free(s);
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_accepted_kinds),
	    cmocka_unit_test(test_rejected),
	    cmocka_unit_test(test_threads),
	    cmocka_unit_test(test_put_get),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
