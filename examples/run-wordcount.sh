#!/usr/bin/env bash
# Runs WordCount on the embedded default cluster and prints the result.
#   bash examples/run-wordcount.sh [INPUT-FILE]      (default input: the README)
# Installs what a fresh machine lacks (nats-server from Debian, the npm dependencies), starts
# `eddy cluster` on a free port, runs examples/wordcount.ts at parallelism 2, prints the most
# frequent words and stops the cluster.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
export PATH="$PATH:/usr/local/sbin:/usr/sbin:/sbin"
input="$(realpath "${1:-README.md}")"

if ! command -v nats-server >/dev/null 2>&1; then
  echo "installing nats-server (apt-get)" >&2
  if [ "$(id -u)" -eq 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nats-server
  else sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nats-server; fi
fi
[ -f dist/src/cli/main.js ] || npm ci --no-audit --no-fund >&2

work="$(mktemp -d)"
log="$work/cluster.log"
node bin/eddy.js cluster --port 0 --task-executors 2 --slots 2 >"$work/ready" 2>"$log" &
cluster=$!
trap 'kill -TERM $cluster 2>/dev/null; wait $cluster 2>/dev/null; rm -rf "$work"' EXIT
for _ in $(seq 1 600); do
  grep -q "^eddy cluster ready" "$work/ready" 2>/dev/null && break
  kill -0 $cluster 2>/dev/null || { cat "$log" >&2; exit 1; }
  sleep 0.1
done
url="$(sed -n 's/^eddy cluster ready nats=//p' "$work/ready")"
[ -n "$url" ] || { echo "the cluster did not become ready" >&2; cat "$log" >&2; exit 1; }
echo "eddy cluster ready nats=$url"

EDDY_NATS_URL="$url" node bin/eddy.js run examples/wordcount.ts --parallelism 2 -- --input "$input" --output "$work/out"
echo "top words of $input:"
# awk reads all of its input (head would exit early and fail the pipe with SIGPIPE under pipefail).
sort -k2,2nr -k1,1 "$work/out"/part-* | awk 'NR <= 15'
