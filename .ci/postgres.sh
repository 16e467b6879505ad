# Sourced by .ci/run (and usable by hand: `source .ci/postgres.sh`): starts a
# throwaway PostgreSQL cluster on a loopback port for the PostgreSQL backend's
# tests and exports its URL as RETOOL_AUDIT_TEST_POSTGRES (the password in
# RETOOL_AUDIT_TEST_POSTGRES_PASSWORD, never in the URL). The cluster runs as an
# unprivileged user (`nobody` when we are root: initdb refuses root), lives in
# a temporary directory and is stopped by `retool_audit_pg_stop` (the caller's
# EXIT trap). Installs Debian's postgresql when missing and we are root.

retool_audit_pg_start() {
  local bin
  bin="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)"
  if [ -z "$bin" ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "== installing postgresql for the PostgreSQL backend's tests"
    DEBIAN_FRONTEND=noninteractive timeout 300 apt-get -qq update >/dev/null 2>&1 \
      && DEBIAN_FRONTEND=noninteractive timeout 600 apt-get -qq install -y \
        --no-install-recommends postgresql >/dev/null 2>&1 \
      || echo "could not install postgresql" >&2
    bin="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)"
  fi
  if [ -z "$bin" ]; then
    echo "PostgreSQL is not installed (no /usr/lib/postgresql/*/bin); its tests will fail under CI" >&2
    return 1
  fi
  RETOOL_AUDIT_PG_DIR="$(mktemp -d /tmp/retool-audit-pg.XXXXXX)"
  local dir="$RETOOL_AUDIT_PG_DIR" port password run=()
  port=$((20000 + RANDOM % 20000))
  password="ci-$RANDOM$RANDOM$RANDOM"
  printf '%s\n' "$password" >"$dir/pwfile"
  if [ "$(id -u)" = 0 ]; then
    chown -R nobody "$dir"
    run=(runuser -u nobody --)
  fi
  if ! "${run[@]}" "$bin/initdb" -D "$dir/data" -U retool_audit --auth=scram-sha-256 \
      --pwfile="$dir/pwfile" -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1; then
    echo "initdb failed:" >&2
    cat "$dir/initdb.log" >&2
    return 1
  fi
  rm -f "$dir/pwfile"
  if ! "${run[@]}" "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
      -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c fsync=off" start >/dev/null; then
    echo "the PostgreSQL test server did not start:" >&2
    cat "$dir/server.log" >&2
    return 1
  fi
  RETOOL_AUDIT_PG_BIN="$bin"
  export RETOOL_AUDIT_TEST_POSTGRES="postgres://retool_audit@127.0.0.1:$port/postgres"
  export RETOOL_AUDIT_TEST_POSTGRES_PASSWORD="$password"
  echo "== PostgreSQL $("$bin/postgres" --version | awk '{print $3}') test server on 127.0.0.1:$port"
}

retool_audit_pg_stop() {
  if [ -n "${RETOOL_AUDIT_PG_DIR:-}" ] && [ -d "$RETOOL_AUDIT_PG_DIR/data" ]; then
    local run=()
    [ "$(id -u)" = 0 ] && run=(runuser -u nobody --)
    "${run[@]}" "$RETOOL_AUDIT_PG_BIN/pg_ctl" -D "$RETOOL_AUDIT_PG_DIR/data" -m immediate stop \
      >/dev/null 2>&1 || true
    rm -rf "$RETOOL_AUDIT_PG_DIR"
  fi
}
