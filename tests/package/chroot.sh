#!/bin/bash
# `make deb-test` (issue 17, item 6): the package built by `make deb`
# installed with apt on a fresh Debian 12 made by debootstrap (minbase, a
# chroot under build/deb-test/), as an operator would: the system user and
# state directory appear, kiji.service is enabled and kiji.socket is not,
# `kiji init` as kiji makes a site, `kiji serve` runs as kiji (chroot
# --userspec, not systemd: there is no systemd running in a chroot) and a
# page is fetched from it, `kiji doctor` passes, and a purge keeps the
# site. Needs root and the Debian mirror; the base system is cached in
# build/debootstrap/ (the first run takes minutes, later ones less).
# Last line: "deb-test: N passed, N failed".
set -u
cd "$(dirname "$0")/../.."
top=$PWD
pass=0
fail=0
ok() { echo "ok $1"; pass=$((pass + 1)); }
bad() {
	echo "FAIL $1"
	shift
	printf '  %s\n' "$@"
	fail=$((fail + 1))
}
finish() {
	echo "deb-test: $pass passed, $fail failed"
	[ "$fail" -eq 0 ]
	exit
}

MIRROR=${KIJI_DEBIAN_MIRROR:-http://deb.debian.org/debian}
version=$(dpkg-parsechangelog -l debian/changelog -S Version)
deb=$top/build/deb/kiji_${version}_amd64.deb
cache=$top/build/debootstrap/bookworm-minbase.tar
root=$top/build/deb-test/root
pid=""

if [ "$(id -u)" -ne 0 ]; then bad "root" "debootstrap and chroot need root"; finish; fi
[ -f "$deb" ] || { bad "package" "no $deb (make deb)"; finish; }

cleanup() {
	[ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
	for m in proc dev/pts dev; do
		mountpoint -q "$root/$m" 2>/dev/null && umount -l "$root/$m"
	done
}
trap cleanup EXIT

# ---- the base system ---------------------------------------------------------------
if [ ! -f "$cache" ]; then
	mkdir -p "$(dirname "$cache")"
	rm -rf "$root" && mkdir -p "$root"
	echo "debootstrap bookworm (minbase) from $MIRROR ..."
	if debootstrap --variant=minbase bookworm "$root" "$MIRROR" \
		>"$top/build/debootstrap/log" 2>&1; then
		tar -C "$root" -cf "$cache" .
	else
		bad "debootstrap" "$(tail -n 20 "$top/build/debootstrap/log")"
		finish
	fi
fi
rm -rf "$root" && mkdir -p "$root" && tar -C "$root" -xf "$cache"
ok "fresh Debian 12 chroot"
mount -t proc proc "$root/proc"
mount --bind /dev "$root/dev"
cp /etc/resolv.conf "$root/etc/resolv.conf"
cp "$deb" "$root/tmp/"
inroot() { chroot "$root" "$@"; }

# ---- install -----------------------------------------------------------------------------
log=$top/build/deb-test/apt.log
if inroot env DEBIAN_FRONTEND=noninteractive sh -c \
	"apt-get update -qq && apt-get install -y -qq --no-install-recommends /tmp/$(basename "$deb")" \
	>"$log" 2>&1; then
	ok "apt-get install ./$(basename "$deb")"
else
	bad "apt-get install" "$(tail -n 30 "$log")"
	finish
fi
grep -q 'runuser -u kiji -- kiji init' "$log" && ok "postinst says how to create the site" ||
	bad "postinst says how to create the site" "$(tail -n 10 "$log")"

user=$(inroot getent passwd kiji)
case "$user" in
kiji:x:*:*:*:/var/lib/kiji:/usr/sbin/nologin) ok "system user kiji" ;;
*) bad "system user kiji" "getent: $user" ;;
esac
st=$(inroot stat -c '%U:%G %a' /var/lib/kiji)
[ "$st" = "kiji:kiji 750" ] && ok "state directory /var/lib/kiji" || bad "state directory" "$st"
if [ -L "$root/etc/systemd/system/multi-user.target.wants/kiji.service" ] &&
	[ ! -e "$root/etc/systemd/system/sockets.target.wants/kiji.socket" ]; then
	ok "kiji.service enabled, kiji.socket not"
else
	bad "unit enablement" "$(ls -l "$root"/etc/systemd/system/*.wants/ 2>&1)"
fi

# ---- a site, served -------------------------------------------------------------------
if inroot runuser -u kiji -- kiji init --db /var/lib/kiji/kiji.db >"$top/build/deb-test/init" 2>&1; then
	ok "kiji init as kiji"
else
	bad "kiji init as kiji" "$(cat "$top/build/deb-test/init")"
fi
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
chroot --userspec=kiji:kiji "$root" /usr/bin/kiji serve --db /var/lib/kiji/kiji.db \
	--listen "127.0.0.1:$port" >"$top/build/deb-test/serve" 2>&1 &
pid=$!
page=""
for _ in $(seq 1 100); do
	page=$(curl -fsS "http://127.0.0.1:$port/" 2>/dev/null) && break
	kill -0 "$pid" 2>/dev/null || break
	sleep 0.2
done
if printf '%s' "$page" | grep -qi '<html'; then
	ok "kiji serve (as kiji, in the chroot) answers GET /"
else
	bad "kiji serve answers GET /" "$(cat "$top/build/deb-test/serve")"
fi
out=$(inroot kiji doctor --db /var/lib/kiji/kiji.db --user kiji 2>&1)
if ! printf '%s\n' "$out" | grep -E '^FAIL (files|integrity|durability|time zone)'; then
	ok "kiji doctor: files, integrity, durability, time zone"
else
	bad "kiji doctor" "$out"
fi
kill -TERM "$pid"
wait "$pid"
rc=$?
pid=""
[ "$rc" -eq 0 ] && ok "SIGTERM: exit 0" || bad "SIGTERM" "exit $rc" "$(tail -n 5 "$top/build/deb-test/serve")"

# ---- purge keeps the site ---------------------------------------------------------------
inroot env DEBIAN_FRONTEND=noninteractive apt-get purge -y -qq kiji >"$top/build/deb-test/purge" 2>&1
if [ -f "$root/var/lib/kiji/kiji.db" ] && [ ! -e "$root/usr/bin/kiji" ] &&
	grep -q 'holds a site; kept' "$top/build/deb-test/purge"; then
	ok "purge removes kiji and keeps the site"
else
	bad "purge" "$(cat "$top/build/deb-test/purge")"
fi
cleanup
trap - EXIT
rm -rf "$top/build/deb-test/root"
finish
