#!/usr/bin/env bash
# The same figures on PostgreSQL as on SQLite (issue 15, "Speed"), one
# node and then two nodes on one database. Run by bench/run.sh, or on its
# own:
#
#   bench/pg.sh            (builds build/rel/kiji unless KIJI is set)
#
# KIJI_BENCH_PG=0 skips it; without PostgreSQL (no initdb/pg_ctl) it says
# so in one line and exits 0. About three minutes.
#
# One figure a line on stdout, name value unit (ratio to SQLite in the
# same run); lines starting with "#" are checks and notes; progress on
# stderr. A throwaway cluster (tests/pg/cluster.sh: fsync and
# synchronous_commit on, on the same disk as the SQLite file) holds the
# same seeded demo site as a SQLite file beside it:
#
#   pg.page.warm     wrk -t1 -c64 on one 100-comment article, a PostgreSQL
#                    node and a SQLite node in turns, ROUNDS each, medians
#                    (the page cache serves it; what PostgreSQL committed
#                    and spent meanwhile is noted: today each request
#                    still asks it for the change log's newest seq)
#   pg.render.100c   bench/render on the URL, page cache off: a cache miss
#                    (and PostgreSQL's CPU per render, from /proc)
#   pg.posts.c64     durable comment posts/s through the real form
#                    (bench/post.lua, 303s only, checked against the
#                    database); the nodes' group commits (their /metrics)
#                    and PostgreSQL's CPU, transaction ids, WAL bytes and
#                    WAL flushes are noted for the scale estimate
#   pg.search.p50.*  bench/search_bench's p50 for 1-, 2- and 4-character
#                    queries, newest first
#   pg2.page.warm    two `kiji serve` nodes on the same database, one wrk
#                    -c32 on each at once, summed, against one node at c64
#                    (in turns)
#   pg2.posts.c64    posts at c64 split over the two nodes (c32 each)
#
# PostgreSQL's CPU is read from /proc (the postmaster and its children),
# its writes from transaction ids and WAL positions, both at once; its
# statistics views (all transactions, WAL flushes) only 11 s after a run,
# when idle backends have handed their counts over.
#
# Both backends' servers run with --no-sandbox (kiji serve's sandbox does
# not take a URL yet), so that they differ only in the store. Everything
# runs under build/bench/pg.XXXXXX (removed at the end unless
# KIJI_BENCH_KEEP=1), on 127.0.0.1 only; every process started here is
# stopped by pid, and the cluster by its directory, on exit, also on error
# or Ctrl-C.
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT=$PWD
DUR=5             # seconds per warm page run
ROUNDS=3          # interleaved pairs per page figure
POST_DUR=8        # seconds per posting run; posts stop 2 s before the end
POST_WINDOW=6
ARTICLES=300      # the demo site (default comments, about 12 an article)
QUERIES=20        # search queries per length
NOW=2026-01-01T00:00:00Z # the demo's clock, search_bench's too

log() { printf 'bench: pg: %s\n' "$*" >&2; }
die() { printf 'bench: pg: error: %s\n' "$*" >&2; exit 1; }

if [ "${KIJI_BENCH_PG:-}" = 0 ]; then
	echo "# pg: skipped (KIJI_BENCH_PG=0)"
	exit 0
fi
if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 &&
	! command -v initdb >/dev/null 2>&1 && [ -z "${PG_BIN:-}" ]; then
	echo "# pg: skipped (PostgreSQL is not installed: apt-get install postgresql)"
	exit 0
fi

PIDS=()
TMP=""
CLUSTER=""
cleanup() {
	local rc=$?
	trap - EXIT INT TERM
	stop_all
	if [ -n "$CLUSTER" ]; then
		if [ -n "${KIJI_BENCH_KEEP:-}" ]; then
			# keep the data, stop the server
			cp -r "$CLUSTER/server.log" "$TMP/pg-server.log" 2>/dev/null || true
		fi
		tests/pg/cluster.sh stop "$CLUSTER" || true
	fi
	if [ -n "$TMP" ] && [ -d "$TMP" ]; then
		if [ -n "${KIJI_BENCH_KEEP:-}" ]; then
			log "kept $TMP"
		else
			rm -rf "$TMP"
		fi
	fi
	exit "$rc"
}
trap cleanup EXIT
trap 'log interrupted; exit 130' INT
trap 'log terminated; exit 143' TERM

