/* case_write_bench.c: the rows of one online submission written with bare SQLite, one
 * transaction each, in one process: the reference bench/run.sh sets tongban's
 * POST /api/v1/cases beside (issue 4 item 11). Per submission: a case number from
 * case_counters (upsert), the case row, three blobs of FILE_BYTES distinct bytes (their
 * SHA-256 computed, as the key needs it), three case_files rows, the submit transition
 * and the applicant's notification; BEGIN IMMEDIATE ... COMMIT, WAL, synchronous=NORMAL
 * (the pragmas of src/store/store_sqlite.c). The schema is tongban's own: the file is
 * created and migrated through store.h first, then written with sqlite3 directly.
 * usage: case_write_bench PATH SECONDS [FILE_BYTES]
 * prints "case_write_bench: N submissions in S s (R submissions/s)"
 * With a fourth argument "transitions", it files 400 cases and then moves them round
 * submitted -> correction -> submitted for SECONDS, as an action does: read the case,
 * update its row, the next transition number, the transition, a notification; one
 * transaction each. Prints "case_write_bench: N transitions in S s (R transitions/s)". */
#include "base/log.h"
#include "store/store.h"

#include <openssl/evp.h>
#include <sqlite3.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static void die(sqlite3 *h, const char *what)
{
	fprintf(stderr, "case_write_bench: %s: %s\n", what, h ? sqlite3_errmsg(h) : "");
	exit(1);
}

static sqlite3_stmt *prep(sqlite3 *h, const char *sql)
{
	sqlite3_stmt *st;
	if (sqlite3_prepare_v3(h, sql, -1, SQLITE_PREPARE_PERSISTENT, &st, NULL))
		die(h, sql);
	return st;
}

static void run(sqlite3 *h, sqlite3_stmt *st)
{
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		;
	if (rc != SQLITE_DONE)
		die(h, sqlite3_sql(st));
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
}

