#!/bin/sh
# A throwaway PostgreSQL cluster for the tests.
#   cluster.sh start DIR   makes one in DIR (which must not exist or be
#                          empty), listening on 127.0.0.1 only on a free
#                          port, its socket inside DIR; prints the base URL
#                          postgresql://postgres@127.0.0.1:PORT/postgres
#   cluster.sh stop DIR    stops it (fast) and removes DIR
# Run as root, the server runs as the postgres user (initdb refuses root);
# otherwise as the caller. fsync stays on, synchronous_commit on: what the
# tests see is what production gets. Exits non-zero with one line saying
# why when PostgreSQL is not installed or does not start.
set -eu

die() {
	echo "cluster.sh: $*" >&2
	exit 1
}

# The server's binaries: PG_BIN, else the newest Debian install, else PATH.
find_bin() {
	if [ -n "${PG_BIN:-}" ] && [ -x "$PG_BIN/initdb" ]; then
		echo "$PG_BIN"
		return
	fi
	for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -t/ -k4 -n -r); do
		if [ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ]; then
			echo "$d"
			return
		fi
	done
	if command -v initdb >/dev/null 2>&1 && command -v pg_ctl >/dev/null 2>&1; then
		dirname "$(command -v initdb)"
		return
	fi
	return 1
}

# A loopback port nothing listens on (the kernel picks it).
free_port() {
	/usr/bin/python3 -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])'
}

# Runs a command as the cluster's owner.
as_owner() {
	if [ "$(id -u)" -eq 0 ]; then
		runuser -u postgres -- "$@"
	else
		"$@"
	fi
}

[ $# -eq 2 ] || die "usage: cluster.sh start|stop DIR"
cmd=$1
dir=$2
nobin="PostgreSQL is not installed (no initdb/pg_ctl; apt-get install postgresql)"

case "$cmd" in
start)
	bin=$(find_bin) || die "$nobin"
	if [ "$(id -u)" -eq 0 ] && ! id postgres >/dev/null 2>&1; then
		die "running as root and there is no postgres user to run the server"
	fi
	mkdir -p "$dir"
	dir=$(cd "$dir" && pwd)
	[ -z "$(ls -A "$dir")" ] || die "$dir is not empty"
	[ "$(id -u)" -eq 0 ] && chown postgres "$dir"
	chmod 0700 "$dir"
	as_owner "$bin/initdb" -D "$dir/data" -A trust -U postgres -E UTF8 \
		--locale=C.UTF-8 >"$dir/initdb.log" 2>&1 ||
		die "initdb failed: $(tail -n 1 "$dir/initdb.log")"
	# a port can be taken between choosing and binding: try a few
	for try in 1 2 3 4 5; do
		port=$(free_port)
		if as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w \
			-t 30 -o "-c listen_addresses=127.0.0.1 -c port=$port \
			-c unix_socket_directories=$dir -c synchronous_commit=on \
			-c fsync=on -c max_connections=1000" start >/dev/null 2>&1; then
			echo "$port" >"$dir/port"
			echo "postgresql://postgres@127.0.0.1:$port/postgres"
			exit 0
		fi
	done
	die "the server did not start: $(tail -n 1 "$dir/server.log" 2>/dev/null)"
	;;
stop)
	[ -d "$dir" ] || exit 0
	if [ -f "$dir/data/postmaster.pid" ]; then
		bin=$(find_bin) || die "$nobin"
		as_owner "$bin/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null 2>&1 ||
			echo "cluster.sh: pg_ctl stop failed for $dir/data" >&2
	fi
	rm -rf "$dir"
	;;
*)
	die "usage: cluster.sh start|stop DIR"
	;;
esac
