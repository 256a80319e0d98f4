# Helpers shared by the benchmark scripts (bench/run.sh, breaking.sh,
# sse.sh), sourced after each defines log, die and its PIDS array: ratios
# and rounding for the figure lines, the load average printed with them,
# a free loopback port, stopping a started process by its pid, and
# reading wrk's output.

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b + 0 == 0) print "n/a"; else printf "%.2f", a / b }'; }

round() { awk -v v="$1" -v n="${2:-0}" 'BEGIN { printf "%.*f", n, v }'; }

loadavg() { cut -d' ' -f1-3 /proc/loadavg; }

sql() { sqlite3 -batch -noheader "$@"; }

free_port() {
	local p i
	for i in $(seq 1 200); do
		p=$((20000 + RANDOM % 40000))
		if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
			echo "$p"
			return 0
		fi
	done
	die "no free port found"
}

forget_pid() {
	local keep=() p
	for p in "${PIDS[@]}"; do [ "$p" = "$1" ] || keep+=("$p"); done
	PIDS=("${keep[@]}")
}

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

wrk_rps() { awk '/^Requests\/sec:/ { print $2 }' "$1"; }

wrk_p99() {
	awk '$1 == "99%" { v = $2
		if (v ~ /us$/) { sub(/us$/, "", v); v = v / 1000 }
		else if (v ~ /ms$/) { sub(/ms$/, "", v) }
		else if (v ~ /s$/) { sub(/s$/, "", v); v = v * 1000 }
		print v }' "$1"
}

wrk_errors() { grep -E 'Socket errors|Non-2xx' "$1" | tr -s ' ' | paste -sd';' - || true; }
