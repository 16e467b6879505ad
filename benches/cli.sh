#!/usr/bin/env bash
# End-to-end figures through the real binary (issue 6): the simulated Retool
# serving a benchmark organization with 20 ms per response, then
# `snapshot` (first and unchanged second) and `report` in every format, each
# under /usr/bin/time for wall time, CPU time and peak RSS.
#
#   benches/cli.sh [m|l|xl]      (default l; builds the release binary first)
set -euo pipefail
size="${1:-l}"
cd "$(dirname "$0")/.."
cargo build --release --quiet
bin="$PWD/target/release/retool-audit"
work="$(mktemp -d)"
trap 'kill "${server:-0}" 2>/dev/null || true; rm -rf "$work"' EXIT
port=$((20000 + RANDOM % 20000))
"$bin" --quiet fake-server --size "$size" --port "$port" --latency-ms 20 &
server=$!
for _ in $(seq 100); do
  curl -fsS -o /dev/null "http://127.0.0.1:$port/api/checkHealth" 2>/dev/null && break
  sleep 0.1
done
export RETOOL_API_TOKEN=fake-token
measure() { # label, command...
  local label="$1"; shift
  /usr/bin/time -f "%e %U %S %M" -o "$work/time" "$@" >"$work/out" 2>"$work/err" || {
    cat "$work/err" >&2; exit 1; }
  read -r wall user sys kib <"$work/time"
  printf '%-3s %-34s wall %7.2f s  cpu %7.2f s  peak RSS %6d MiB\n' \
    "$size" "$label" "$wall" "$(echo "$user + $sys" | bc)" $((kib / 1024))
}
db="$work/history.db"
measure "snapshot (first)" "$bin" --quiet --db "$db" snapshot --base-url "http://127.0.0.1:$port"
measure "snapshot (unchanged)" "$bin" --quiet --db "$db" snapshot --base-url "http://127.0.0.1:$port"
printf '    history %s MiB\n' "$(du -m "$db" | cut -f1)"
measure "report (csv,xlsx,html,json)" "$bin" --quiet --db "$db" report --out "$work/report" --format csv,xlsx,html,json
du -sh "$work/report"/* | sed 's/^/    /'
