/* main.c: the tongban command line. Flags win over environment variables, which win
 * over defaults. */
#include "base/log.h"
#include "base/text.h"
#include "cases/cases.h"
#include "cases/cases_http.h"
#include "catalog/catalog.h"
#include "catalog/catalog_http.h"
#include "http/http.h"
#include "jobs/jobs.h"
#include "jobs/jobs_http.h"
#include "identity/identity.h"
#include "identity/identity_http.h"
#include "identity/oidc.h"
#include "identity/oidc_http.h"
#include "store/store.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#ifndef TB_VERSION
#define TB_VERSION "0.0.0"
#endif

struct config {
	const char *listen, *db, *web, *access_log, *seed, *out, *public_url;
	const char *key_file, *id_registry, *name, *id_number, *phone;
	long threads, max_body, items, session_ttl, session_idle, jobs_tick, near_due;
	bool cookie_secure, trust_proxy;
	double grace;
	bool jobs;
};

static const char usage[] =
    "usage: tongban COMMAND [options]\n"
    "\n"
    "commands:\n"
    "  serve                 run the HTTP server\n"
    "  migrate               bring the database schema up to date\n"
    "  import catalog FILE   import a catalogue (all or nothing)\n"
    "  export catalog [FILE] write the catalogue as JSON Lines (default stdout)\n"
    "  gen catalog --items N write N generated implementations (benchmarks)\n"
    "  import people FILE    import accounts (persons, staff, enterprises, agents)\n"
    "  admin bootstrap --name N --id-number X --phone P\n"
    "                        create the first platform administrator: prints a one-time\n"
    "                        password and the TOTP secret (otpauth:// URI)\n"
    "  oidc rotate-key       a new OpenID Connect signing key (the old one stays in JWKS)\n"
    "  routes                list the HTTP routes\n"
    "  version               print the version\n"
    "\n"
    "options (environment variable in brackets):\n"
    "  --listen HOST:PORT    [TONGBAN_LISTEN] default 127.0.0.1:8080\n"
    "  --db URL              [TONGBAN_DB] sqlite:PATH or postgres://USER:PASS@HOST:PORT/DB,\n"
    "                        default sqlite:var/tongban.db\n"
    "  --web DIR             [TONGBAN_WEB] the built portal, default web/dist\n"
    "  --threads N           [TONGBAN_THREADS] worker threads, default: CPUs x 2\n"
    "  --max-body BYTES      [TONGBAN_MAX_BODY] default 1048576\n"
    "  --key-file PATH       [TONGBAN_KEY_FILE] data key sealing personal data (64 hex\n"
    "                        chars), default var/tongban.key, created 0600 if missing\n"
    "  --id-registry FILE    [TONGBAN_ID_REGISTRY] offline name+ID registry (assurance L2)\n"
    "  --session-ttl SECONDS [TONGBAN_SESSION_TTL] absolute session lifetime, default 43200\n"
    "  --session-idle SECONDS [TONGBAN_SESSION_IDLE] idle timeout, default 1800\n"
    "  --cookie-secure       [TONGBAN_COOKIE_SECURE=1] mark the session cookie Secure\n"
    "  --trust-proxy         [TONGBAN_TRUST_PROXY=1] the client address is the last of\n"
    "                        X-Forwarded-For (behind HAProxy/nginx only)\n"
    "  --access-log PATH|-   [TONGBAN_ACCESS_LOG] JSON lines, '-' = stdout, default none\n"
    "  --public-url URL      [TONGBAN_PUBLIC_URL] the URL users reach this platform at: the\n"
    "                        OpenID Connect issuer, default http://<listen address>\n"
    "  --grace SECONDS       [TONGBAN_GRACE] time for in-flight requests at SIGTERM, default 10\n"
    "  --jobs on|off         [TONGBAN_JOBS] run scheduled jobs (once across all nodes: a lease\n"
    "                        row in the database), default on; off: heartbeat only\n"
    "  --jobs-tick SECONDS   [TONGBAN_JOBS_TICK] scheduler period, the same on every node,\n"
    "                        default 5\n"
    "  --near-due PERCENT    [TONGBAN_NEAR_DUE] a case is near due when at most this share\n"
    "                        of its time limit remains, default 20\n"
    "  --seed FILE           seed catalogue for gen (default data/demo/catalog.json)\n"
    "  --items N             number of implementations for gen\n";

static const char *env_or(const char *name, const char *def)
{
	const char *v = getenv(name);
	return v && *v ? v : def;
}