if ! command -v wrk >/dev/null; then
	log "installing wrk (scripts/deps.sh bench)"
	scripts/deps.sh bench
fi
for c in wrk sqlite3 psql curl awk getconf timeout make; do
	command -v "$c" >/dev/null || die "$c is missing"
done
if [ -z "${KIJI:-}" ]; then
	KIJI=$ROOT/build/rel/kiji
	log "building kiji (release)"
	make --no-print-directory kiji >&2 || die "make kiji failed"
fi
[ -x "$KIJI" ] || die "$KIJI not built"
log "building bench/render and bench/search_bench"
make --no-print-directory -f Makefile -f bench/bench.mk build/rel/bench/render \
	build/rel/bench/search_bench >&2 || die "building the bench tools failed"
RENDER=$ROOT/build/rel/bench/render
SEARCH=$ROOT/build/rel/bench/search_bench

mkdir -p "$ROOT/build/bench"
TMP=$(mktemp -d "$ROOT/build/bench/pg.XXXXXX")
chmod 0755 "$TMP" # the cluster's owner (postgres, when run as root) enters it
. "$ROOT/bench/lib.sh"
fig() { printf '%s\n' "$*"; }
TICK=$(getconf CLK_TCK)

# ---- helpers --------------------------------------------------------------

# start_node DB LOG: serves DB on a free port, /metrics on another; sets
# KPID and KBASE, and METRICS[KBASE].
declare -A METRICS
start_node() {
	local port mport
	port=$(free_port)
	mport=$(free_port)
	while [ "$mport" = "$port" ]; do mport=$(free_port); done
	KBASE=http://127.0.0.1:$port
	METRICS[$KBASE]=http://127.0.0.1:$mport/metrics
	"$KIJI" serve --no-sandbox --db "$1" --listen "127.0.0.1:$port" \
		--metrics-listen "127.0.0.1:$mport" >"$2" 2>&1 &
	KPID=$!
	PIDS+=("$KPID")
	wait_200 "$KBASE/" 20 || die "kiji did not answer on $KBASE: $(tail -n 5 "$2")"
}

# commits BASE...: the group commits so far, summed over the nodes:
# "commits posts commit_seconds" (kiji_commit_batch_size's count and sum,
# kiji_commit_fsync_seconds' sum).
commits() {
	local base
	for base in "$@"; do
		curl -sf --max-time 10 "${METRICS[$base]}" || die "no /metrics from $base's node"
	done | awk '$1 == "kiji_commit_batch_size_count" { c += $2 }
		$1 == "kiji_commit_batch_size_sum" { p += $2 }
		$1 == "kiji_commit_fsync_seconds_sum" { t += $2 }
		END { printf "%d %d %.6f", c, p, t }'
}

# CPU seconds PostgreSQL has used: the postmaster (with its waited-for
# children) and every live child (backends, walwriter, checkpointer, ...).
pg_cpu() {
	local pm
	pm=$(head -n1 "$CLUSTER/data/postmaster.pid")
	{ cat /proc/[0-9]*/stat 2>/dev/null || true; } | awk -v pm="$pm" -v tick="$TICK" '
		{ pid = $1; sub(/^.*\) /, "")   # after "pid (comm) ": $1 state, $2 ppid
		  if (pid == pm) t += $12 + $13 + $14 + $15
		  else if ($2 == pm) t += $12 + $13 }
		END { printf "%.3f", t / tick }'
}

# CPU seconds a process has used (utime + stime).
proc_cpu() {
	awk -v tick="$TICK" '{ sub(/^.*\) /, ""); printf "%.3f", ($12 + $13) / tick }' "/proc/$1/stat"
}

# What PostgreSQL has done so far, read at once: "cpu_s next_xid wal_bytes"
# (a transaction id is given to each transaction that writes; a read-only
# one, such as this query, takes none).
pg_sample() {
	printf '%s %s\n' "$(pg_cpu)" "$(sql "$PGURL" "SELECT pg_snapshot_xmax(pg_current_snapshot())::text
		|| ' ' || pg_wal_lsn_diff(pg_current_wal_lsn(), '0/0');")"
}

