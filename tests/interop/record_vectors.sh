#!/bin/sh
# Re-records tests/interop/vectors/ from a reference Mercurial 5.8.1 (pure
# Python) that you provide: HG581=/path/to/5.8.1/hg (its `hg` script). Nothing
# of 5.8.1 is in this repository; CI never runs this script.
#
# It builds the fixture repository with Debian's hg (zlib revlogs, which pure
# 5.8.1 can read; no file removals, see the notes' section 7.1), serves it with
# 5.8.1's HTTP v2 server on 127.0.0.1 behind recording_proxy.py, and runs
# 5.8.1's own client for each scenario. Each scenario's exchanges (request and
# response bodies) land in vectors/<scenario>/, its client debug log in
# OUT/<scenario>.log.
#
# Usage: HG581=... record_vectors.sh OUT_DIR   (then copy OUT_DIR/vectors/*)
set -eu
: "${HG581:?set HG581 to Mercurial 5.8.1s hg script}"
out=$(realpath -m "$1")
here=$(dirname "$(realpath "$0")")
port=${PORT:-21581}
proxy_port=$((port + 1))
export HGRCPATH= HGPLAIN=1 HGUSER=test HGMODULEPOLICY=py TZ=UTC
rm -rf "$out" && mkdir -p "$out/vectors"
cd "$out"

sh "$here/make_fixture.sh" src

ref() { python3 "$HG581" --config experimental.httppeer.advertise-v2=true --debug \
  --config devel.debug.peer-request=true "$@"; }

python3 "$HG581" -R src serve -a 127.0.0.1 -p "$port" -d --pid-file serve.pid -E serve.err \
  --config experimental.web.apiserver=true --config experimental.web.api.http-v2=true \
  --config phases.publish=false
trap 'kill $(cat proxy.pid) $(cat serve.pid) 2>/dev/null || true' EXIT

# scenario NAME CMD...: runs one client command behind a fresh proxy.
scenario() {
  name=$1; shift
  /usr/bin/python3 "$here/recording_proxy.py" "$proxy_port" "$port" "vectors/$name" > proxy.out &
  echo $! > proxy.pid
  while ! grep -q ready proxy.out 2>/dev/null; do sleep 0.1; done
  "$@" > "$name.log" 2>&1
  kill "$(cat proxy.pid)"; wait "$(cat proxy.pid)" 2>/dev/null || true
}
url=http://127.0.0.1:$proxy_port/
scenario clone ref clone -U "$url" ref-clone
scenario clone-r ref clone -U -r 1 "$url" ref-partial
scenario pull-r ref pull -R ref-partial -r 3 "$url"
scenario pull ref pull -R ref-partial "$url"
scenario clone-identity ref clone -U --config experimental.httppeer.v2-encoder-order=identity "$url" ref-identity

# Batches of 2 and a second discovery round: a server advertising
# recommendedbatchsize 2, a client with a local changeset the server lacks.
kill "$(cat serve.pid)"
python3 "$HG581" -R src serve -a 127.0.0.1 -p "$port" -d --pid-file serve.pid -E serve.err \
  --config experimental.web.apiserver=true --config experimental.web.api.http-v2=true \
  --config phases.publish=false \
  --config experimental.server.manifestdata.recommended-batch-size=2 \
  --config experimental.server.filesdata.recommended-batch-size=2
sh "$here/make_fixture.sh" --diverged src ref-diverged
scenario pull-diverged-batch2 ref pull -R ref-diverged "$url"
echo "recorded into $out/vectors"
