#!/usr/bin/env bash
# Tests of the tongban command line: import is all or nothing with every bad row named
# by its line, export round-trips, flags beat environment variables, the access log is
# JSON lines, SIGTERM lets an in-flight request finish. Usage: run.sh BUILD_DIR
set -u
cd "$(dirname "$0")/../.."
. scripts/lib.sh
bin=${1:-build}/tongban
tmp=$(mktemp -d /tmp/tongban-cli.XXXXXX)
trap 'kill $(jobs -p) 2>/dev/null; rm -rf "$tmp"' EXIT
passed=0 failed=0
ok() { echo "ok - $1"; passed=$((passed + 1)); }
not_ok() { echo "not ok - $1"; [ -n "${2:-}" ] && sed 's/^/  /' <<<"$2"; failed=$((failed + 1)); }
check() { local name=$1; shift; if "$@"; then ok "$name"; else not_ok "$name"; fi; }
count() { sqlite3 "$1" "SELECT count(*) FROM $2" 2>/dev/null || echo "?"; }

db="$tmp/t.db"
good=var/demo-catalog.json

# --- a good import, then a bad file that must change nothing
out=$("$bin" import catalog "$good" --db "sqlite:$db" 2>&1)
check "import of the demo catalogue succeeds" grep -q 'implementations in' <<<"$out"
items_before=$(count "$db" items); impls_before=$(count "$db" implementations)
check "the demo has at least 300 items" test "$items_before" -ge 300

bad="$tmp/bad.jsonl"
{
  echo '{"format":"tongban-catalog/1"}'
  echo '{"region":{"code":"44","name":"广东省"}}'
  echo '{"item":{"catalog_code":"999999999000","name":"新增测试事项","item_type":"20","service_objects":["1"]}}'
  echo '{"department":{"uscc":"91350100M000100Y44","name":"校验位错误","region":"44"}}'
  echo 'this is not json'
  echo '{"item":{"catalog_code":"12345","name":"短编码","item_type":"20","service_objects":["1"]}}'
  echo '{"item":{"catalog_code":"999999998000","name":"未知字段","item_type":"20","service_objects":["1"],"colour":"red"}}'
  echo '{"spaceship":{}}'
  # a guide whose application form has a field longer than forms allow
  node -e 'const d = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
    const im = d.implementations.find((i) => i.guide.form && i.guide.form.properties.applicant_name);
    im.guide.form.properties.applicant_name.maxLength = 9000;
    console.log(JSON.stringify({implementation: im}));' "$good"
} >"$bad"
out=$("$bin" import catalog "$bad" --db "sqlite:$db" 2>&1); rc=$?
check "a bad import exits non-zero" test $rc -ne 0
for l in 4 5 6 7 8; do
  check "bad row on line $l is reported with its line" grep -q "^line $l:" <<<"$out"
done
check "the good rows of a bad file are not reported" bash -c "! grep -q '^line [123]:' <<<\"\$1\"" _ "$out"
check "the USCC error names the field" grep -q '^line 4: uscc:' <<<"$out"
check "the unknown field is named" grep -q "line 7: colour: unknown field" <<<"$out"
check "a bad application form is named down to its keyword" \
  grep -q "^line 9: guide.form.properties.applicant_name.maxLength:" <<<"$out"
check "nothing of a bad file is imported (items)" test "$(count "$db" items)" = "$items_before"
check "nothing of a bad file is imported (no new item)" test "$(sqlite3 "$db" "SELECT count(*) FROM items WHERE catalog_code = '999999999000'")" = 0

broken="$tmp/broken.json"
printf '{"format": "tongban-catalog/1", "regions": [\n  {"code": "44", "name": "广东省"},\n  {"code": 44\n' >"$broken"
out=$("$bin" import catalog "$broken" --db "sqlite:$db" 2>&1); rc=$?
check "a truncated JSON document is refused with its line" bash -c "[ $rc -ne 0 ] && grep -q 'line [0-9]*, column' <<<\"\$1\"" _ "$out"
out=$("$bin" import catalog "$tmp/none.json" --db "sqlite:$db" 2>&1); rc=$?
check "a missing file is a clear error" bash -c "[ $rc -ne 0 ] && grep -q 'cannot open' <<<\"\$1\"" _ "$out"