# The statistics views' committed transactions (reads too) and WAL
# flushes: "xact_commit wal_sync", after waiting SECONDS (a busy backend
# hands its counts to the views up to 10 s after it goes idle).
pg_settled() {
	sleep "$1"
	sql "$PGURL" "SELECT (SELECT xact_commit FROM pg_stat_database
		WHERE datname = current_database()) || ' ' || (SELECT wal_sync FROM pg_stat_wal);"
}

# pg_delta BEFORE AFTER: the field-by-field difference of two samples.
pg_delta() {
	awk -v a="$1" -v b="$2" 'BEGIN { n = split(a, x, " "); split(b, y, " ")
		for (i = 1; i <= n; i++) printf "%s%s", (i > 1 ? " " : ""), y[i] - x[i] }'
}

# targets BASE FILE: "id token" lines for the posting articles, from BASE.
targets() {
	local id
	: >"$2"
	for id in "${TARGET_IDS[@]}"; do
		printf '%s %s\n' "$id" "$(get_token "$1" "$id")" >>"$2"
	done
}

# posts DB NAME BASE...: durable posts at c64 through the form, the
# connections split evenly over the nodes at BASE... (one wrk each, at
# once); the store's count checked against the 303s. Sets RATE, OK,
# CHECK, and GC ("commits posts commit_seconds" of the nodes' group
# commits); on PostgreSQL also PGD ("cpu_s xids wal_bytes" over the
# posting window, when the runs have posted and not yet turned to
# robots.txt) and PGS ("transactions wal_flushes", from before the form
# tokens are fetched to 11 s after the runs).
posts() {
	local db=$1 name=$2 n c i before after ok other secs pids=() line base
	local b="" s0="" g0
	shift 2
	n=$#
	c=$((64 / n))
	i=0
	before=$(sql "$db" "SELECT count(*) FROM comments;")
	[ "$db" = "$PGURL" ] && s0=$(pg_settled 0)
	for base in "$@"; do
		i=$((i + 1))
		targets "$base" "$TMP/$name.targets$i"
	done
	g0=$(commits "$@")
	[ "$db" = "$PGURL" ] && b=$(pg_sample)
	i=0
	for base in "$@"; do
		i=$((i + 1))
		timeout $((POST_DUR + 60)) wrk -t1 "-c$c" "-d${POST_DUR}s" --timeout 10s \
			-s bench/post.lua "$base/" -- "$TMP/$name.targets$i" "$POST_WINDOW" \
			"bench-$name" >"$TMP/$name.out$i" 2>&1 &
		pids+=($!)
	done
	if [ -n "$b" ]; then
		sleep "$POST_WINDOW"
		PGD=$(pg_delta "$b" "$(pg_sample)")
	fi
	for i in "${!pids[@]}"; do
		wait "${pids[$i]}" || { cat "$TMP/$name.out$((i + 1))" >&2; die "wrk ($name) failed"; }
	done
	GC=$(pg_delta "$g0" "$(commits "$@")")
	[ -z "$b" ] || PGS=$(pg_delta "$s0" "$(pg_settled 11)")
	after=$(sql "$db" "SELECT count(*) FROM comments;")
	OK=0
	other=0
	RATE=0
	for i in $(seq 1 "$n"); do
		line=$(grep '^POSTS' "$TMP/$name.out$i") || die "post.lua printed no result ($name)"
		ok=$(sed -n 's/.*ok303=\([0-9]*\).*/\1/p' <<<"$line")
		secs=$(sed -n 's/.*seconds=\([0-9.]*\).*/\1/p' <<<"$line")
		other=$((other + $(sed -n 's/.*other=\([0-9]*\).*/\1/p' <<<"$line")))
		OK=$((OK + ok))
		RATE=$(awk -v r="$RATE" -v n="$ok" -v s="$secs" 'BEGIN { printf "%.1f", r + (s > 0 ? n / s : 0) }')
	done
	CHECK="store +$((after - before)) = $OK answered 303"
	if [ "$((after - before))" -ne "$OK" ]; then
		CHECK="MISMATCH: store +$((after - before)), 303 answers $OK"
		FAILED=1
	fi
	[ "$other" -eq 0 ] || CHECK+="; $other non-303 answers to posts"
}