static bool parse_onoff(const char *s, bool *out)
{
	if (!strcmp(s, "on") || !strcmp(s, "true") || !strcmp(s, "1"))
		*out = true;
	else if (!strcmp(s, "off") || !strcmp(s, "false") || !strcmp(s, "0"))
		*out = false;
	else
		return false;
	return true;
}

static bool parse_long(const char *s, long lo, long hi, long *out)
{
	char *end;
	errno = 0;
	long v = strtol(s, &end, 10);
	if (errno || !*s || *end || v < lo || v > hi)
		return false;
	*out = v;
	return true;
}

/* Fills cfg from env, then from flags; positional arguments are left in args. */
static int parse(int argc, char **argv, struct config *cfg, char **args, int *nargs)
{
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	cfg->listen = env_or("TONGBAN_LISTEN", "127.0.0.1:8080");
	cfg->db = env_or("TONGBAN_DB", "sqlite:var/tongban.db");
	cfg->web = env_or("TONGBAN_WEB", "web/dist");
	cfg->key_file = env_or("TONGBAN_KEY_FILE", "var/tongban.key");
	cfg->id_registry = env_or("TONGBAN_ID_REGISTRY", NULL);
	cfg->cookie_secure = !strcmp(env_or("TONGBAN_COOKIE_SECURE", "0"), "1");
	cfg->trust_proxy = !strcmp(env_or("TONGBAN_TRUST_PROXY", "0"), "1");
	cfg->name = cfg->id_number = cfg->phone = NULL;
	cfg->access_log = env_or("TONGBAN_ACCESS_LOG", NULL);
	cfg->public_url = env_or("TONGBAN_PUBLIC_URL", NULL);
	cfg->seed = "data/demo/catalog.json";
	cfg->out = NULL;
	cfg->items = 0;
	cfg->grace = 10;
	if (!parse_long(env_or("TONGBAN_THREADS", "0"), 0, 1024, &cfg->threads) ||
	    !parse_long(env_or("TONGBAN_MAX_BODY", "1048576"), 1024, 1L << 30, &cfg->max_body)) {
		fprintf(stderr,
			"tongban: TONGBAN_THREADS or TONGBAN_MAX_BODY is not a number in range\n");
		return -1;
	}
	if (!parse_long(env_or("TONGBAN_SESSION_TTL", "43200"), 60, 30L * 86400,
			&cfg->session_ttl) ||
	    !parse_long(env_or("TONGBAN_SESSION_IDLE", "1800"), 10, 30L * 86400,
			&cfg->session_idle)) {
		fprintf(stderr, "tongban: TONGBAN_SESSION_TTL or TONGBAN_SESSION_IDLE is not a "
				"number in range\n");
		return -1;
	}
	long grace;
	if (parse_long(env_or("TONGBAN_GRACE", "10"), 0, 3600, &grace))
		cfg->grace = (double)grace;
	if (!parse_onoff(env_or("TONGBAN_JOBS", "on"), &cfg->jobs) ||
	    !parse_long(env_or("TONGBAN_JOBS_TICK", "5"), 1, 3600, &cfg->jobs_tick) ||
	    !parse_long(env_or("TONGBAN_NEAR_DUE", "20"), 1, 99, &cfg->near_due)) {
		fprintf(stderr, "tongban: TONGBAN_JOBS must be on or off, TONGBAN_JOBS_TICK "
				"a number of seconds from 1 to 3600 and TONGBAN_NEAR_DUE a "
				"percentage from 1 to 99\n");
		return -1;
	}
	*nargs = 0;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (a[0] != '-' || !a[1]) {
			args[(*nargs)++] = argv[i];
			continue;
		}
		if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			fputs(usage, stdout);
			exit(0);
		}
		if (!strcmp(a, "--cookie-secure")) {
			cfg->cookie_secure = true;
			continue;
		}
		if (!strcmp(a, "--trust-proxy")) {
			cfg->trust_proxy = true;
			continue;
		}
		const char *val = NULL;
		char name[64];
		const char *eq = strchr(a, '=');
		if (eq) {
			snprintf(name, sizeof(name), "%.*s", (int)(eq - a), a);
			val = eq + 1;
		} else {
			snprintf(name, sizeof(name), "%s", a);
			if (i + 1 < argc)
				val = argv[++i];
		}
		if (!val) {
			fprintf(stderr, "tongban: %s needs a value\n", name);
			return -1;
		}
		long n;
		if (!strcmp(name, "--listen"))
			cfg->listen = val;
		else if (!strcmp(name, "--db"))
			cfg->db = val;
		else if (!strcmp(name, "--web"))
			cfg->web = val;
		else if (!strcmp(name, "--key-file"))
			cfg->key_file = val;
		else if (!strcmp(name, "--id-registry"))
			cfg->id_registry = val;
		else if (!strcmp(name, "--name"))
			cfg->name = val;
		else if (!strcmp(name, "--id-number"))
			cfg->id_number = val;
		else if (!strcmp(name, "--phone"))
			cfg->phone = val;
		else if (!strcmp(name, "--session-ttl") && parse_long(val, 60, 30L * 86400, &n))
			cfg->session_ttl = n;
		else if (!strcmp(name, "--session-idle") && parse_long(val, 10, 30L * 86400, &n))
			cfg->session_idle = n;
		else if (!strcmp(name, "--public-url"))
			cfg->public_url = val;
		else if (!strcmp(name, "--access-log"))
			cfg->access_log = val;
		else if (!strcmp(name, "--seed"))
			cfg->seed = val;
		else if (!strcmp(name, "--out"))
			cfg->out = val;
		else if (!strcmp(name, "--threads") && parse_long(val, 1, 1024, &n))
			cfg->threads = n;
		else if (!strcmp(name, "--max-body") && parse_long(val, 1024, 1L << 30, &n))
			cfg->max_body = n;
		else if (!strcmp(name, "--items") && parse_long(val, 1, 100000000, &n))
			cfg->items = n;
		else if (!strcmp(name, "--grace") && parse_long(val, 0, 3600, &n))
			cfg->grace = (double)n;
		else if (!strcmp(name, "--jobs") && parse_onoff(val, &cfg->jobs))
			;
		else if (!strcmp(name, "--jobs-tick") && parse_long(val, 1, 3600, &n))
			cfg->jobs_tick = n;
		else if (!strcmp(name, "--near-due") && parse_long(val, 1, 99, &n))
			cfg->near_due = n;
		else {
			fprintf(stderr, "tongban: unknown option or bad value: %s %s\n", name, val);
			return -1;
		}
	}
	if (cfg->threads == 0)
		cfg->threads = ncpu > 0 ? ncpu * 2 : 4;
	return 0;
}

