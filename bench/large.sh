#!/usr/bin/env bash
# A large site (issue 14 item 7): the demo at 100,000 articles and
# 2,000,000 comments, against a 60-article one in the same run. Run by
# bench/run.sh when KIJI_BENCH_LARGE=1, or on its own:
#
#   bench/large.sh          (builds build/rel/kiji unless KIJI is set)
#
# One figure a line on stdout (name value unit (ratio ...)); progress on
# stderr. About five minutes (most of it the demo build).
#
#   large.demo        seconds `kiji demo --articles 100000 --comments 20`
#                     takes (its progress bar on stderr; goal: < 120 s),
#                     with its CPU time
#   large.start       exec to the first 200 on / (goal: < 1 s)
#   large.front, large.article
#                     wrk -t1 -c64 on the warm front page and an article,
#                     against the same on the 60-article site in this run,
#                     in three turns of each while both servers run
#                     (goal: the same req/s); the large site's article is
#                     one with as many comments as the small site's (the
#                     sixth newest post there), both pages' sizes printed
#   large.rss         RSS after 15 s of wrk cycling through 10,000 distinct
#                     article pages, mostly cache misses (goal: < 250 MiB)
#
# Everything runs under build/bench/large.XXXXXX (removed at the end
# unless KIJI_BENCH_KEEP=1), on 127.0.0.1 only; every process started here
# is stopped by pid on exit, also on error or Ctrl-C.
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT=$PWD
ARTICLES=${LARGE_ARTICLES:-100000}
DUR=5
ENC=(-H 'Accept-Encoding: gzip')

log() { printf 'bench: large: %s\n' "$*" >&2; }
die() { printf 'bench: large: error: %s\n' "$*" >&2; exit 1; }
fig() { printf '%s\n' "$*"; }

PIDS=()
TMP=""
cleanup() {
	local rc=$? pid
	trap - EXIT INT TERM
	for pid in "${PIDS[@]}"; do
		kill -TERM "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	done
	if [ -n "$TMP" ] && [ -d "$TMP" ]; then
		if [ -n "${KIJI_BENCH_KEEP:-}" ]; then log "kept $TMP"; else rm -rf "$TMP"; fi
	fi
	exit "$rc"
}
trap cleanup EXIT
trap 'log interrupted; exit 130' INT
trap 'log terminated; exit 143' TERM

. "$ROOT/bench/lib.sh"

if [ -z "${KIJI:-}" ]; then
	make --no-print-directory kiji >&2 || die "make kiji failed"
	KIJI=$ROOT/build/rel/kiji
fi
[ -x "$KIJI" ] || die "$KIJI not built"
for c in wrk sqlite3 curl awk; do
	command -v "$c" >/dev/null || die "$c is missing (scripts/deps.sh bench)"
done
mkdir -p "$ROOT/build/bench"
TMP=$(mktemp -d "$ROOT/build/bench/large.XXXXXX")

wait_200() {
	local url=$1 limit=$(($(date +%s) + ${2:-30}))
	while [ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "$url" || true)" != 200 ]; do
		[ "$(date +%s)" -ge "$limit" ] && return 1
		sleep 0.01
	done
}

# Starts kiji on $1; sets KPID, KBASE and START_MS (exec to first 200).
serve() {
	local port t0 t1
	port=$(free_port)
	KBASE=http://127.0.0.1:$port
	t0=$(date +%s%N)
	"$KIJI" serve --db "$1" --listen "127.0.0.1:$port" >"$2" 2>&1 &
	KPID=$!
	PIDS+=("$KPID")
	wait_200 "$KBASE/" 60 || die "kiji did not answer: $(tail -n 3 "$2")"
	t1=$(date +%s%N)
	START_MS=$(((t1 - t0) / 1000000))
}

# rate BASE PATH OUT: req/s of wrk -t1 -c64 on one path, warmed first.
rate() {
	local base=$1 path=$2 out=$3
	for _ in 1 2 3; do curl -s -o /dev/null "${ENC[@]}" "$base$path"; done
	timeout $((DUR + 30)) wrk -t1 -c64 "-d${DUR}s" --latency "${ENC[@]}" "$base$path" >"$out" 2>&1 ||
		die "wrk failed: $(cat "$out")"
	wrk_rps "$out"
}

# hot_article DB [N]: the sixth newest post; with N, the newest post with
# N approved comments (else the nearest count), so that both sites' pages
# have the same shape and about the same size.
hot_article() {
	if [ -z "${2:-}" ]; then
		sql "$1" "SELECT id FROM articles WHERE kind = 'post' AND status = 'published'
			AND published_at <= strftime('%s', 'now') ORDER BY published_at DESC LIMIT 1 OFFSET 5;"
	else
		sql "$1" "SELECT id FROM articles WHERE kind = 'post' AND status = 'published'
			AND published_at <= strftime('%s', 'now')
			ORDER BY abs(comment_count - $2), published_at DESC LIMIT 1;"
	fi
}

