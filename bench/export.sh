#!/usr/bin/env bash
# Static export (issue 16, item 5): `kiji render` of the 10,000-article
# demo, a full export into an empty folder, then an incremental one after
# 10 new comments (on 10 articles, posted through the real form of a
# running `kiji serve`). Prints
#   export.full 41.2 s (N files, M MiB; rendered R, written W)
#   export.incremental 0.61 s (after 10 comments on 10 articles; rendered R, written W)
#   export.nochange 0.02 s (a run with nothing changed)
# Runs on its own or from bench/run.sh.
#
#   bench/export.sh [--db FILE]   (FILE: a 10,000-article demo; copied first)
#
# Without --db the demo is built once (about 20 s) into build/bench/ and
# kept. Everything else lives under a temp folder removed at the end; the
# server started here listens on 127.0.0.1 and is stopped by pid.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
KIJI=${KIJI:-$ROOT/build/rel/kiji}
[ -x "$KIJI" ] || make --no-print-directory build/rel/kiji >&2
src=
while [ $# -gt 0 ]; do
	case $1 in
	--db) src=$2; shift 2 ;;
	*) echo "usage: bench/export.sh [--db FILE]" >&2; exit 2 ;;
	esac
done
log() { printf 'export: %s\n' "$*" >&2; }
if [ -z "$src" ]; then
	src=build/bench/export-10000.db
	if [ ! -f "$src" ]; then
		mkdir -p build/bench
		log "building the 10,000-article demo (once) in $src"
		timeout 600 "$KIJI" demo --db "$src" --articles 10000 --comments 20 \
		    --seed 1 >/dev/null
	fi
fi

TMP=$(mktemp -d "${TMPDIR:-/tmp}/kiji-export-bench.XXXXXX")
KPID=
cleanup() {
	if [ -n "$KPID" ] && kill -0 "$KPID" 2>/dev/null; then
		kill -TERM "$KPID" 2>/dev/null || true
		wait "$KPID" 2>/dev/null || true
	fi
	rm -rf "$TMP"
}
trap cleanup EXIT INT TERM

DB=$TMP/site.db
sqlite3 -batch "$src" ".backup '$DB'"
"$KIJI" config --db "$DB" set comments.rate_per_minute 0 >/dev/null
"$KIJI" config --db "$DB" set comments.min_fill_seconds 0 >/dev/null
OUT=$TMP/out

# "kiji render: full export ...: R rendered, W written, ..." → "R W"
counts() { sed -n 's/.*: \([0-9]*\) rendered, \([0-9]*\) written.*/\1 \2/p' "$1"; }
secs() { sed -n 's/.* in \([0-9.]*\) s$/\1/p' "$1"; }

log "full export of $(sqlite3 -batch -noheader "$DB" "SELECT count(*) FROM articles") articles"
timeout 1800 "$KIJI" render --db "$DB" --out "$OUT" >"$TMP/full.out" 2>"$TMP/full.err" ||
	{ cat "$TMP/full.err" >&2; exit 1; }
grep -q 'full export' "$TMP/full.out" || { cat "$TMP/full.out" >&2; exit 1; }
read -r r w <<<"$(counts "$TMP/full.out")"
files=$(find "$OUT" -type f | wc -l)
mib=$(du -sm "$OUT" | cut -f1)
printf 'export.full %s s (%s files, %s MiB; rendered %s, written %s)\n' \
    "$(secs "$TMP/full.out")" "$files" "$mib" "$r" "$w"

# Ten comments through the form of a running server.
PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$KIJI" serve --db "$DB" --listen "127.0.0.1:$PORT" --no-sandbox >"$TMP/serve.log" 2>&1 &
KPID=$!
for _ in $(seq 1 100); do
	curl -s -o /dev/null --max-time 2 "http://127.0.0.1:$PORT/" && break
	sleep 0.1
done
ids=$(sqlite3 -batch -noheader "$DB" "SELECT id FROM articles WHERE kind = 'post'
	AND status = 'published' AND comments_open = 1
	AND published_at <= strftime('%s', 'now') ORDER BY published_at DESC LIMIT 10")
n=0
for id in $ids; do
	tok=$(curl -s --max-time 10 "http://127.0.0.1:$PORT/articles/$id" |
	    sed -n 's/.*name="token" value="\([^"]*\)".*/\1/p' | head -n1)
	code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 \
	    --data-urlencode "nickname=bench" --data-urlencode "body=export bench $n" \
	    --data-urlencode "parent=0" --data-urlencode "token=$tok" \
	    --data-urlencode "url=" --data-urlencode "opened=" \
	    "http://127.0.0.1:$PORT/articles/$id/comments")
	[ "$code" = 303 ] || { log "comment on $id: HTTP $code"; cat "$TMP/serve.log" >&2; exit 1; }
	n=$((n + 1))
done
kill -TERM "$KPID"
wait "$KPID" 2>/dev/null || true
KPID=

timeout 600 "$KIJI" render --db "$DB" --out "$OUT" >"$TMP/incr.out" 2>"$TMP/incr.err" ||
	{ cat "$TMP/incr.err" >&2; exit 1; }
grep -q 'incremental export' "$TMP/incr.out" || { cat "$TMP/incr.out" >&2; exit 1; }
read -r r w <<<"$(counts "$TMP/incr.out")"
printf 'export.incremental %s s (after %d comments on %d articles; rendered %s, written %s)\n' \
    "$(secs "$TMP/incr.out")" "$n" "$n" "$r" "$w"

timeout 600 "$KIJI" render --db "$DB" --out "$OUT" >"$TMP/none.out" 2>&1
read -r r w <<<"$(counts "$TMP/none.out")"
printf 'export.nochange %s s (nothing changed; rendered %s, written %s)\n' \
    "$(secs "$TMP/none.out")" "$r" "$w"
