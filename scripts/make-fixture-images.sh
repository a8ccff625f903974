#!/usr/bin/env bash
# Builds the tiny Docker base image the test fixtures run in:
#   triton-build-fixture/base:24.05
# a busybox-static root filesystem plus the fixture toolchain shims from
# test/fixtures/image (git, cmake, python3, bash, apt-get, ldconfig, ldd) and
# glibc's loader/libc copied from this host (so ldd works on test-built ELF files), and this
# host's docker client (linked against libc only): as in the real buildbase image, which installs
# docker.io, backends such as onnxruntime run `docker build` through the mounted socket.
#
# Idempotent: the image carries a label with a hash of every input; when an image
# with that tag and the same hash exists, nothing is done. --force rebuilds anyway.
#
# Needs: docker, busybox-static (/usr/bin/busybox or /bin/busybox), tar, sha256sum.
set -euo pipefail

IMAGE=${TRITON_BUILD_FIXTURE_IMAGE:-triton-build-fixture/base:24.05}
LABEL_KEY=org.triton-build.fixture.hash
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
SHIMS=$ROOT/test/fixtures/image
FORCE=0

for arg in "$@"; do
  case $arg in
    --force) FORCE=1 ;;
    -h | --help)
      sed -n '2,14p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
      exit 0
      ;;
    *)
      echo "error: unknown argument: $arg" >&2
      exit 2
      ;;
  esac
done

die() {
  echo "error: $*" >&2
  exit 1
}

command -v docker >/dev/null || die "docker is not installed"
BUSYBOX=""
for b in /usr/bin/busybox /bin/busybox; do
  if [[ -x $b ]] && "$b" --list >/dev/null 2>&1; then
    BUSYBOX=$b
    break
  fi
done
[[ -n $BUSYBOX ]] || die "busybox not found; install it with: apt-get install -y busybox-static"
if ldd "$BUSYBOX" >/dev/null 2>&1 && ! ldd "$BUSYBOX" 2>&1 | grep -q 'not a dynamic'; then
  die "$BUSYBOX is dynamically linked; install busybox-static"
fi

ARCH=$(uname -m)
[[ $ARCH == x86_64 ]] || die "only x86_64 hosts are supported (got $ARCH)"
LOADER_LINK=/lib64/ld-linux-x86-64.so.2
LIBDIR=/lib/x86_64-linux-gnu
[[ -e $LOADER_LINK ]] || die "$LOADER_LINK not found"
DOCKER_CLIENT=$(readlink -f "$(command -v docker)")
if ldd "$DOCKER_CLIENT" 2>/dev/null | grep -v -E 'linux-vdso|ld-linux|libc\.so\.6' | grep -q '=>'; then
  die "$DOCKER_CLIENT needs libraries besides libc; the fixture image has only libc"
fi
LIBS=("$LIBDIR/libc.so.6")
for opt in libm.so.6 libgcc_s.so.1; do
  [[ -e $LIBDIR/$opt ]] && LIBS+=("$LIBDIR/$opt")
done

# Every input that ends up in the image, hashed in a fixed order.
input_files() {
  echo "${BASH_SOURCE[0]}"
  find "$SHIMS" -type f | LC_ALL=C sort
  echo "$BUSYBOX"
  echo "$DOCKER_CLIENT"
  readlink -f "$LOADER_LINK"
  for l in "${LIBS[@]}"; do readlink -f "$l"; done
}
HASH=$(
  while IFS= read -r f; do
    printf '%s %s\n' "$(sha256sum <"$f" | cut -d' ' -f1)" "${f#"$ROOT"/}"
  done < <(input_files) | sha256sum | cut -d' ' -f1
)

existing=$(docker image inspect -f "{{ index .Config.Labels \"$LABEL_KEY\" }}" "$IMAGE" 2>/dev/null || true)
old_id=""
if [[ -n $existing && $existing != "<no value>" ]]; then
  old_id=$(docker image inspect -f '{{.Id}}' "$IMAGE")