# page_note DB BASE ID: "article ID, N comments, B bytes gzip" of the
# served page.
page_note() {
	local n b
	n=$(sql "$1" "SELECT comment_count FROM articles WHERE id = $3;")
	b=$(curl -s "${ENC[@]}" "$2/articles/$3" | wc -c)
	printf 'article %s, %s comments, %s bytes gzip' "$3" "$n" "$b"
}

fig "# large: start $(date -u '+%Y-%m-%dT%H:%M:%SZ'); load average $(loadavg); $(nproc) cores"

log "the 60-article reference site"
"$KIJI" demo --db "$TMP/small.db" --articles 60 --seed 1 >/dev/null 2>"$TMP/small-demo.log" ||
	die "kiji demo (small) failed: $(tail -n 3 "$TMP/small-demo.log")"
serve "$TMP/small.db" "$TMP/small.log"
# it keeps running (idle during the build) so that both sites are read
# in turns below: minutes apart, this machine drifts by a third
SPID=$KPID
SBASE=$KBASE
SA=$(hot_article "$TMP/small.db")
SN=$(sql "$TMP/small.db" "SELECT comment_count FROM articles WHERE id = $SA;")

log "building the $ARTICLES-article demo (20 comments each)"
t0=$(date +%s%N)
/usr/bin/time -f '%U %S %M' -o "$TMP/demo.time" \
	"$KIJI" demo --db "$TMP/large.db" --articles "$ARTICLES" --comments 20 --seed 1 \
	>/dev/null 2>"$TMP/demo.log" || die "kiji demo (large) failed: $(tail -n 3 "$TMP/demo.log")"
t1=$(date +%s%N)
demo_s=$(awk -v n=$((t1 - t0)) 'BEGIN { printf "%.1f", n / 1e9 }')
read -r du ds dm <"$TMP/demo.time"
na=$(sql "$TMP/large.db" "SELECT count(*) FROM articles;")
nc=$(sql "$TMP/large.db" "SELECT count(*) FROM comments;")
size=$(du -m "$TMP/large.db" | cut -f1)
fig "large.demo $demo_s s ($(ratio "$demo_s" 120) x goal 120 s; $na articles, $nc comments, $size MiB; CPU ${du} s user ${ds} s sys, peak RSS $((dm / 1024)) MiB; load $(loadavg))"

sync
serve "$TMP/large.db" "$TMP/large.log"
fig "large.start $START_MS ms ($(ratio "$START_MS" 1000) x goal 1000 ms; exec to the first 200 on /)"
LA=$(hot_article "$TMP/large.db" "$SN")
# three turns of small, large on each page; the rates summed over turns
s_front=0 l_front=0 s_art=0 l_art=0 runs=""
for _ in 1 2 3; do
	a=$(rate "$SBASE" / "$TMP/small.front")
	b=$(rate "$KBASE" / "$TMP/large.front")
	c=$(rate "$SBASE" "/articles/$SA" "$TMP/small.article")
	d=$(rate "$KBASE" "/articles/$LA" "$TMP/large.article")
	runs="$runs $(ratio "$b" "$a")/$(ratio "$d" "$c")"
	s_front=$(awk -v x="$s_front" -v y="$a" 'BEGIN { print x + y }')
	l_front=$(awk -v x="$l_front" -v y="$b" 'BEGIN { print x + y }')
	s_art=$(awk -v x="$s_art" -v y="$c" 'BEGIN { print x + y }')
	l_art=$(awk -v x="$l_art" -v y="$d" 'BEGIN { print x + y }')
done
s_note=$(page_note "$TMP/small.db" "$SBASE" "$SA")
l_note=$(page_note "$TMP/large.db" "$KBASE" "$LA")
stop_pid "$SPID"
mean() { awk -v x="$1" 'BEGIN { printf "%.0f", x / 3 }'; }
fig "large.front $(mean "$l_front") req/s ($(ratio "$l_front" "$s_front") x the 60-article site's $(mean "$s_front"); three turns of each, front/article ratios by turn:$runs; last p99 $(round "$(wrk_p99 "$TMP/large.front")" 2) ms; load $(loadavg))"
fig "large.article $(mean "$l_art") req/s ($(ratio "$l_art" "$s_art") x the 60-article site's $(mean "$s_art"); last p99 $(round "$(wrk_p99 "$TMP/large.article")" 2) ms; $l_note, against $s_note)"

log "10,000 distinct article pages"
sql "$TMP/large.db" "SELECT id FROM articles WHERE kind = 'post' AND status = 'published'
	AND published_at <= strftime('%s', 'now') ORDER BY id DESC LIMIT 10000;" >"$TMP/ids"
timeout 120 wrk -t1 -c64 -d15s -s bench/cycle.lua "$KBASE/" -- "$TMP/ids" \
	>"$TMP/walk" 2>&1 || die "wrk (walk) failed: $(cat "$TMP/walk")"
rss=$(awk '/^VmRSS:/ { printf "%.1f", $2 / 1024 }' "/proc/$KPID/status")
fig "large.rss $rss MiB ($(ratio "$rss" 250) x goal 250 MiB; after $(awk '/requests in/ { print $1 }' "$TMP/walk") requests over $(wc -l <"$TMP/ids") distinct articles; $(grep '^STATUS' "$TMP/walk" || true))"
stop_pid "$KPID"