static int open_store(const struct config *cfg, struct tb_store **s)
{
	struct tb_err err = {0};
	if (tb_store_open(cfg->db, s, &err)) {
		fprintf(stderr, "tongban: database: %s\n", err.msg);
		return 1;
	}
	int applied;
	if (tb_store_migrate(*s, &applied, &err)) {
		fprintf(stderr, "tongban: migrate: %s\n", err.msg);
		tb_store_free(*s);
		return 1;
	}
	return 0;
}

static int identity_init(const struct config *cfg)
{
	struct tb_identity_config ic = {
	    .key_file = cfg->key_file,
	    .create_key = true,
	    .registry_file = cfg->id_registry,
	    .session_ttl = cfg->session_ttl,
	    .session_idle = cfg->session_idle,
	    .cookie_secure = cfg->cookie_secure,
	};
	struct tb_err err = {0};
	if (tb_identity_init(&ic, &err)) {
		fprintf(stderr, "tongban: identity: %s\n", err.msg);
		return 1;
	}
	struct tb_cases_config cc = {.near_percent = (int)cfg->near_due, .min_assurance_online = 2};
	tb_cases_configure(&cc);
	return 0;
}

/* Job: ended sessions and stale login-failure counts (identity.h). */
static tb_rc purge_sessions(struct tb_db *db, int64_t slot, const struct tb_job_ctx *ctx,
			    struct tb_err *err)
{
	(void)slot;
	return tb_identity_purge(db, ctx->now_ms / 1000, err);
}

/* The OpenID Connect provider: its signing keys are sealed with the identity block's
 * data key; the issuer is --public-url, or filled in by oidc_issuer once the listening
 * port is known. */
static char oidc_issuer_buf[512];
static struct tb_oidc_config oidc_cfg = {.issuer = oidc_issuer_buf,
					 .keys = NULL,
					 .claims = tb_oidc_identity_claims,
					 .end_session = tb_oidc_identity_end_session};

