#!/bin/bash
# Browser tests: Debian's Chromium (/usr/bin/chromium) driven by playwright-core,
# which downloads no browser. Builds its own demo site and server (KIJI_BIN,
# default build/asan/kiji), opens an article at 390 px and 1280 px and checks
# that every part is visible and nothing logs an error. Screenshots go to
# build/screenshots/. Last line: "browser: N passed, N failed".
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

timeout -k 10 480 node test_article.mjs
rc=$?
if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
	fail_early "test_article.mjs killed after 480 s"
fi
exit "$rc"
