# Helpers shared by the benchmark scripts (bench/run.sh, breaking.sh,
# sse.sh, large.sh, pg.sh), sourced after each defines log, die and its
# PIDS array (and TMP, for top_up): ratios, medians and rounding for the
# figure lines, the load average printed with them, queries on a SQLite
# file or a PostgreSQL URL, a free loopback port, waiting for a server's
# first 200, stopping a started process by its pid, running and reading
# wrk, and comments posted through the real form.

# Ratio a/b with 2 decimals ("n/a" when b is 0 or empty).
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b + 0 == 0) print "n/a"; else printf "%.2f", a / b }'; }

# Rounds to n decimals.
round() { awk -v v="$1" -v n="${2:-0}" 'BEGIN { printf "%.*f", n, v }'; }

# The 1, 5 and 15 minute load averages.
loadavg() { cut -d' ' -f1-3 /proc/loadavg; }

# sql DB QUERY: rows of QUERY, one a line, columns split by "|"; DB is a
# SQLite file, or a postgresql:// URL (psql; an error stops the query).
sql() {
	case $1 in
	postgresql://* | postgres://*)
		psql -X -q -A -t -v ON_ERROR_STOP=1 -d "$1" -c "$2" ;;
	*) sqlite3 -batch -noheader "$@" ;;
	esac
}

# Median of the arguments (numbers).
median() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

# A TCP port on 127.0.0.1 that nothing listens on, below the kernel's
# range for the local ports of outgoing connections (32768 and up here):
# a port taken there by one of the benchmark's own client connections
# (to PostgreSQL, from wrk) cannot be listened on (seen: "Address already
# in use" for the pg figures).
free_port() {
	local p i lo
	lo=$(awk '{ print $1 }' /proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || echo 32768)
	[ "$lo" -gt 11000 ] 2>/dev/null || lo=32768
	for i in $(seq 1 200); do
		p=$((10000 + RANDOM % (lo - 10000)))
		if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
			echo "$p"
			return 0
		fi
	done
	die "no free port found"
}

# Polls url until it answers 200 (timeout in seconds).
wait_200() {
	local url=$1 limit=$(($(date +%s) + ${2:-15})) code
	while :; do
		code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "$url" || true)
		[ "$code" = 200 ] && return 0
		[ "$(date +%s)" -ge "$limit" ] && return 1
		sleep 0.005
	done
}

# Drops a pid from PIDS (it was stopped or waited for).
# stop_all: every pid in PIDS asked to stop (TERM), then waited for up to
# 5 s each and killed if still there; for the scripts' exit traps.
stop_all() {
	local pid i
	for pid in "${PIDS[@]}"; do
		kill -TERM "$pid" 2>/dev/null || true
	done
	for pid in "${PIDS[@]}"; do
		for i in $(seq 1 50); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		if kill -0 "$pid" 2>/dev/null; then
			log "pid $pid did not stop on TERM; killing it"
			kill -KILL "$pid" 2>/dev/null || true
		fi
		wait "$pid" 2>/dev/null || true
	done
}

forget_pid() {
	local keep=() p
	for p in "${PIDS[@]}"; do [ "$p" = "$1" ] || keep+=("$p"); done
	PIDS=("${keep[@]}")
}

# Stops a started process by its pid: TERM, up to 5 s, then KILL.
stop_pid() {
	local pid=$1 i
	kill -TERM "$pid" 2>/dev/null || true
	for i in $(seq 1 100); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.05
	done
	if kill -0 "$pid" 2>/dev/null; then
		log "pid $pid did not stop on TERM; killing it"
		kill -KILL "$pid" 2>/dev/null || true
	fi
	wait "$pid" 2>/dev/null || true
	forget_pid "$pid"
}

# Requests per second from wrk's output.
wrk_rps() { awk '/^Requests\/sec:/ { print $2 }' "$1"; }

# 99th percentile latency in ms from wrk --latency (or the one named in $2).
wrk_p99() {
	awk -v q="${2:-99%}" '$1 == q { v = $2
		if (v ~ /us$/) { sub(/us$/, "", v); v = v / 1000 }
		else if (v ~ /ms$/) { sub(/ms$/, "", v) }
		else if (v ~ /s$/) { sub(/s$/, "", v); v = v * 1000 }
		print v }' "$1"
}

# 50th percentile latency in ms from wrk --latency.
wrk_p50() { wrk_p99 "$1" 50%; }