# render DB ID: bench/render with the page cache off (restored after);
# sets RMED (µs), RRUNS (timed + warm-up calls) and RLINE.
render() {
	local db=$1 id=$2 old
	old=$("$KIJI" config --db "$db" get cache.max_bytes) || die "kiji config get cache.max_bytes failed"
	"$KIJI" config --db "$db" set cache.max_bytes 0 || die "cannot turn the page cache off"
	RLINE=$(timeout 120 "$RENDER" "$db" "$id" 3000 4) || die "bench/render failed on $db"
	"$KIJI" config --db "$db" set cache.max_bytes "$old" || die "cannot turn the page cache on again"
	grep -q 'cache=hit' <<<"$RLINE" && { FAILED=1; fig "# render: CACHE HIT on $db: a warm figure, not a render"; }
	RMED=$(sed -n 's/.*median_us=\([0-9.]*\).*/\1/p' <<<"$RLINE")
	RRUNS=$(( $(sed -n 's/.*runs=\([0-9]*\).*/\1/p' <<<"$RLINE") + 5 ))
}

# gc_note: the group commits of the last posts run (GC), in words.
gc_note() {
	local c p t
	read -r c p t <<<"$GC"
	printf '%s group commits, %s posts a commit, COMMIT %s ms on average' "$c" \
		"$(awk -v p="$p" -v c="$c" 'BEGIN { printf "%.1f", c ? p / c : 0 }')" \
		"$(awk -v t="$t" -v c="$c" 'BEGIN { printf "%.2f", c ? t * 1000 / c : 0 }')"
}

# db_line NAME POSTS NOTE: what PostgreSQL did for the posts (PGD, PGS).
db_line() {
	local cpu xids wal xacts flushes
	read -r cpu xids wal <<<"$PGD"
	read -r xacts flushes <<<"$PGS"
	fig "# $1 $(gc_note); PostgreSQL over the $POST_WINDOW s of posting: CPU $cpu s ($(awk -v c="$cpu" -v n="$2" 'BEGIN { printf "%.0f", n ? c * 1e6 / n : 0 }') µs a post), $(awk -v x="$xids" -v n="$2" 'BEGIN { printf "%.2f", n ? x / n : 0 }') transaction ids a post (savepoints take one), WAL $(awk -v b="$wal" -v n="$2" 'BEGIN { printf "%.0f", n ? b / n : 0 }') bytes a post; $flushes WAL flushes in the run ($(awk -v x="$2" -v w="$flushes" 'BEGIN { printf "%.1f", w ? x / w : 0 }') posts a flush); $3"
}

FAILED=0
fig "# pg: start $(date -u '+%Y-%m-%dT%H:%M:%SZ'); load average $(loadavg) (other work on this machine skews every figure)"

# ---- the cluster and the two sites ------------------------------------------

log "starting a throwaway PostgreSQL cluster"
CLUSTER=$TMP/cluster
PGURL=$(tests/pg/cluster.sh start "$CLUSTER" 2>"$TMP/cluster.err") ||
	die "cluster.sh: $(cat "$TMP/cluster.err")"
PGVER=$(sql "$PGURL" "SHOW server_version;")
SDB=$TMP/site.db
log "creating the demo site ($ARTICLES articles) in SQLite and in PostgreSQL $PGVER"
for db in "$SDB" "$PGURL"; do
	timeout 120 "$KIJI" demo --db "$db" --articles "$ARTICLES" --seed 1 --now "$NOW" \
		>>"$TMP/demo.log" 2>&1 || die "kiji demo failed: $(tail -n 3 "$TMP/demo.log")"
	for kv in "comments.rate_per_minute 0" "likes.rate_per_minute 0" \
		"comments.min_fill_seconds 0" "log.access off"; do
		# shellcheck disable=SC2086
		"$KIJI" config --db "$db" set $kv || die "kiji config set $kv failed"
	done