static void hex_sha256(const void *data, size_t len, char out[65])
{
	unsigned char md[32];
	unsigned ml = 0;
	EVP_Digest(data, len, md, &ml, EVP_sha256(), NULL);
	for (unsigned i = 0; i < 32; i++)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
}

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: case_write_bench PATH SECONDS [FILE_BYTES]\n");
		return 2;
	}
	double secs = atof(argv[2]);
	size_t fbytes = argc > 3 ? (size_t)atol(argv[3]) : 100 * 1024;
	if (secs <= 0 || fbytes < 64 || fbytes > (64u << 20)) {
		fprintf(stderr, "case_write_bench: a positive time, 64 B to 64 MiB files\n");
		return 2;
	}
	char url[4096];
	snprintf(url, sizeof(url), "sqlite:%s", argv[1]);
	struct tb_store *store;
	struct tb_err err = {0};
	if (tb_store_open(url, &store, &err) || tb_store_migrate(store, NULL, &err)) {
		fprintf(stderr, "case_write_bench: %s\n", err.msg);
		return 1;
	}
	tb_store_free(store);

	sqlite3 *h;
	if (sqlite3_open(argv[1], &h))
		die(h, "open");
	sqlite3_busy_timeout(h, 10000);
	if (sqlite3_exec(h,
			 "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA "
			 "foreign_keys=ON; PRAGMA temp_store=MEMORY; PRAGMA cache_size=-65536; "
			 "PRAGMA mmap_size=0;",
			 NULL, NULL, NULL))
		die(h, "pragmas");
	sqlite3_stmt *begin = prep(h, "BEGIN IMMEDIATE"), *commit = prep(h, "COMMIT");
	sqlite3_stmt *counter =
	    prep(h, "INSERT INTO case_counters (day_region, next) VALUES (?, 1) "
		    "ON CONFLICT (day_region) DO UPDATE SET next = next + 1 "
		    "RETURNING next");
	sqlite3_stmt *ins_case = prep(
	    h,
	    "INSERT INTO cases (case_no, state, impl_code, catalog_code, item_name, department, "
	    "region, guide_version, case_type, workflow_key, workflow_version, channel, "
	    "applicant_user, applicant_kind, applicant_name, applicant_id_sealed, "
	    "applicant_id_index, applicant_id_masked, form_sealed, idem_key, idem_hash, "
	    "submitted_at, submitted_ms, state_entered_ms, state_due, queue_due, queue_warn, "
	    "visits_needed, created_at, updated_at) VALUES (?, 'submitted', "
	    "'11440100008446488A3000701001000', '300070100100', '食品经营许可（新办）', "
	    "'11440100008446488A', '440100', 1, '2', 'default', 1, 'online', 2, 'person', "
	    "'张三', ?, ?, '4401**********1235', ?, ?, ?, ?, ?, ?, 20790, 20790, 20789, 1, ?, ?) "
	    "RETURNING id");
	sqlite3_stmt *ins_blob =
	    prep(h, "INSERT INTO blobs (sha256, mime, size, data, created_at) VALUES (?, ?, ?, ?, "
		    "?) ON CONFLICT (sha256) DO NOTHING");
	sqlite3_stmt *ins_file = prep(
	    h, "INSERT INTO case_files (case_id, material_seq, purpose, sha256, file_name, "
	       "mime, size, uploaded_by, uploaded_at) VALUES (?, ?, 'application', ?, ?, ?, ?, "
	       "2, ?) RETURNING id");
	sqlite3_stmt *ins_tr = prep(
	    h, "INSERT INTO case_transitions (case_id, seq, action, from_state, to_state, actor, "
	       "actor_role, actor_name, comment, detail, at, at_ms) VALUES (?, 1, 'submit', "
	       "'draft', 'submitted', 2, 'applicant', '张三', '', '', ?, ?)");
	sqlite3_stmt *ins_note =
	    prep(h, "INSERT INTO notifications (user_id, case_no, kind, title, body, created_at) "
		    "VALUES (2, ?, 'submitted', '申请已提交', ?, ?)");

	/* what the sealed columns hold in size: base64 of the ciphertext and its tag */
	char sealed_id[96], sealed_form[700], idx[65];
	memset(sealed_id, 'S', sizeof(sealed_id) - 1), sealed_id[sizeof(sealed_id) - 1] = 0;
	memset(sealed_form, 'F', sizeof(sealed_form) - 1), sealed_form[sizeof(sealed_form) - 1] = 0;
	hex_sha256("440106199001011235", 18, idx);
	unsigned char *data = malloc(3 * fbytes);
	if (!data)
		return 1;
	srand(42);
	for (size_t i = 0; i < 3 * fbytes; i++)
		data[i] = (unsigned char)rand();
	memcpy(data, "%PDF-1.4\n", 9);
	memcpy(data + fbytes, "\x89PNG\r\n\x1a\n", 8);
	memcpy(data + 2 * fbytes, "%PDF-1.4\n", 9);
	static const char *const mimes[] = {"application/pdf", "image/png", "application/pdf"};
	static const char *const names[] = {"id.pdf", "photo.png", "exam.pdf"};

	bool moves = argc > 4 && !strcmp(argv[4], "transitions");
	long n = 0, limit = moves ? 400 : LONG_MAX;
	double t0 = tb_time_mono(), end = moves ? t0 + 3600 : t0 + secs;
	while (n < limit && tb_time_mono() < end) {
		char at[32], no[32], key[40], body[256];
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		int64_t ms = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
		tb_time_rfc3339(at);
		snprintf(key, sizeof(key), "bench-%ld", n);
		run(h, begin);
		sqlite3_bind_text(counter, 1, "20261125440100", -1, SQLITE_STATIC);
		if (sqlite3_step(counter) != SQLITE_ROW)
			die(h, "counter");
		long seq = (long)sqlite3_column_int64(counter, 0);
		sqlite3_reset(counter);
		snprintf(no, sizeof(no), "20261125440100%06ld", seq % 1000000);
		if (seq >= 1000000)
			snprintf(no, sizeof(no), "2026112544%010ld", seq);
		int b = 1;
		sqlite3_bind_text(ins_case, b++, no, -1, SQLITE_STATIC);
		sqlite3_bind_text(ins_case, b++, sealed_id, -1, SQLITE_STATIC);
		sqlite3_bind_text(ins_case, b++, idx, -1, SQLITE_STATIC);
		sqlite3_bind_text(ins_case, b++, sealed_form, -1, SQLITE_STATIC);
		sqlite3_bind_text(ins_case, b++, key, -1, SQLITE_STATIC);
		sqlite3_bind_text(ins_case, b++, idx, -1, SQLITE_STATIC);
		sqlite3_bind_text(ins_case, b++, at, -1, SQLITE_STATIC);
		sqlite3_bind_int64(ins_case, b++, ms);
		sqlite3_bind_int64(ins_case, b++, ms);
		sqlite3_bind_text(ins_case, b++, at, -1, SQLITE_STATIC);
		sqlite3_bind_text(ins_case, b++, at, -1, SQLITE_STATIC);
		if (sqlite3_step(ins_case) != SQLITE_ROW)
			die(h, "case");
		int64_t cid = sqlite3_column_int64(ins_case, 0);
		sqlite3_reset(ins_case);
		for (int f = 0; f < 3; f++) {
			unsigned char *d = data + f * fbytes;
			memcpy(d + 16, &n, sizeof(n)); /* distinct bytes every time */
			char sha[65];
			hex_sha256(d, fbytes, sha);
			sqlite3_bind_text(ins_blob, 1, sha, -1, SQLITE_STATIC);
			sqlite3_bind_text(ins_blob, 2, mimes[f], -1, SQLITE_STATIC);
			sqlite3_bind_int64(ins_blob, 3, (int64_t)fbytes);
			sqlite3_bind_blob(ins_blob, 4, d, (int)fbytes, SQLITE_STATIC);
			sqlite3_bind_text(ins_blob, 5, at, -1, SQLITE_STATIC);
			run(h, ins_blob);
			sqlite3_bind_int64(ins_file, 1, cid);
			sqlite3_bind_int(ins_file, 2, f + 1);
			sqlite3_bind_text(ins_file, 3, sha, -1, SQLITE_STATIC);
			sqlite3_bind_text(ins_file, 4, names[f], -1, SQLITE_STATIC);
			sqlite3_bind_text(ins_file, 5, mimes[f], -1, SQLITE_STATIC);
			sqlite3_bind_int64(ins_file, 6, (int64_t)fbytes);
			sqlite3_bind_text(ins_file, 7, at, -1, SQLITE_STATIC);
			run(h, ins_file);
		}
		sqlite3_bind_int64(ins_tr, 1, cid);
		sqlite3_bind_text(ins_tr, 2, at, -1, SQLITE_STATIC);
		sqlite3_bind_int64(ins_tr, 3, ms);
		run(h, ins_tr);
		snprintf(body, sizeof(body),
			 "您申请的「食品经营许可（新办）」已提交，办件编号 %s。", no);
		sqlite3_bind_text(ins_note, 1, no, -1, SQLITE_STATIC);
		sqlite3_bind_text(ins_note, 2, body, -1, SQLITE_STATIC);
		sqlite3_bind_text(ins_note, 3, at, -1, SQLITE_STATIC);
		run(h, ins_note);
		run(h, commit);
		n++;
	}
	double dt = tb_time_mono() - t0;
	if (!moves)
		printf("case_write_bench: %ld submissions in %.1f s (%.0f submissions/s)\n", n, dt,
		       n / dt);
	else {
		sqlite3_stmt *get =
		    prep(h, "SELECT id, state, version FROM cases WHERE case_no = ?");
		sqlite3_stmt *upd = prep(
		    h, "UPDATE cases SET state = ?, version = version + 1, state_entered_ms = ?, "
		       "updated_at = ? WHERE id = ? AND version = ?");
		sqlite3_stmt *next = prep(
		    h, "SELECT COALESCE(MAX(seq), 0) + 1 FROM case_transitions WHERE case_id = ?");
		sqlite3_stmt *ins_move = prep(
		    h, "INSERT INTO case_transitions (case_id, seq, action, from_state, to_state, "
		       "actor, actor_role, actor_name, comment, detail, at, at_ms) VALUES (?, ?, "
		       "?, ?, "
		       "?, 3, 'clerk', '王明', '请补正', '{\"corrections\":[\"身份证明不清晰\"]}', "
		       "?, ?)");
		long cases = n, k = 0;
		n = 0;
		t0 = tb_time_mono(), end = t0 + secs;
		while (tb_time_mono() < end) {
			char at[32], no[48], body[256];
			struct timespec ts;
			clock_gettime(CLOCK_REALTIME, &ts);
			int64_t ms = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
			tb_time_rfc3339(at);
			snprintf(no, sizeof(no), "20261125440100%06ld", 1 + k++ % cases);
			run(h, begin);
			sqlite3_bind_text(get, 1, no, -1, SQLITE_STATIC);
			if (sqlite3_step(get) != SQLITE_ROW)
				die(h, no);
			int64_t cid = sqlite3_column_int64(get, 0),
				ver = sqlite3_column_int64(get, 2);
			bool sub = !strcmp((const char *)sqlite3_column_text(get, 1), "submitted");
			sqlite3_reset(get);
			const char *to = sub ? "correction" : "submitted";
			sqlite3_bind_text(upd, 1, to, -1, SQLITE_STATIC);
			sqlite3_bind_int64(upd, 2, ms);
			sqlite3_bind_text(upd, 3, at, -1, SQLITE_STATIC);
			sqlite3_bind_int64(upd, 4, cid);
			sqlite3_bind_int64(upd, 5, ver);
			run(h, upd);
			sqlite3_bind_int64(next, 1, cid);
			if (sqlite3_step(next) != SQLITE_ROW)
				die(h, "seq");
			int64_t seq = sqlite3_column_int64(next, 0);
			sqlite3_reset(next);
			sqlite3_bind_int64(ins_move, 1, cid);
			sqlite3_bind_int64(ins_move, 2, seq);
			sqlite3_bind_text(ins_move, 3, sub ? "request_correction" : "respond", -1,
					  SQLITE_STATIC);
			sqlite3_bind_text(ins_move, 4, sub ? "submitted" : "correction", -1,
					  SQLITE_STATIC);
			sqlite3_bind_text(ins_move, 5, to, -1, SQLITE_STATIC);
			sqlite3_bind_text(ins_move, 6, at, -1, SQLITE_STATIC);
			sqlite3_bind_int64(ins_move, 7, ms);
			run(h, ins_move);
			snprintf(body, sizeof(body), "您的办件 %s 需要补正材料。", no);
			sqlite3_bind_text(ins_note, 1, no, -1, SQLITE_STATIC);
			sqlite3_bind_text(ins_note, 2, body, -1, SQLITE_STATIC);
			sqlite3_bind_text(ins_note, 3, at, -1, SQLITE_STATIC);
			run(h, ins_note);
			run(h, commit);
			n++;
		}
		dt = tb_time_mono() - t0;
		printf("case_write_bench: %ld transitions in %.1f s (%.0f transitions/s)\n", n, dt,
		       n / dt);
	}
	sqlite3_close_v2(h);
	free(data);
	return 0;
}