# --- re-import is idempotent: no new guide versions
v_before=$(count "$db" guide_versions)
"$bin" import catalog "$good" --db "sqlite:$db" >/dev/null 2>&1
check "importing the same catalogue again adds no guide version" test "$(count "$db" guide_versions)" = "$v_before"

# --- export round trip
"$bin" export catalog "$tmp/export.jsonl" --db "sqlite:$db"
check "export writes JSON Lines with a format header" grep -q '^{"format":"tongban-catalog/1"}$' <(head -1 "$tmp/export.jsonl")
"$bin" import catalog "$tmp/export.jsonl" --db "sqlite:$tmp/copy.db" >/dev/null 2>&1
check "an export imports into an empty database" test "$(count "$tmp/copy.db" implementations)" = "$impls_before"
"$bin" export catalog "$tmp/export2.jsonl" --db "sqlite:$tmp/copy.db"
check "export -> import -> export gives the same bytes" cmp -s "$tmp/export.jsonl" "$tmp/export2.jsonl"
# every application form comes back as imported, its field order kept as x-order
check "export keeps the guides' application forms" node -e '
  const fs = require("fs"), assert = require("assert");
  const src = JSON.parse(fs.readFileSync(process.argv[1], "utf8")).implementations;
  const want = new Map(src.filter((i) => i.guide.form).map((i) => [i.impl_code, i.guide.form]));
  let seen = 0;
  for (const line of fs.readFileSync(process.argv[2], "utf8").split("\n")) {
    if (!line.startsWith("{\"implementation\"")) continue;
    const im = JSON.parse(line).implementation, w = want.get(im.impl_code);
    assert.strictEqual(Boolean(im.guide.form), Boolean(w), im.impl_code);
    if (!w) continue;
    seen++;
    assert.deepStrictEqual(im.guide.form, {...w, "x-order": w["x-order"] || Object.keys(w.properties)});
  }
  if (seen < 5 || seen !== want.size) throw new Error(`forms: ${seen} of ${want.size}`);
' "$good" "$tmp/export.jsonl"

# --- gen
"$bin" gen catalog --items 2000 --seed "$good" --out "$tmp/gen.jsonl"
check "gen writes the requested number of implementations" test "$(grep -c '^{"implementation"' "$tmp/gen.jsonl")" = 2000
out=$("$bin" import catalog "$tmp/gen.jsonl" --db "sqlite:$tmp/gen.db" 2>&1)
check "a generated catalogue imports" grep -q '2000 implementations' <<<"$out"

# --- migrate, version, usage
check "migrate reports the schema version" bash -c "'$bin' migrate --db 'sqlite:$db' | grep -q 'schema version'"
check "version prints a version" bash -c "'$bin' version | grep -q '^tongban [0-9]'"
"$bin" frobnicate >/dev/null 2>&1; rc=$?
check "an unknown command exits 2" test $rc -eq 2
"$bin" serve --threads lots >/dev/null 2>&1; rc=$?
check "a bad flag value exits 2" test $rc -eq 2
"$bin" serve --jobs maybe >/dev/null 2>&1; rc=$?
check "--jobs takes only on or off" test $rc -eq 2
TONGBAN_JOBS_TICK=0 "$bin" serve >/dev/null 2>&1; rc=$?
check "a TONGBAN_JOBS_TICK under 1 second exits 2" test $rc -eq 2

# --- flags beat the environment
TONGBAN_LISTEN=127.0.0.1:1 start_server "$bin" "sqlite:$db" "$tmp/s1.log" --access-log "$tmp/access.log"
check "--listen wins over TONGBAN_LISTEN" grep -q 'port [1-9][0-9][0-9]' "$tmp/s1.log"
curl -s -o /dev/null "$SERVER_URL/api/v1/search?q=%E7%A4%BE%E4%BF%9D"
curl -s -o /dev/null "$SERVER_URL/healthz"
check "the access log has one JSON object per line" node -e '
  const lines = require("fs").readFileSync(process.argv[1], "utf8").trim().split("\n");
  if (lines.length < 2) process.exit(1);
  for (const l of lines) { const o = JSON.parse(l); if (!o.ts || !o.status || !o.route || o.ms === undefined) process.exit(1); }' "$tmp/access.log"
