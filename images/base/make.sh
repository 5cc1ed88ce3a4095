#!/usr/bin/env bash
# Make the kit's base image from Debian packages, with no registry: debootstrap a minimal
# bookworm into a folder and `docker import` it. The host's extra CA certificates
# (/usr/local/share/ca-certificates, e.g. a corporate TLS-intercepting proxy's) are trusted inside,
# so apt and pip work in builds behind such a proxy.
#   make.sh TAG LABEL...
set -euo pipefail
tag=$1; shift
mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
if ! command -v debootstrap >/dev/null; then
  apt-get -q update >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get -q install -y debootstrap >/dev/null
fi
root=$(mktemp -d /var/tmp/compose-lab-base.XXXXXX)
trap 'rm -rf "$root"' EXIT
# mktemp makes the folder 0700, and it becomes the image's /: non-root users (postgres, nginx)
# could then not even load libc.
chmod 0755 "$root"
debootstrap --variant=minbase --include=ca-certificates bookworm "$root" "$mirror" >/dev/null
if compgen -G "/usr/local/share/ca-certificates/*.crt" >/dev/null; then
  cp /usr/local/share/ca-certificates/*.crt "$root/usr/local/share/ca-certificates/"
fi
chroot "$root" update-ca-certificates >/dev/null 2>&1
# Keep the image small and apt quiet, like the official slim images.
rm -rf "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/*.bin "$root"/usr/share/doc/* "$root"/usr/share/man/*
printf 'APT::Install-Recommends "false";\nAPT::Install-Suggests "false";\n' >"$root/etc/apt/apt.conf.d/90compose-lab"
printf '[global]\ncert = /etc/ssl/certs/ca-certificates.crt\n' >"$root/etc/pip.conf"
args=()
for l in "$@"; do args+=(-c "LABEL $l"); done
tar -C "$root" -c . | docker import \
  -c 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8' \
  -c 'CMD ["bash"]' "${args[@]}" - "$tag" >/dev/null
