#!/bin/bash
# Browser tests: Debian's Chromium (/usr/bin/chromium) driven by playwright-core,
# which downloads no browser. Each script builds its own demo site and server
# (KIJI_BIN, default build/asan/kiji). test_article.mjs opens an article at
# 390 px and 1280 px and checks that every part is visible and nothing logs an
# error (screenshots in build/screenshots/); test_comments.mjs posts, replies,
# likes without a reload and renders the XSS corpus; test_admin.mjs writes,
# previews and publishes an article with an image in the editor area and
# moderates a comment (screenshots in docs/admin-*.png); test_embeds.mjs checks
# that content.embeds=youtube turns imported YouTube embed links into
# youtube-nocookie iframes and nothing else (the network stubbed);
# test_live.mjs has a comment posted in one page appear in another open page
# within a second (server-sent events), replies nested, removals;
# test_mail.mjs subscribes to reply mails from the form and confirms. Last line,
# for the whole suite: "browser: N passed, N failed".
set -u
cd "$(dirname "$0")"

fail_early() {
	echo "FAIL $1"
	echo "browser: 0 passed, 1 failed"
	exit 1
}

command -v node >/dev/null 2>&1 || fail_early "node is not installed (scripts/deps.sh test)"
[ -x /usr/bin/chromium ] || fail_early "/usr/bin/chromium is missing (apt-get install chromium)"

export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1
if [ ! -d node_modules/playwright-core ]; then
	log=$(mktemp)
	if ! timeout -k 10 300 npm install --no-audit --no-fund >"$log" 2>&1; then
		cat "$log"
		rm -f "$log"
		fail_early "npm install (playwright-core) in tests/browser"
	fi
	rm -f "$log"
fi

# Each script prints its own "browser: N passed, N failed"; the last line of
# this script adds them up for the whole browser suite.
total_pass=0
total_fail=0
status=0
run_script() { # script, seconds
	local out rc line
	out=$(mktemp)
	timeout -k 10 "$2" node "$1" 2>&1 | tee "$out"
	rc=${PIPESTATUS[0]}
	line=$(grep -E '^browser: [0-9]+ passed, [0-9]+ failed$' "$out" | tail -n 1)
	rm -f "$out"
	if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
		echo "FAIL $1 killed after $2 s"
		total_fail=$((total_fail + 1))
		status=1
	elif [ -z "$line" ]; then
		echo "FAIL $1: no summary line (exit $rc)"
		total_fail=$((total_fail + 1))
		status=1
	else
		total_pass=$((total_pass + $(sed -E 's/^browser: ([0-9]+) passed.*/\1/' <<<"$line")))
		total_fail=$((total_fail + $(sed -E 's/.* ([0-9]+) failed$/\1/' <<<"$line")))
		[ "$rc" -ne 0 ] && status=1
	fi
}

run_script test_article.mjs 480
run_script test_comments.mjs 300
run_script test_admin.mjs 420
run_script test_embeds.mjs 180
run_script test_live.mjs 180
run_script test_mail.mjs 180
echo "browser: $total_pass passed, $total_fail failed"
[ "$status" -eq 0 ] && [ "$total_fail" -eq 0 ]