# The page cache's counters from the server's /metrics ($1, else $KBASE):
# "hits misses stale_hits refreshes" (stale copies count as hits,
# refreshes as misses).
cache_counts() {
	curl -s --max-time 10 "${1:-$KBASE}/metrics" | awk '
		$1 == "kiji_cache_hits_total" { h = $2 } $1 == "kiji_cache_misses_total" { m = $2 }
		$1 == "kiji_cache_stale_hits_total" { s = $2 } $1 == "kiji_cache_refreshes_total" { r = $2 }
		END { printf "%d %d %d %d\n", h, m, s, r }'
}

# CPU seconds (user + system, every thread) process $1 has used so far.
proc_cpu() {
	awk -v hz="$(getconf CLK_TCK)" '{ sub(/^.*\) /, ""); printf "%.2f\n", ($12 + $13) / hz }' "/proc/$1/stat"
}

# Socket errors and non-2xx/3xx counts, as a note (empty when clean).
wrk_errors() { grep -E 'Socket errors|Non-2xx' "$1" | tr -s ' ' | paste -sd';' - || true; }

# wrk with a hard time bound; output into $1.
run_wrk() {
	local out=$1 d=$2
	shift 2
	if ! timeout $((d + 60)) wrk "$@" >"$out" 2>&1; then
		cat "$out" >&2
		die "wrk $* failed"
	fi
	grep -q '^Requests/sec:' "$out" || { cat "$out" >&2; die "wrk printed no rate"; }
}

# The comment form token of an article: from the page's input[name=token],
# else from the JSON API (which hands out the same token).
get_token() {
	local base=$1 id=$2 tok
	tok=$(curl -sf --max-time 10 "$base/articles/$id" |
		grep -o 'name="token" value="[^"]*"' | head -n1 | sed 's/.*value="//; s/"$//' || true)
	if [ -z "$tok" ]; then
		tok=$(curl -sf --max-time 10 "$base/api/articles/$id/comments" |
			grep -o '"token": *"[^"]*"' | head -n1 | sed 's/.*"token": *"//; s/"$//' || true)
	fi
	[ -n "$tok" ] || die "no form token for article $id"
	printf '%s' "$tok"
}

# approved_count DB ID: the article's approved comments.
approved_count() {
	sql "$1" "SELECT count(*) FROM comments WHERE article_id = $2 AND type = 'comment' AND status = 'approved';"
}

# top_up DB BASE ID TARGET: posts comments through the real form (one curl
# process, keep-alive) until the article has exactly TARGET approved
# comments; every fourth post replies to an existing approved comment.
top_up() {
	local db=$1 base=$2 id=$3 target=$4 have need tok cfg i parents np parent
	have=$(approved_count "$db" "$id")
	need=$((target - have))
	[ "$need" -ge 0 ] || die "article $id already has $have > $target comments"
	[ "$need" -eq 0 ] && return 0
	tok=$(get_token "$base" "$id")
	mapfile -t parents < <(sql "$db" "SELECT id FROM comments WHERE article_id = $id AND type = 'comment' AND status = 'approved' ORDER BY id;")
	np=${#parents[@]}
	cfg=$TMP/topup-$id.cfg
	: >"$cfg"
	for i in $(seq 1 "$need"); do
		parent=""
		if [ "$np" -gt 0 ] && [ $((i % 4)) -eq 0 ]; then
			parent=${parents[$(((i * 7) % np))]}
		fi
		[ "$i" -gt 1 ] && echo next >>"$cfg"
		printf '%s\n' \
			"url = \"$base/articles/$id/comments\"" \
			"data-urlencode = \"nickname=読者$i\"" \
			"data-urlencode = \"body=コメント$i: 記事の内容について一言。予算と配備時期がどうなるか気になります。\\n\\n続報を待ちます。参考 https://example.com/ref/$i\"" \
			"data = \"token=$tok\"" \
			"data = \"parent=$parent\"" \
			"write-out = \"%{http_code}\\n\"" \
			"output = \"/dev/null\"" \
			"max-time = 30" >>"$cfg"
	done
	local codes
	codes=$(timeout 600 curl -s -K "$cfg" | sort | uniq -c | awk '{ printf "%s×%s ", $2, $1 }') ||
		die "posting comments to article $id failed or timed out"
	have=$(approved_count "$db" "$id")
	[ "$have" -eq "$target" ] ||
		die "article $id: wanted $target approved comments, have $have (answers: $codes)"
	log "article $id: posted $need comments through the form ($codes), now $have"
}
