#!/usr/bin/env bash
# What can be checked of the container image without a Docker engine:
#  1. every file the Dockerfile copies or runs exists (and scripts are executable);
#  2. the binaries built by scripts/build-release (the build stage's step) start
#     and answer --help;
#  3. scripts/runtime-packages (the runtime stage's packages) is exactly the set
#     of Debian packages that own the libraries the binaries link (ldd).
# Usage: dockerfile_test.sh SOURCE_DIR DIST_DIR   (DIST_DIR/bin holds the binaries)
set -euo pipefail
src=${1:?source dir}
dist=${2:?dist dir}
fail() { echo "FAIL: $*" >&2; exit 1; }
dockerfile="$src/Dockerfile"
[ -f "$dockerfile" ] || fail "no Dockerfile"
[ -f "$src/.dockerignore" ] || fail "no .dockerignore"

# 1. Files referenced by COPY (from the build context) and RUN.
while read -r path; do
  [ -e "$src/$path" ] || fail "Dockerfile copies $path, which does not exist"
done < <(grep -E '^COPY ' "$dockerfile" | grep -v -- '--from=' | sed -E 's/^COPY +//' \
          | awk '{for (i = 1; i < NF; i++) print $i}' | grep -v '^\.$')
while read -r script; do
  [ -x "$src/$script" ] || fail "Dockerfile runs $script, which is missing or not executable"
done < <(grep -E '^RUN ' "$dockerfile" | grep -oE 'scripts/[a-z0-9_-]+' | sort -u)
for needed in 'EXPOSE 8080' 'STOPSIGNAL SIGTERM' 'HEALTHCHECK' 'USER hgrpcd' 'HGRPCD_LISTEN=0.0.0.0'; do
  grep -q "$needed" "$dockerfile" || fail "Dockerfile lacks $needed"
done
[ "$(grep -c '^FROM ' "$dockerfile")" -ge 2 ] || fail "Dockerfile is not multi-stage"

# 2. The binaries start.
for bin in hgrpcd hgrpc; do
  [ -x "$dist/bin/$bin" ] || fail "$dist/bin/$bin was not built by scripts/build-release"
  out=$("$dist/bin/$bin" --help) || fail "$bin --help exited non-zero"
  echo "$out" | grep -q -- '--help' || fail "$bin --help printed no usage"
done

# 3. Runtime packages == owners of the linked libraries.
linked=$(for bin in hgrpcd hgrpc; do ldd "$dist/bin/$bin"; done \
  | awk '/=> \//{print $3} /^\t\/.*ld-linux/{print $1}' | sort -u \
  | while read -r lib; do
      real=$(readlink -f "$lib")
      dpkg -S "$lib" 2>/dev/null || dpkg -S "$real" 2>/dev/null || dpkg -S "${lib/#\/lib\//\/usr\/lib\/}" 2>/dev/null \
        || fail "no Debian package owns $lib"
    done | cut -d: -f1 | sort -u)
listed=$(HGRPC_RUNTIME_PACKAGES_ONLY=1 "$src/scripts/install-runtime-deps" | sort -u)
if [ "$linked" != "$listed" ]; then
  echo "linked packages:"; echo "$linked"; echo "scripts/runtime-packages:"; echo "$listed"
  fail "scripts/runtime-packages does not match what the binaries link"
fi
echo "dockerfile_test: ok ($(echo "$listed" | wc -l) runtime packages)"