static int oidc_setup(const struct config *cfg, struct tb_store *store)
{
	if (cfg->public_url) {
		size_t n = strlen(cfg->public_url);
		while (n && cfg->public_url[n - 1] == '/')
			n--;
		if (strncmp(cfg->public_url, "http://", 7) &&
		    strncmp(cfg->public_url, "https://", 8)) {
			fprintf(stderr,
				"tongban: --public-url must begin with http:// or https://\n");
			return 1;
		}
		snprintf(oidc_issuer_buf, sizeof(oidc_issuer_buf), "%.*s", (int)n, cfg->public_url);
	}
	struct tb_err err = {0};
	if (tb_oidc_init(store, &oidc_cfg, &err)) {
		fprintf(stderr, "tongban: %s\n", err.msg);
		return 1;
	}
	return 0;
}

/* Without --public-url the issuer is http://<listen host>:<port actually bound>. */
static void oidc_issuer(const struct config *cfg, uint16_t port)
{
	if (cfg->public_url)
		return;
	const char *colon = strrchr(cfg->listen, ':');
	int hostlen = colon ? (int)(colon - cfg->listen) : 0;
	const char *host = cfg->listen;
	if (hostlen == 0) {
		host = "127.0.0.1";
		hostlen = 9;
	}
	snprintf(oidc_issuer_buf, sizeof(oidc_issuer_buf), "http://%.*s:%u", hostlen, host,
		 (unsigned)port);
}