fi
if [[ $FORCE == 0 ]]; then
  if [[ $existing == "$HASH" ]]; then
    echo "$IMAGE is up to date (inputs $HASH)" >&2
    docker image inspect -f '{{.Id}}' "$IMAGE"
    exit 0
  fi
fi

WORK=$(mktemp -d "${TMPDIR:-/tmp}/triton-build-fixture-rootfs.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
RF=$WORK/rootfs

mkdir -p "$RF"/{bin,sbin,usr/bin,usr/sbin,usr/local/bin,usr/local/share/triton-build-fixture} \
  "$RF"/{etc/ld.so.conf.d,root,home/triton-server,tmp,var/tmp,lib64,proc,sys,dev} "$RF$LIBDIR"
chmod 1777 "$RF/tmp" "$RF/var/tmp"
chmod 700 "$RF/root"

# busybox and one symlink per applet
install -m 755 "$BUSYBOX" "$RF/bin/busybox"
while IFS= read -r applet; do
  [[ -n $applet && $applet != busybox ]] || continue
  ln -sf busybox "$RF/bin/$applet"
done < <("$BUSYBOX" --list)
ln -sf /bin/busybox "$RF/usr/bin/env"

# fixture toolchain shims
for shim in bash git cmake python3 apt-get ldconfig; do
  install -m 755 "$SHIMS/$shim" "$RF/usr/local/bin/$shim"
done
install -m 644 "$SHIMS/fixture-lib.sh" "$RF/usr/local/share/triton-build-fixture/fixture-lib.sh"
ln -sf /usr/local/bin/bash "$RF/bin/bash"
ln -sf /usr/local/bin/bash "$RF/usr/bin/bash"
install -m 755 "$SHIMS/ldd" "$RF/usr/bin/ldd"
install -m 755 "$DOCKER_CLIENT" "$RF/usr/bin/docker"

# glibc loader and libraries at their usual (non-merged-/usr) paths
if [[ -L $LOADER_LINK && $(readlink "$LOADER_LINK") == /* ]]; then
  loader_target=$(readlink "$LOADER_LINK")
  mkdir -p "$RF$(dirname "$loader_target")"
  install -m 755 "$LOADER_LINK" "$RF$loader_target"
  ln -sf "$loader_target" "$RF$LOADER_LINK"
else
  install -m 755 "$LOADER_LINK" "$RF$LOADER_LINK"
fi
for l in "${LIBS[@]}"; do
  install -m 755 "$l" "$RF$l"
done

cat >"$RF/etc/passwd" <<'EOF'
root:x:0:0:root:/root:/bin/sh
triton-server:x:1000:1000::/home/triton-server:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/bin/false
EOF
cat >"$RF/etc/group" <<'EOF'
root:x:0:
triton-server:x:1000:
nogroup:x:65534:
EOF
cat >"$RF/etc/os-release" <<'EOF'
NAME="triton-build fixture"
ID=triton-build-fixture
PRETTY_NAME="triton-build fixture base (busybox)"
VERSION_CODENAME=fixture
EOF
echo "/usr/local/lib" >"$RF/etc/ld.so.conf.d/00-fixture.conf"

TAR_OWNER=(--numeric-owner)
if [[ $(id -u) == 0 ]]; then
  chown 1000:1000 "$RF/home/triton-server"
else
  TAR_OWNER+=(--owner=0 --group=0)
fi

tar "${TAR_OWNER[@]}" -C "$RF" -cf "$WORK/rootfs.tar" .
echo "importing $IMAGE ($(du -sh "$RF" | cut -f1) rootfs, inputs $HASH)" >&2
docker import \
  --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  --change 'CMD ["/bin/sh"]' \
  --change "LABEL $LABEL_KEY=$HASH" \
  --message "triton-build fixture base image" \
  "$WORK/rootfs.tar" "$IMAGE" >/dev/null
new_id=$(docker image inspect -f '{{.Id}}' "$IMAGE")
# drop the image this one replaces (made by this script); kept if a container still uses it
if [[ -n $old_id && $old_id != "$new_id" ]]; then
  docker rmi "$old_id" >/dev/null 2>&1 || true
fi
echo "$new_id"
