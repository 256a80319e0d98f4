#!/usr/bin/env bash
# WordPress import benchmark (run by bench/run.sh, or on its own).
#
#   bench/import.sh [--posts 10000] [--comments 200000]
#
# Generates a WXR export with bench/wxr_gen.py (10,000 posts and 200,000
# comments by default, ~160 MB), imports it into an empty site with
# `kiji import-wxr` and prints, one figure a line (name value unit (ratio)):
#   import.posts     posts per second over the whole import
#   import.comments  comments per second over the same run
#   import.vs_parse  the import's time against xmllint --stream reading the
#                    same file (the floor: libxml2's reader alone)
#   import.rss       peak RSS of the import (target: under 100 MiB)
#   import.rss_flat  peak RSS at full size against a tenth of the size
#                    (flat memory: close to 1)
#   import.again     re-importing the same file (nothing changes)
# Everything lives in a temp dir removed at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
KIJI=${KIJI:-$PWD/build/rel/kiji}
PY=/usr/bin/python3
POSTS=10000
COMMENTS=200000
while [ $# -gt 0 ]; do
	case "$1" in
	--posts) POSTS=$2; shift 2 ;;
	--comments) COMMENTS=$2; shift 2 ;;
	*) echo "usage: bench/import.sh [--posts N] [--comments M]" >&2; exit 2 ;;
	esac
done
[ -x "$KIJI" ] || { echo "import.sh: $KIJI not built" >&2; exit 1; }
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
log() { printf 'bench: import: %s\n' "$*" >&2; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b + 0 == 0) print "n/a"; else printf "%.2f", a / b }'; }

# Seconds and peak RSS (KiB) of a command: "SECONDS KIB" on stdout.
measure() {
	local out=$1
	shift
	/usr/bin/time -f '%e %M' -o "$TMP/time" "$@" >"$out" 2>&1 || {
		echo "import.sh: failed: $* ($(tail -n 3 "$out" | tr '\n' ' '))" >&2
		return 1
	}
	tail -n 1 "$TMP/time"
}

log "generating $POSTS posts, $COMMENTS comments"
$PY bench/wxr_gen.py --posts "$POSTS" --comments "$COMMENTS" >"$TMP/big.xml"
$PY bench/wxr_gen.py --posts $((POSTS / 10)) --comments $((COMMENTS / 10)) >"$TMP/small.xml"
size_mb=$(awk -v b="$(stat -c %s "$TMP/big.xml")" 'BEGIN { printf "%.0f", b / 1048576 }')

log "parse floor: xmllint --stream"
read -r parse_s _ < <(measure "$TMP/xmllint.log" xmllint --stream --noout "$TMP/big.xml")

log "importing the tenth-size file"
"$KIJI" init --db "$TMP/small.db" >/dev/null 2>&1
read -r _ small_kb < <(measure "$TMP/small.log" "$KIJI" import-wxr --db "$TMP/small.db" "$TMP/small.xml")

log "importing the full file ($size_mb MB)"
"$KIJI" init --db "$TMP/big.db" >/dev/null 2>&1
read -r big_s big_kb < <(measure "$TMP/big.log" "$KIJI" import-wxr --db "$TMP/big.db" "$TMP/big.xml")
np=$(sqlite3 "$TMP/big.db" "SELECT count(*) FROM articles;")
nc=$(sqlite3 "$TMP/big.db" "SELECT count(*) FROM comments;")
[ "$np" -eq "$POSTS" ] && [ "$nc" -eq "$COMMENTS" ] ||
	echo "# import.check: expected $POSTS posts and $COMMENTS comments, found $np and $nc"

log "importing it again"
read -r again_s _ < <(measure "$TMP/again.log" "$KIJI" import-wxr --db "$TMP/big.db" "$TMP/big.xml")

rss_mb=$(awk -v k="$big_kb" 'BEGIN { printf "%.1f", k / 1024 }')
small_mb=$(awk -v k="$small_kb" 'BEGIN { printf "%.1f", k / 1024 }')
echo "import.posts $(awk -v n="$np" -v s="$big_s" 'BEGIN { printf "%.0f", n / s }') posts/s (no reference; $np posts in $big_s s, with their comments)"
echo "import.comments $(awk -v n="$nc" -v s="$big_s" 'BEGIN { printf "%.0f", n / s }') comments/s (no reference; $nc comments in the same run)"
echo "import.vs_parse $big_s s ($(ratio "$big_s" "$parse_s") x xmllint --stream reading the same $size_mb MB in $parse_s s)"
echo "import.rss $rss_mb MiB ($(ratio "$rss_mb" 100) x target 100 MiB; peak, $size_mb MB file)"
echo "import.rss_flat $rss_mb MiB ($(ratio "$rss_mb" "$small_mb") x the tenth-size file's $small_mb MiB)"
echo "import.again $again_s s ($(ratio "$again_s" "$big_s") x the first import; $(grep -c ' 0 imported' "$TMP/again.log") lines with nothing imported)"