check "the access log leaves out query strings" bash -c "! grep -q 'q=' '$tmp/access.log'"
stop_server; rc=$?
check "SIGTERM stops the server with exit 0" test $rc -eq 0

out=$("$bin" serve --listen 127.0.0.1:0 --db "sqlite:/proc/nope/x.db" 2>&1); rc=$?
check "an unusable database path fails at start with a message" bash -c "[ $rc -ne 0 ] && grep -q 'database' <<<\"\$1\"" _ "$out"

# --- the client address (login failures per address, the sessions list): the peer,
# or behind a proxy (--trust-proxy) the last X-Forwarded-For address
"$bin" import people data/demo/people.json --db "sqlite:$db" >/dev/null
ip_seen() { # ip_seen: the masked address of a new bearer session made with X-Forwarded-For
  local body tok
  body=$(curl -s -X POST "$SERVER_URL/api/v1/auth/login" -H 'content-type: application/json' \
    -H 'X-Forwarded-For: 198.51.100.7, 203.0.113.9' \
    -d '{"login":"13912340005","password":"Qianqi@2026","bearer":true}')
  tok=$(node -e 'console.log(JSON.parse(process.argv[1]).access_token)' "$body")
  curl -s "$SERVER_URL/api/v1/sessions" -H "Authorization: Bearer $tok" |
    node -e 'let s = ""; process.stdin.on("data", (d) => (s += d)).on("end", () => console.log(JSON.parse(s).items.find((i) => i.current).ip))'
}
start_server "$bin" "sqlite:$db" "$tmp/s3.log"
got=$(ip_seen); stop_server
check "without --trust-proxy X-Forwarded-For is ignored (got $got)" test "$got" = "127.0.*.*"
start_server "$bin" "sqlite:$db" "$tmp/s4.log" --trust-proxy
got=$(ip_seen); stop_server
check "with --trust-proxy the client is the last X-Forwarded-For address (got $got)" test "$got" = "203.0.*.*"

# --- an in-flight request finishes after SIGTERM: a slow upload is still answered
start_server "$bin" "sqlite:$db" "$tmp/s2.log"
port=${SERVER_URL##*:}
# Handshake, so that load cannot reorder it: the client sends its headers and says so,
# the script signals the server, and only then does the client send the body.
node -e '
  const net = require("net"), fs = require("fs");
  const [port, sent, signalled] = process.argv.slice(1);
  const s = net.connect(Number(port), "127.0.0.1", () => {
    const body = JSON.stringify({guide: {}});
    s.write("PUT /api/v1/items/1144000000000001942000104002000 HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nAuthorization: Bearer test-admin-token\r\nContent-Length: " + body.length + "\r\n\r\n");
    fs.writeFileSync(sent, "");
    const wait = setInterval(() => { if (fs.existsSync(signalled)) { clearInterval(wait); setTimeout(() => s.write(body), 200); } }, 20);
  });
  let data = "";
  s.on("data", (d) => (data += d));
  s.on("close", () => { console.log(data.split("\r\n")[0]); process.exit(/^HTTP\/1\.1 4\d\d/.test(data) ? 0 : 1); });
  setTimeout(() => process.exit(1), 20000);
' "$port" "$tmp/sent" "$tmp/signalled" >"$tmp/inflight.out" 2>&1 &
client=$!
for i in $(seq 1 400); do [ -e "$tmp/sent" ] && break; sleep 0.05; done
kill -TERM "$SERVER_PID"
touch "$tmp/signalled"
wait "$client"; crc=$?
wait "$SERVER_PID"; src=$?
check "a request in flight at SIGTERM still gets its answer" test $crc -eq 0
check "and the server then exits 0" test $src -eq 0

echo "cli: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
