#!/bin/sh
# Search latency: p50/p99 of store_search for 1-, 2- and 4-character
# queries over a 10,000-article demo site, each against a brute-force scan
# of the same text in the same run. Prints lines such as
#   search_p50_1char 812 us (ratio 0.210 to brute force 3870 us)
# plus the index size. Runs on its own or from bench/run.sh.
#
#   bench/search.sh [--articles N] [--queries N] [--db FILE] [--seed S]
#
# The demo database is built once (about a minute) and kept in
# build/bench/; delete it, or pass another --db, to rebuild.
set -eu
cd "$(dirname "$0")/.."
make --no-print-directory build/rel/bench/search_bench >&2
articles=10000
db=
prev=
for a in "$@"; do
	case $prev in
	--articles) articles=$a ;;
	--db) db=$a ;;
	esac
	prev=$a
done
mkdir -p build/bench
[ -n "$db" ] || set -- --db "build/bench/search-$articles.db" "$@"
exec build/rel/bench/search_bench "$@"
