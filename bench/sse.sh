#!/usr/bin/env bash
# Live comments (issue 16 item 2): 5,000 readers hold the event stream of
# one article (GET /articles/<id>/events) while a comment is posted every
# second. Run by bench/run.sh, or on its own:
#
#   bench/sse.sh            (builds build/rel/kiji unless KIJI is set)
#
# One figure a line on stdout (name value unit (notes)); lines starting
# with "#" are checks and notes; progress on stderr. About a minute.
#
#   sse.latency.p50/p99   from a comment's 201 answer (it is committed by
#                         then) to the moment the last of the 5,000
#                         listeners had its event, over SSE_SECONDS posts
#   sse.cpu_per_comment   the server's CPU time per comment (taking the
#                         post, rendering it once, sending it 5,000 times)
#   sse.rss_per_listener  the server's RSS growth from opening the
#                         listeners, divided by their number
#
# The client (bench/sse_load.py, one Python process reading every socket
# with epoll) shares the machine's cores with the server: its own reading
# time is inside the latency. Everything runs under build/bench/sse.XXXXXX
# (removed at the end unless KIJI_BENCH_KEEP=1), on 127.0.0.1 only; the
# server started here is stopped by pid on exit, also on error or Ctrl-C.
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT=$PWD
PY=/usr/bin/python3
LISTENERS=${SSE_LISTENERS:-5000}
SECONDS_=${SSE_SECONDS:-20}

log() { printf 'bench: sse: %s\n' "$*" >&2; }
die() { printf 'bench: sse: error: %s\n' "$*" >&2; exit 1; }

KPID=""
TMP=""
cleanup() {
	local rc=$? i
	trap - EXIT INT TERM
	if [ -n "$KPID" ]; then
		kill -TERM "$KPID" 2>/dev/null || true
		for i in $(seq 1 100); do
			kill -0 "$KPID" 2>/dev/null || break
			sleep 0.1
		done
		kill -KILL "$KPID" 2>/dev/null || true
		wait "$KPID" 2>/dev/null || true
	fi
	if [ -n "$TMP" ] && [ -d "$TMP" ]; then
		if [ -n "${KIJI_BENCH_KEEP:-}" ]; then log "kept $TMP"; else rm -rf "$TMP"; fi
	fi
	exit "$rc"
}
trap cleanup EXIT
trap 'log interrupted; exit 130' INT
trap 'log terminated; exit 143' TERM

if [ -z "${KIJI:-}" ]; then
	make --no-print-directory kiji >&2 || die "make kiji failed"
	KIJI=$ROOT/build/rel/kiji
fi
[ -x "$KIJI" ] || die "$KIJI not built"
command -v sqlite3 >/dev/null || die "sqlite3 is missing (scripts/deps.sh bench)"
mkdir -p "$ROOT/build/bench"
TMP=$(mktemp -d "$ROOT/build/bench/sse.XXXXXX")

. "$ROOT/bench/lib.sh"

log "creating a 20-article demo site"
DB=$TMP/site.db
timeout 120 "$KIJI" demo --db "$DB" --articles 20 --seed 1 >/dev/null 2>"$TMP/demo.log" ||
	die "kiji demo failed: $(tail -n 3 "$TMP/demo.log")"
# 5,000 streams from one address: loopback is a trusted proxy (exempt from
# the per-address caps; each post names its own X-Forwarded-For address),
# the stream and connection budgets above the load; the poster is never
# refused.
for kv in "http.trusted_proxies 127.0.0.1" "http.max_streams $((LISTENERS + 100))" \
	"http.max_connections $((LISTENERS + 1000))" "comments.rate_per_minute 0" \
	"comments.min_fill_seconds 0" "comments.moderation none"; do
	# shellcheck disable=SC2086
	"$KIJI" config --db "$DB" set $kv >/dev/null || die "kiji config set $kv failed"
done
AID=$(sqlite3 "$DB" "SELECT id FROM articles WHERE kind = 'post' AND status = 'published'
	AND comments_open = 1 AND published_at <= strftime('%s', 'now') ORDER BY id LIMIT 1;")
[ -n "$AID" ] || die "no open article"

PORT=$(free_port)
"$KIJI" serve --db "$DB" --listen "127.0.0.1:$PORT" >"$TMP/serve.out" 2>"$TMP/serve.log" &
KPID=$!
for i in $(seq 1 100); do
	curl -fsS -o /dev/null "http://127.0.0.1:$PORT/" 2>/dev/null && break
	kill -0 "$KPID" 2>/dev/null || die "kiji serve exited: $(tail -n 3 "$TMP/serve.log")"
	sleep 0.1
done
curl -fsS -o /dev/null "http://127.0.0.1:$PORT/articles/$AID" || die "article $AID does not answer"

log "$LISTENERS listeners on /articles/$AID/events, a comment a second for $SECONDS_ s"
line=$(timeout $((SECONDS_ + 120)) $PY bench/sse_load.py --port "$PORT" --pid "$KPID" \
	--article "$AID" --listeners "$LISTENERS" --seconds "$SECONDS_") ||
	die "sse_load.py failed"
log "$line"
val() { sed -nE "s/.* $1=([^ ]+).*/\1/p" <<<"$line"; }
opened=$(val opened)
posts=$(val posts)
complete=$(val complete)
printf '# sse: %s of %s listeners opened; %s of %s comments reached every listener exactly once\n' \
	"$opened" "$LISTENERS" "$complete" "$posts"
printf 'sse.latency.p50 %s ms (201 answer to the last of %s listeners; first listener p50 %s ms; from the send %s ms; %s comments, 1/s)\n' \
	"$(val p50_ms)" "$opened" "$(val first_p50_ms)" "$(val send_p50_ms)" "$posts"
printf 'sse.latency.p99 %s ms (max %s ms)\n' "$(val p99_ms)" "$(val max_ms)"
printf 'sse.cpu_per_comment %s ms (server CPU per comment taken and sent to %s listeners; the client used %s ms reading them)\n' \
	"$(val server_cpu_ms)" "$opened" "$(val client_cpu_ms)"
printf 'sse.rss_per_listener %s B (server RSS %s KiB with one stream, %s KiB with %s more)\n' \
	"$(val per_listener_b)" "$(val rss0_kib)" "$(val rss1_kib)" "$opened"
printf '# sse: load average %s\n' "$(cut -d' ' -f1-3 /proc/loadavg)"
[ "$opened" = "$LISTENERS" ] && [ "$complete" = "$posts" ] ||
	die "not every listener opened or got every comment once"