static int cmd_serve(const struct config *cfg)
{
	struct tb_store *store;
	if (identity_init(cfg))
		return 1;
	if (open_store(cfg, &store))
		return 1;
	struct tb_app app = {
	    .store = store,
	    .web_root = NULL,
	    .authenticate = tb_identity_authenticate,
	    .trust_proxy = cfg->trust_proxy,
	    .max_body = (size_t)cfg->max_body,
	    .access_log_fd = -1,
	};
	struct stat st;
	if (cfg->web && !stat(cfg->web, &st) && S_ISDIR(st.st_mode))
		app.web_root = cfg->web;
	else
		tb_log(TB_LOG_WARN, "serve", "no portal at %s: serving the API only", cfg->web);
	if (cfg->access_log) {
		app.access_log_fd =
		    !strcmp(cfg->access_log, "-")
			? 1
			: open(cfg->access_log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
		if (app.access_log_fd < 0) {
			fprintf(stderr, "tongban: access log %s: %s\n", cfg->access_log,
				strerror(errno));
			return 1;
		}
	}
	/* Block the signals before threads start so that only sigwait below sees them. */
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	tb_http_add_routes(tb_system_routes);
	tb_http_add_routes(tb_catalog_routes);
	tb_http_add_routes(tb_jobs_routes);
	tb_http_add_routes(tb_identity_routes);
	tb_http_add_routes(tb_oidc_routes);
	tb_http_add_routes(tb_cases_routes);
	if (oidc_setup(cfg, store)) {
		tb_store_free(store);
		return 1;
	}
	struct tb_server *server;
	struct tb_err err = {0};
	if (tb_server_start(&app, cfg->listen, (unsigned)cfg->threads, &server, &err)) {
		fprintf(stderr, "tongban: %s\n", err.msg);
		tb_oidc_shutdown();
		tb_store_free(store);
		return 1;
	}
	/* The scheduled jobs every node registers (jobs.h): the same table and intervals
	 * on every node, derived from the shared tick. */
	struct tb_job jobs[] = {
	    {"prune-nodes", 5 * cfg->jobs_tick, tb_jobs_prune_nodes},
	    {"purge-sessions", 3600, purge_sessions},
	    /* overdue cases escalate within a minute of the day turning */
	    {"escalate-cases", 60, tb_cases_escalate},
	};
	char listen_at[160];
	const char *colon = strrchr(cfg->listen, ':');
	snprintf(listen_at, sizeof(listen_at), "%.*s:%u", colon ? (int)(colon - cfg->listen) : 0,
		 cfg->listen, tb_server_port(server));
	struct tb_jobs_config jcfg = {.listen = listen_at,
				      .version = TB_VERSION,
				      .tick = cfg->jobs_tick,
				      .run_jobs = cfg->jobs};
	struct tb_jobs *sched = NULL;
	if (tb_jobs_start(store, &jcfg, jobs, TB_ARRAY_LEN(jobs), &sched, &err)) {
		fprintf(stderr, "tongban: %s\n", err.msg);
		tb_server_stop(server, 0);
		tb_store_free(store);
		return 1;
	}
	oidc_issuer(cfg, tb_server_port(server));
	tb_log(
	    TB_LOG_INFO, "serve",
	    "listening on %s (port %u, %ld threads, %s, portal %s, node %s, jobs %s every %ld s)",
	    cfg->listen, tb_server_port(server), cfg->threads, cfg->db,
	    app.web_root ? app.web_root : "none", tb_jobs_node(sched), cfg->jobs ? "on" : "off",
	    cfg->jobs_tick);
	int sig;
	sigwait(&set, &sig);
	tb_log(TB_LOG_INFO, "serve", "signal %d: finishing in-flight requests", sig);
	/* first the scheduler: it hands its lease over at once */
	tb_jobs_stop(sched);
	tb_server_stop(server, cfg->grace);
	tb_oidc_shutdown();
	tb_store_free(store);
	tb_identity_shutdown();
	tb_log(TB_LOG_INFO, "serve", "stopped");
	return 0;
}

static int cmd_migrate(const struct config *cfg)
{
	struct tb_store *store;
	struct tb_err err = {0};
	if (tb_store_open(cfg->db, &store, &err)) {
		fprintf(stderr, "tongban: database: %s\n", err.msg);
		return 1;
	}
	int applied = 0;
	tb_rc rc = tb_store_migrate(store, &applied, &err);
	if (rc)
		fprintf(stderr, "tongban: migrate: %s\n", err.msg);
	else
		printf("schema version %d (%d migrations applied)\n",
		       tb_store_schema_version(store), applied);
	tb_store_free(store);
	return rc ? 1 : 0;
}

static int cmd_import(const struct config *cfg, const char *path)
{
	struct tb_store *store;
	if (open_store(cfg, &store))
		return 1;
	struct tb_import_report rep;
	struct tb_err err = {0};
	double t0 = tb_time_mono();
	tb_rc rc = tb_catalog_import(store, path, stderr, isatty(2), &rep, &err);
	double secs = tb_time_mono() - t0;
	if (rc)
		fprintf(stderr, "tongban: import %s: %s\n", path, err.msg);
	else
		printf("imported %s: %ld regions, %ld departments, %ld topics, %ld items, %ld "
		       "implementations in %.1f s (%.0f rows/s)\n",
		       path, rep.regions, rep.departments, rep.topics, rep.items,
		       rep.implementations, secs, secs > 0 ? (double)rep.rows / secs : 0.0);
	tb_store_free(store);
	return rc ? 1 : 0;
}

static int cmd_export(const struct config *cfg, const char *path)
{
	struct tb_store *store;
	if (open_store(cfg, &store))
		return 1;
	FILE *out = path ? fopen(path, "w") : stdout;
	if (!out) {
		fprintf(stderr, "tongban: %s: %s\n", path, strerror(errno));
		tb_store_free(store);
		return 1;
	}
	struct tb_err err = {0};
	tb_rc rc = tb_catalog_export(store, out, &err);
	if (rc)
		fprintf(stderr, "tongban: export: %s\n", err.msg);
	if (path)
		fclose(out);
	else
		fflush(out);
	tb_store_free(store);
	return rc ? 1 : 0;
}

static int cmd_gen(const struct config *cfg)
{
	if (cfg->items <= 0) {
		fprintf(stderr, "tongban: gen catalog needs --items N\n");
		return 2;
	}
	FILE *out = cfg->out ? fopen(cfg->out, "w") : stdout;
	if (!out) {
		fprintf(stderr, "tongban: %s: %s\n", cfg->out, strerror(errno));
		return 1;
	}
	struct tb_err err = {0};
	tb_rc rc = tb_catalog_generate(cfg->seed, cfg->items, out, &err);
	if (rc)
		fprintf(stderr, "tongban: gen: %s\n", err.msg);
	if (cfg->out)
		fclose(out);
	return rc ? 1 : 0;
}

static int cmd_import_people(const struct config *cfg, const char *path)
{
	struct tb_store *store;
	if (identity_init(cfg) || open_store(cfg, &store))
		return 1;
	struct tb_err err = {0};
	int count = 0;
	tb_rc rc = tb_identity_import_people(store, path, &count, &err);
	if (rc)
		fprintf(stderr, "tongban: import %s: %s%s%s\n", path, err.field,
			err.field[0] ? ": " : "", err.msg);
	else
		printf("imported %s: %d new accounts, enterprises and authorisations\n", path,
		       count);
	tb_store_free(store);
	tb_identity_shutdown();
	return rc ? 1 : 0;
}

static int cmd_bootstrap(const struct config *cfg)
{
	if (!cfg->name || !cfg->id_number || !cfg->phone) {
		fprintf(stderr, "tongban: admin bootstrap needs --name, --id-number and --phone\n");
		return 2;
	}
	struct tb_store *store;
	if (identity_init(cfg) || open_store(cfg, &store))
		return 1;
	struct tb_err err = {0};
	struct tb_staff_out out;
	tb_rc rc = tb_identity_bootstrap(store, cfg->name, cfg->id_number, cfg->phone, &out, &err);
	if (rc)
		fprintf(stderr, "tongban: admin bootstrap: %s%s%s\n", err.field,
			err.field[0] ? ": " : "", err.msg);
	else
		printf("platform administrator created (staff id %lld)\n"
		       "login: %s (kind staff)\n"
		       "password: %s\n"
		       "totp: %s\n"
		       "The password is shown once: change it after the first login.\n",
		       (long long)out.id, cfg->id_number, out.password, out.totp_uri);
	tb_store_free(store);
	tb_identity_shutdown();
	return rc ? 1 : 0;
}

static int cmd_oidc_rotate(const struct config *cfg)
{
	struct tb_store *store;
	if (identity_init(cfg) || open_store(cfg, &store))
		return 1;
	struct tb_err err = {0};
	char kid[32];
	int rc = oidc_setup(cfg, store);
	struct tb_db *db = rc ? NULL : tb_store_db(store, &err);
	if (!rc && (!db || tb_oidc_rotate_key(db, kid, &err))) {
		fprintf(stderr, "tongban: oidc rotate-key: %s\n", err.msg);
		rc = 1;
	}
	if (!rc)
		printf("new signing key %s; the previous one stays in the JWKS\n", kid);
	tb_oidc_shutdown();
	tb_store_free(store);
	tb_identity_shutdown();
	return rc;
}

static int cmd_routes(void)
{
	tb_http_add_routes(tb_system_routes);
	tb_http_add_routes(tb_catalog_routes);
	tb_http_add_routes(tb_jobs_routes);
	tb_http_add_routes(tb_identity_routes);
	tb_http_add_routes(tb_oidc_routes);
	tb_http_add_routes(tb_cases_routes);
	const struct tb_route **routes;
	size_t n = tb_http_routes(&routes);
	for (size_t i = 0; i < n; i++)
		printf("%s %s\n", routes[i]->method, routes[i]->pattern);
	return 0;
}

int main(int argc, char **argv)
{
	struct config cfg;
	char *args[16];
	int nargs = 0;
	if (argc < 2) {
		fputs(usage, stderr);
		return 2;
	}
	if (argc > 16 + 8 || parse(argc, argv, &cfg, args, &nargs))
		return 2;
	if (nargs == 0) {
		fputs(usage, stderr);
		return 2;
	}
	const char *cmd = args[0];
	if (!strcmp(cmd, "version")) {
		printf("tongban %s\n", TB_VERSION);
		return 0;
	}
	if (!strcmp(cmd, "routes"))
		return cmd_routes();
	if (tb_text_init()) {
		fprintf(stderr,
			"tongban: cannot load OpenCC's data (is the opencc package installed?)\n");
		return 1;
	}
	if (!strcmp(cmd, "serve") && nargs == 1)
		return cmd_serve(&cfg);
	if (!strcmp(cmd, "migrate") && nargs == 1)
		return cmd_migrate(&cfg);
	if (!strcmp(cmd, "import") && nargs == 3 && !strcmp(args[1], "catalog"))
		return cmd_import(&cfg, args[2]);
	if (!strcmp(cmd, "import") && nargs == 3 && !strcmp(args[1], "people"))
		return cmd_import_people(&cfg, args[2]);
	if (!strcmp(cmd, "admin") && nargs == 2 && !strcmp(args[1], "bootstrap"))
		return cmd_bootstrap(&cfg);
	if (!strcmp(cmd, "export") && nargs >= 2 && nargs <= 3 && !strcmp(args[1], "catalog"))
		return cmd_export(&cfg, nargs == 3 ? args[2] : NULL);
	if (!strcmp(cmd, "gen") && nargs == 2 && !strcmp(args[1], "catalog"))
		return cmd_gen(&cfg);
	if (!strcmp(cmd, "oidc") && nargs == 2 && !strcmp(args[1], "rotate-key"))
		return cmd_oidc_rotate(&cfg);
	fprintf(stderr, "tongban: unknown command: %s\n\n%s", cmd, usage);
	return 2;
}
