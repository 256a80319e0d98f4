#!/bin/sh
# Search latency: p50/p99 of store_search for 1-, 2- and 4-character
# queries over a 10,000-article demo site, newest first (the default) and
# best first (*_relevance), each against a brute-force scan of the same
# text in the same run. Prints lines such as
#   search_p50_1char 812 us (ratio 0.210 to brute force 3870 us, 10000 posts)
# plus the index size and the machine's load average. Runs on its own or
# from bench/run.sh.
#
#   bench/search.sh [--articles N] [--queries N] [--db FILE] [--seed S]
#
# With KIJI_BENCH_SEARCH_100K=1 (and no other --articles) it then does
# the same over a 100,000-article site, printing the same names with
# _100k appended, from 50 queries per figure (the brute force takes a
# few hundred ms each there). That site takes about four minutes to build
# (once; 2 GB in build/bench/), so it is opt-in.
#
# With KIJI_BENCH_SEARCH_PG set to a PostgreSQL URL (an empty database, or one
# this script filled before: tests/pg/cluster.sh start DIR prints one) it
# then measures the same site there, each name with _pg appended; the
# site is built there once (a few minutes for 10,000 articles).
#
# The demo database is built once (about 20 s) and kept in build/bench/;
# delete it, or pass another --db, to rebuild.
set -eu
cd "$(dirname "$0")/.."
make --no-print-directory build/rel/bench/search_bench >&2
articles=10000
queries=200
db=
prev=
for a in "$@"; do
	case $prev in
	--articles) articles=$a ;;
	--db) db=$a ;;
	--queries) queries=$a ;;
	esac
	prev=$a
done
mkdir -p build/bench
printf 'search_loadavg %s (1, 5, 15 min, before the run)\n' \
    "$(cut -d' ' -f1-3 /proc/loadavg)"
[ -n "$db" ] || set -- --db "build/bench/search-$articles.db" "$@"
build/rel/bench/search_bench "$@"
if [ -n "${KIJI_BENCH_SEARCH_PG:-}" ]; then
	printf 'search_loadavg_pg %s (1, 5, 15 min)\n' \
	    "$(cut -d' ' -f1-3 /proc/loadavg)"
	build/rel/bench/search_bench --articles "$articles" \
	    --queries "$queries" --db "$KIJI_BENCH_SEARCH_PG" | sed 's/^\(search_[a-z0-9_]*\)/\1_pg/'
fi
if [ "$articles" = 10000 ] && [ "${KIJI_BENCH_SEARCH_100K:-}" = 1 ]; then
	printf 'search_loadavg_100k %s (1, 5, 15 min)\n' \
	    "$(cut -d' ' -f1-3 /proc/loadavg)"
	build/rel/bench/search_bench --articles 100000 --queries 50 \
	    --db build/bench/search-100000.db |
	    sed 's/^\(search_[a-z0-9_]*\)/\1_100k/'
fi
