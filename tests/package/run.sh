#!/bin/bash
# The Debian package (issue 17, item 6), in `make test`: `make deb` builds
# it with dpkg-buildpackage, then it is inspected with dpkg-deb (files,
# control fields, maintainer scripts, the binary's own version) and
# lintian, which must report no error (warnings are listed). Installing it
# on a fresh Debian 12 is tests/package/chroot.sh (`make deb-test`).
# Last line: "package: N passed, N failed".
set -u
cd "$(dirname "$0")/../.."
pass=0
fail=0
ok() { echo "ok $1"; pass=$((pass + 1)); }
bad() {
	echo "FAIL $1"
	shift
	printf '  %s\n' "$@"
	fail=$((fail + 1))
}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

if make --no-print-directory deb >"$tmp/build" 2>&1; then
	ok "make deb"
else
	bad "make deb" "$(tail -n 40 "$tmp/build")"
	echo "package: $pass passed, $fail failed"
	exit 1
fi
version=$(dpkg-parsechangelog -l debian/changelog -S Version)
deb=build/deb/kiji_${version}_amd64.deb
if [ -f "$deb" ]; then ok "built $deb"; else bad "built $deb" "$(ls build/deb)"; fi

# files
dpkg-deb -c "$deb" | awk '{print $1, $6}' >"$tmp/files"
missing=""
for f in "-rwxr-xr-x ./usr/bin/kiji" \
	"-rw-r--r-- ./lib/systemd/system/kiji.service" \
	"-rw-r--r-- ./lib/systemd/system/kiji.socket" \
	"-rw-r--r-- ./usr/share/man/man1/kiji.1.gz" \
	"-rw-r--r-- ./usr/share/doc/kiji/copyright" \
	"-rw-r--r-- ./usr/share/doc/kiji/examples/nginx.conf" \
	"-rw-r--r-- ./usr/share/doc/kiji/examples/Caddyfile" \
	"-rw-r--r-- ./usr/share/doc/kiji/examples/kiji-socket.conf" \
	"-rw-r--r-- ./usr/lib/sysctl.d/50-kiji.conf"; do
	grep -qxF -- "$f" "$tmp/files" || missing="$missing
$f"
done
if [ -z "$missing" ]; then ok "files and modes"; else bad "files and modes" "missing:$missing" "$(cat "$tmp/files")"; fi

# the binary is the package's version and its unit runs it
dpkg-deb -x "$deb" "$tmp/root"
got=$("$tmp/root/usr/bin/kiji" --version 2>&1)
if [ "$got" = "kiji $version" ]; then ok "kiji --version is $version"; else bad "kiji --version" "got: $got, package: $version"; fi
if grep -qx 'ExecStart=/usr/bin/kiji serve --db /var/lib/kiji/kiji.db --listen 127.0.0.1:8080' \
	"$tmp/root/lib/systemd/system/kiji.service"; then
	ok "unit runs /usr/bin/kiji"
else
	bad "unit runs /usr/bin/kiji" "$(grep ExecStart "$tmp/root/lib/systemd/system/kiji.service")"
fi
if zcat "$tmp/root/usr/share/man/man1/kiji.1.gz" | grep -q 'kiji doctor'; then ok "man page names kiji doctor"; else bad "man page names kiji doctor"; fi

# control: the libraries resolved by dh_shlibdeps, adduser for postinst
dpkg-deb -f "$deb" Depends >"$tmp/depends"
missing=""
for p in libsqlite3-0 libsodium23 libicu72 libcurl4 libxml2 libmd4c0 adduser tzdata; do
	grep -q "\b$p\b" "$tmp/depends" || missing="$missing $p"
done
if [ -z "$missing" ]; then ok "Depends"; else bad "Depends" "missing:$missing" "$(cat "$tmp/depends")"; fi

# maintainer scripts: user and state directory; the service enabled, the
# socket not
dpkg-deb -e "$deb" "$tmp/ctl"
post="$tmp/ctl/postinst"
problems=""
grep -q 'adduser --system --group --home /var/lib/kiji' "$post" || problems="$problems; no adduser --system"
grep -q 'install -d -o kiji -g kiji -m 0750 /var/lib/kiji' "$post" || problems="$problems; no state directory"
grep -q "deb-systemd-helper enable 'kiji.service'" "$post" || problems="$problems; kiji.service not enabled"
# --no-enable: the socket is enabled again only where its admin enabled it
grep -q "deb-systemd-helper debian-installed 'kiji.socket'" "$post" ||
	problems="$problems; kiji.socket enabled on install"
grep -q 'purge' "$tmp/ctl/postrm" || problems="$problems; postrm has no purge"
sh -n "$post" && sh -n "$tmp/ctl/postrm" || problems="$problems; shell syntax"
if [ -z "$problems" ]; then ok "maintainer scripts"; else bad "maintainer scripts" "$problems"; fi

# lintian: no errors; warnings listed (not failures)
if ! command -v lintian >/dev/null; then
	bad "lintian" "lintian is not installed (scripts/deps.sh deb)"
else
	changes=build/deb/kiji_${version}_amd64.changes
	lintian --no-tag-display-limit "$changes" >"$tmp/lintian" 2>&1
	grep -E '^W: ' "$tmp/lintian" | sed 's/^/  /'
	if grep -qE '^E: ' "$tmp/lintian"; then
		bad "lintian: no errors" "$(grep -E '^E: ' "$tmp/lintian")"
	else
		ok "lintian: no errors ($(grep -cE '^W: ' "$tmp/lintian") warnings)"
	fi
fi
echo "package: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