done
COUNTS="SELECT (SELECT count(*) FROM articles) || ' ' || (SELECT count(*) FROM comments);"
[ "$(sql "$SDB" "$COUNTS")" = "$(sql "$PGURL" "$COUNTS")" ] ||
	die "the two demo sites differ: SQLite $(sql "$SDB" "$COUNTS"), PostgreSQL $(sql "$PGURL" "$COUNTS")"

# The published open post with the most comments and no trackbacks, topped
# up to 100 approved comments on both; 16 others take the posts.
A=$(sql "$SDB" "
	SELECT a.id FROM articles a
	WHERE a.kind = 'post' AND a.status = 'published' AND a.comments_open = 1
	  AND NOT EXISTS (SELECT 1 FROM comments t WHERE t.article_id = a.id AND t.type <> 'comment')
	ORDER BY (SELECT count(*) FROM comments c WHERE c.article_id = a.id AND c.type = 'comment' AND c.status = 'approved') DESC, a.id
	LIMIT 1;")
[ -n "$A" ] || die "no article to read"
mapfile -t TARGET_IDS < <(sql "$SDB" "
	SELECT id FROM articles WHERE kind = 'post' AND status = 'published'
	  AND comments_open = 1 AND id <> $A ORDER BY id LIMIT 16;")
[ "${#TARGET_IDS[@]}" -gt 0 ] || die "no articles to post to"
PAGE=/articles/$A

start_node "$SDB" "$TMP/kiji-sqlite.log"
SPID=$KPID
SBASE=$KBASE
start_node "$PGURL" "$TMP/kiji-pg.log"
PPID1=$KPID
PBASE=$KBASE
log "nodes: SQLite pid $SPID on $SBASE, PostgreSQL pid $PPID1 on $PBASE"
top_up "$SDB" "$SBASE" "$A" 100
top_up "$PGURL" "$PBASE" "$A" 100

# ---- warm page, one node ------------------------------------------------------------

# Fetched twice on each (the first may be the miss that fills the cache).
for base in "$SBASE" "$PBASE" "$SBASE" "$PBASE"; do
	curl -s -o /dev/null --max-time 10 "$base$PAGE" || die "no answer from $base$PAGE"
done
SBYTES=$(curl -s --max-time 10 "$SBASE$PAGE" | wc -c)
PBYTES=$(curl -s --max-time 10 "$PBASE$PAGE" | wc -c)
fig "# pg.page $PAGE: SQLite $SBYTES bytes, PostgreSQL $PBYTES bytes, $(approved_count "$PGURL" "$A") approved comments; PostgreSQL $PGVER, fsync and synchronous_commit on"
log "page: warm-up"
run_wrk "$TMP/warm" 2 -t1 -c64 -d2s "$SBASE$PAGE"
run_wrk "$TMP/warm" 2 -t1 -c64 -d2s "$PBASE$PAGE"
s0=$(pg_settled 11)
sr=()
pr=()
preq=0
pcpu=0
pwrites=0
for r in $(seq 1 "$ROUNDS"); do
	log "page: round $r/$ROUNDS SQLite"
	run_wrk "$TMP/page.s$r" "$DUR" -t1 -c64 "-d${DUR}s" --latency "$SBASE$PAGE"
	log "page: round $r/$ROUNDS PostgreSQL"
	b=$(pg_sample)
	run_wrk "$TMP/page.p$r" "$DUR" -t1 -c64 "-d${DUR}s" --latency "$PBASE$PAGE"
	d=$(pg_delta "$b" "$(pg_sample)")
	sr+=("$(wrk_rps "$TMP/page.s$r")")
	pr+=("$(wrk_rps "$TMP/page.p$r")")
	preq=$((preq + $(awk '/requests in/ { print $1 }' "$TMP/page.p$r")))
	read -r c w _ <<<"$d"
	pcpu=$(awk -v a="$pcpu" -v b="$c" 'BEGIN { print a + b }')
	pwrites=$((pwrites + w))
done
read -r px _ <<<"$(pg_delta "$s0" "$(pg_settled 11)")"
WARM_PG_CPU_US=$(awk -v c="$pcpu" -v n="$preq" 'BEGIN { printf "%.1f", c * 1e6 / n }')
srm=$(median "${sr[@]}")
prm=$(median "${pr[@]}")
fig "pg.page.warm $(round "$prm") req/s ($(ratio "$prm" "$srm") x SQLite $(round "$srm") req/s; wrk -t1 -c64 -d${DUR}s, medians of $ROUNDS in turns; PostgreSQL ${pr[*]}; SQLite ${sr[*]})"
fig "# pg.page.db during the $preq warm page requests to its node PostgreSQL committed $px transactions ($(awk -v x="$px" -v n="$preq" 'BEGIN { printf "%.2f", x / n }') a request; $pwrites took a transaction id: they wrote) and used $(round "$(awk -v c="$pcpu" 'BEGIN { print c * 1000 }')") ms of CPU ($WARM_PG_CPU_US µs a request: each asks the change log's newest seq, STMT_DATA_VERSION)"

# ---- cold render ----------------------------------------------------------------------

log "render: in process, page cache off"
render "$SDB" "$A"
smed=$RMED
b=$(pg_sample)
render "$PGURL" "$A"
d=$(pg_delta "$b" "$(pg_sample)")
read -r rcpu rw _ <<<"$d"
RENDER_PG_CPU_US=$(awk -v c="$rcpu" -v n="$RRUNS" 'BEGIN { printf "%.0f", c * 1e6 / n }')
fig "pg.render.100c $(round "$RMED") µs ($(ratio "$RMED" "$smed") x SQLite $(round "$smed") µs; bench/render, page cache off, median of $((RRUNS - 5)), p90 $(round "$(sed -n 's/.*p90_us=\([0-9.]*\).*/\1/p' <<<"$RLINE")") µs, $(sed -n 's/.*bytes=\([0-9]*\).*/\1/p' <<<"$RLINE") bytes, X-Cache $(sed -n 's/.*cache=\([a-z]*\).*/\1/p' <<<"$RLINE"))"
fig "# pg.render.db PostgreSQL's CPU $RENDER_PG_CPU_US µs a render ($rcpu s for $RRUNS renders, $rw transaction ids taken; the rest of the time is the client's and the round trips)"

# ---- durable posts, one node ---------------------------------------------------------

log "posts: SQLite at c64"
posts "$SDB" sqlite "$SBASE"
srate=$RATE
fig "# pg.posts.sqlite $srate posts/s at c64 on SQLite ($OK posts; $CHECK; $(gc_note))"
log "posts: PostgreSQL at c64"
k0=$(proc_cpu "$PPID1")
posts "$PGURL" pg "$PBASE"
k1=$(proc_cpu "$PPID1")
fig "pg.posts.c64 $(round "$RATE") posts/s ($(ratio "$RATE" "$srate") x SQLite $(round "$srate") posts/s; $OK posts; $CHECK)"
db_line pg.posts.db "$OK" "node CPU $(awk -v a="$k0" -v b="$k1" 'BEGIN { printf "%.2f", b - a }') s"
POST_RATE=$RATE
POST_CPU=$(cut -d' ' -f1 <<<"$PGD")

# ---- search ----------------------------------------------------------------------------

log "search: $QUERIES queries of 1, 2 and 4 characters on each"
timeout 300 "$SEARCH" --db "$SDB" --queries "$QUERIES" >"$TMP/search.s" 2>>"$TMP/search.log" ||
	die "search_bench failed on SQLite: $(tail -n 3 "$TMP/search.log")"
timeout 300 "$SEARCH" --db "$PGURL" --queries "$QUERIES" >"$TMP/search.p" 2>>"$TMP/search.log" ||
	die "search_bench failed on PostgreSQL: $(tail -n 3 "$TMP/search.log")"
for n in 1 2 4; do
	s=$(awk -v k="search_p50_${n}char" '$1 == k { print $2 }' "$TMP/search.s")
	p=$(awk -v k="search_p50_${n}char" '$1 == k { print $2 }' "$TMP/search.p")
	h=$(awk -v k="search_hits_${n}char" '$1 == k { print $2 }' "$TMP/search.p")
	[ -n "$s" ] && [ -n "$p" ] || die "search_bench printed no p50 for $n characters"
	fig "pg.search.p50.${n}char $p µs ($(ratio "$p" "$s") x SQLite $s µs; $QUERIES queries, newest first, $h matches on average of $ARTICLES posts)"
done

# ---- two nodes on one database -------------------------------------------------------

stop_pid "$SPID"
start_node "$PGURL" "$TMP/kiji-pg2.log"
PPID2=$KPID
PBASE2=$KBASE
log "pg2: second PostgreSQL node pid $PPID2 on $PBASE2"
for base in "$PBASE" "$PBASE2" "$PBASE" "$PBASE2"; do
	curl -s -o /dev/null --max-time 10 "$base$PAGE" || die "no answer from $base$PAGE"
done
run_wrk "$TMP/warm" 2 -t1 -c32 -d2s "$PBASE2$PAGE"
one=()
two=()
twrites=0
tcpu=0
treq=0
for r in $(seq 1 "$ROUNDS"); do
	log "pg2: round $r/$ROUNDS one node"
	run_wrk "$TMP/one.$r" "$DUR" -t1 -c64 "-d${DUR}s" "$PBASE$PAGE"
	log "pg2: round $r/$ROUNDS two nodes"
	b=$(pg_sample)
	timeout $((DUR + 60)) wrk -t1 -c32 "-d${DUR}s" "$PBASE$PAGE" >"$TMP/two.a$r" 2>&1 &
	w1=$!
	timeout $((DUR + 60)) wrk -t1 -c32 "-d${DUR}s" "$PBASE2$PAGE" >"$TMP/two.b$r" 2>&1 &
	w2=$!
	wait "$w1" || { cat "$TMP/two.a$r" >&2; die "wrk (two nodes) failed"; }
	wait "$w2" || { cat "$TMP/two.b$r" >&2; die "wrk (two nodes) failed"; }
	d=$(pg_delta "$b" "$(pg_sample)")
	read -r c w _ <<<"$d"
	tcpu=$(awk -v a="$tcpu" -v b="$c" 'BEGIN { print a + b }')
	twrites=$((twrites + w))
	treq=$((treq + $(cat "$TMP/two.a$r" "$TMP/two.b$r" | awk '/requests in/ { n += $1 } END { print n }')))
	one+=("$(wrk_rps "$TMP/one.$r")")
	two+=("$(awk -v a="$(wrk_rps "$TMP/two.a$r")" -v b="$(wrk_rps "$TMP/two.b$r")" 'BEGIN { printf "%.2f", a + b }')")
done
onem=$(median "${one[@]}")
twom=$(median "${two[@]}")
fig "pg2.page.warm $(round "$twom") req/s ($(ratio "$twom" "$onem") x one node $(round "$onem") req/s; two wrk -t1 -c32, one a node, summed; medians of $ROUNDS in turns; two ${two[*]}; one ${one[*]}; $(nproc) cores for both nodes and both wrk; PostgreSQL meanwhile: $(awk -v c="$tcpu" -v n="$treq" 'BEGIN { printf "%.1f", c * 1e6 / n }') µs of CPU a request, $twrites transaction ids taken)"

log "pg2: posts at c64 over two nodes"
posts "$PGURL" pg2 "$PBASE" "$PBASE2"
fig "pg2.posts.c64 $(round "$RATE") posts/s ($(ratio "$RATE" "$POST_RATE") x one node $(round "$POST_RATE") posts/s; c32 on each node; $OK posts; $CHECK)"
db_line pg2.posts.db "$OK" "two nodes"

# The primary's share, for the scale estimate (bench/RESULTS.md):
# PostgreSQL's CPU over the one-node posting window, a render, a warm page.
fig "# pg.primary at $(round "$POST_RATE") posts/s PostgreSQL used $(awk -v c="$POST_CPU" -v w="$POST_WINDOW" 'BEGIN { printf "%.2f", c / w }') of a core; a cold render costs it $RENDER_PG_CPU_US µs of CPU, a warm page $WARM_PG_CPU_US µs"
fig "# pg: done $(date -u '+%Y-%m-%dT%H:%M:%SZ'); load average $(loadavg); $(nproc) cores; $(grep -m1 'model name' /proc/cpuinfo | sed 's/.*: //')"
[ "$FAILED" -eq 0 ] || die "a check failed (see the lines above)"
