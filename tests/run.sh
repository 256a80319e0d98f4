#!/bin/bash
# Runs every suite: unit (ASan+UBSan), the store's unit tests again on
# PostgreSQL (a throwaway cluster, tests/pg/cluster.sh), integration (real
# server over HTTP), integration again with every site in a PostgreSQL
# database (the release build), the Debian package, browser (Chromium via
# playwright-core). Each suite's last line is "<suite>: N passed, N
# failed"; this script adds them up and prints the total as its own last
# line (", N skipped" too when a suite could not run here).
set -u
cd "$(dirname "$0")/.."
pass=0
fail=0
skip=0
failed_suites=()

tally() { # name, output file, exit code
	local line p f
	line=$(grep -E '[0-9]+ passed, [0-9]+ failed' "$2" | tail -n 1)
	if [ -z "$line" ]; then
		echo "!! $1: no summary line (exit $3)"
		fail=$((fail + 1))
		failed_suites+=("$1")
		return
	fi
	p=$(sed -E 's/.*[^0-9]([0-9]+) passed.*/\1/; s/^([0-9]+) passed.*/\1/' <<<"$line")
	f=$(sed -E 's/.* ([0-9]+) failed.*/\1/' <<<"$line")
	pass=$((pass + p))
	fail=$((fail + f))
	if [ "$f" -ne 0 ] || [ "$3" -ne 0 ]; then
		[ "$f" -eq 0 ] && fail=$((fail + 1))
		failed_suites+=("$1")
	fi
}

out=$(mktemp -d)
pgdir=""
cleanup() {
	[ -n "$pgdir" ] && tests/pg/cluster.sh stop "$pgdir"
	rm -rf "$out"
}
trap cleanup EXIT
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

echo "== unit tests (ASan+UBSan)"
for t in build/asan/tests/test_*; do
	[ -x "$t" ] || continue
	n=$(basename "$t")
	(cd tests/unit && "../../$t") >"$out/$n" 2>&1
	rc=$?
	grep -E '^(FAIL|  got|  want)|ERROR|runtime error' "$out/$n" | head -40
	tally "$n" "$out/$n" $rc
	tail -n 1 "$out/$n"
done

if [ -z "${KIJI_SKIP_PG:-}" ]; then
	echo "== store unit tests on PostgreSQL (ASan+UBSan)"
	pgdir=$(mktemp -d /tmp/kiji-pg-XXXXXX)
	if base=$(tests/pg/cluster.sh start "$pgdir" 2>"$out/pgstart"); then
		for src in $(grep -l '#include "t_db.h"' tests/unit/test_*.c); do
			n=$(basename "$src" .c)
			t=build/asan/tests/$n
			[ -x "$t" ] || continue
			(cd tests/unit && KIJI_TEST_PG=$base "../../$t") >"$out/pg-$n" 2>&1
			rc=$?
			grep -E '^(FAIL|  got|  want)|ERROR|runtime error' "$out/pg-$n" | head -40
			tally "pg $n" "$out/pg-$n" $rc
			echo "pg: $(tail -n 1 "$out/pg-$n")"
		done
	else
		echo "PostgreSQL pass skipped: $(head -n 1 "$out/pgstart")"
		skip=$((skip + 1))
	fi
fi

if [ -z "${KIJI_SKIP_FUZZ:-}" ]; then
	echo "== fuzz smoke (every libFuzzer target, a few thousand inputs each)"
	make --no-print-directory -j2 fuzz >"$out/fuzzbuild" 2>&1 &&
		make --no-print-directory fuzz FUZZ_RUNS=3000 >"$out/fuzz" 2>&1
	rc=$?
	[ -f "$out/fuzz" ] || cp "$out/fuzzbuild" "$out/fuzz"
	grep -E 'FAILED|error' -B5 "$out/fuzz" | head -40
	ok=$(grep -c ': ok' "$out/fuzz")
	bad=$(grep -c 'FAILED' "$out/fuzz")
	[ "$rc" -ne 0 ] && [ "$bad" -eq 0 ] && bad=1
	echo "fuzz: $ok passed, $bad failed" >>"$out/fuzz"
	tally fuzz "$out/fuzz" $rc
	tail -n 1 "$out/fuzz"
fi

if [ -z "${KIJI_SKIP_INTEGRATION:-}" ]; then
	echo "== integration tests (real server, ASan build)"
	KIJI_BIN=build/asan/kiji /usr/bin/python3 tests/integration/run.py >"$out/integration" 2>&1
	rc=$?
	grep -E '^(FAIL|ERROR)|Traceback|runtime error|AddressSanitizer' -A8 "$out/integration" | head -80
	tally integration "$out/integration" $rc
	tail -n 1 "$out/integration"
fi

if [ -z "${KIJI_SKIP_INTEGRATION:-}" ] && [ -z "${KIJI_SKIP_PG:-}" ]; then
	echo "== integration tests on PostgreSQL (real server, release build)"
	if [ -z "$pgdir" ]; then
		pgdir=$(mktemp -d /tmp/kiji-pg-XXXXXX)
		base=$(tests/pg/cluster.sh start "$pgdir" 2>"$out/pgstart") || base=""
	fi
	if [ -n "${base:-}" ] && make --no-print-directory -j2 kiji >"$out/relbuild" 2>&1; then
		t0=$(date +%s)
		KIJI_TEST_PG=$base KIJI_BIN=build/rel/kiji /usr/bin/python3 \
			tests/integration/run.py >"$out/integration-pg" 2>&1
		rc=$?
		grep -E '^(FAIL|ERROR)|Traceback' -A8 "$out/integration-pg" | head -80
		tally integration-pg "$out/integration-pg" $rc
		echo "$(tail -n 1 "$out/integration-pg") in $(($(date +%s) - t0)) s"
	elif [ -z "${base:-}" ]; then
		echo "integration-pg skipped: $(head -n 1 "$out/pgstart")"
		skip=$((skip + 1))
	else
		tail -n 20 "$out/relbuild"
		echo "integration-pg: 0 passed, 1 failed (make kiji)" >"$out/integration-pg"
		tally integration-pg "$out/integration-pg" 1
	fi
fi

if [ -z "${KIJI_SKIP_PACKAGE:-}" ]; then
	echo "== Debian package (make deb, dpkg-deb, lintian)"
	tests/package/run.sh >"$out/package" 2>&1
	rc=$?
	grep -E '^FAIL' -A8 "$out/package" | head -40
	tally package "$out/package" $rc
	tail -n 1 "$out/package"
fi

if [ -z "${KIJI_SKIP_BROWSER:-}" ]; then
	echo "== browser tests (Chromium, playwright-core)"
	tests/browser/run.sh >"$out/browser" 2>&1
	rc=$?
	grep -E '^(FAIL|ERROR)' -A8 "$out/browser" | head -60
	tally browser "$out/browser" $rc
	tail -n 1 "$out/browser"
fi

[ ${#failed_suites[@]} -gt 0 ] && echo "failed suites: ${failed_suites[*]}"
if [ "$skip" -gt 0 ]; then
	echo "$pass passed, $fail failed, $skip skipped"
else
	echo "$pass passed, $fail failed"
fi
[ "$fail" -eq 0 ]
