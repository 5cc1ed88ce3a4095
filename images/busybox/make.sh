#!/usr/bin/env bash
# Look-alike of busybox: Debian's static busybox and its applet links, imported as an image
# (about 2 MB; no base needed). labcheck also uses it as its probe helper.
#   make.sh TAG LABEL...
set -euo pipefail
tag=$1; shift
work=$(mktemp -d /var/tmp/compose-lab-busybox.XXXXXX)
trap 'rm -rf "$work"' EXIT
(cd "$work" && apt-get -q -o APT::Sandbox::User=root download busybox-static >/dev/null)
dpkg-deb -x "$work"/busybox-static_*.deb "$work/deb"
root="$work/root"
mkdir -p "$root"/{bin,etc,tmp,root,var/www}
cp "$work/deb/bin/busybox" "$root/bin/busybox"
for applet in $("$root/bin/busybox" --list); do
  [ "$applet" = busybox ] || ln -s busybox "$root/bin/$applet"
done
printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/home:/bin/false\n' >"$root/etc/passwd"
printf 'root:x:0:\nnobody:x:65534:\n' >"$root/etc/group"
chmod 1777 "$root/tmp"
args=()
for l in "$@"; do args+=(-c "LABEL $l"); done
tar -C "$root" -c . | docker import -c 'CMD ["sh"]' -c 'ENV PATH=/bin' "${args[@]}" - "$tag" >/dev/null
