#!/bin/sh
# Install the Debian packages kiji needs.
# Usage: scripts/deps.sh [build|test|bench|deb|deb-test]
# Prints what it installs; installs nothing when everything is present.
set -eu
want="build-essential pkg-config libsqlite3-dev libmd4c-dev
libutf8proc-dev libsodium-dev zlib1g-dev libdeflate-dev libxxhash-dev libjansson-dev libxml2-dev libcurl4-openssl-dev libyaml-dev
libicu-dev libsystemd-dev libpq-dev tzdata"
case "${1:-build}" in
test) want="$want postgresql clang libclang-rt-14-dev libxml2-utils python3-feedparser python3-psycopg2
  chromium fonts-ipafont-gothic sqlite3 ca-certificates nginx-light caddy openssl
  libsystemd-dev debhelper dpkg-dev fakeroot lintian"
  # The machine image may ship Node.js from elsewhere with npm inside; Debian's
  # npm would conflict with it, so ask for Debian's only when there is none.
  command -v npm >/dev/null 2>&1 || want="$want nodejs npm" ;;
bench) want="$want wrk nginx-light sqlite3 libxml2-utils time postgresql" ;;
deb) want="$want libsystemd-dev debhelper dpkg-dev fakeroot lintian" ;;
deb-test) want="$want debootstrap curl" ;;
esac
missing=""
for p in $want; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
		missing="$missing $p"
	fi
done
[ -z "$missing" ] && exit 0
echo "deps.sh: installing:$missing"
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO=sudo
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing
