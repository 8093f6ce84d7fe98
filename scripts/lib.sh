# Shared set-up steps for scripts/*; sourced, not run.

ensure_venv() {
  if [ ! -x .venv/bin/python ]; then
    python3 -m venv .venv
  fi
  # Reinstall only when the project's declared dependencies changed.
  local stamp=.venv/.jobglass-installed
  if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
    .venv/bin/python -m pip install --quiet --upgrade pip
    .venv/bin/python -m pip install --quiet -e '.[dev]'
    touch "$stamp"
  fi
}

# PostgreSQL must be up for the tests; start the local Debian cluster when it is down.
ensure_postgres() {
  local host=${JOBGLASS_TEST_PG_HOST:-127.0.0.1}
  if ! command -v pg_isready >/dev/null 2>&1; then
    echo "pg_isready not found: PostgreSQL tests will fail in CI and skip elsewhere" >&2
    return 0
  fi
  if pg_isready -q -h "$host" -p 5432; then
    return 0
  fi
  if command -v pg_lsclusters >/dev/null 2>&1; then
    local version
    version=$(pg_lsclusters --no-header | awk 'NR==1 {print $1}')
    if [ -n "$version" ]; then
      echo "starting PostgreSQL $version" >&2
      pg_ctlcluster --skip-systemctl-redirect "$version" main start || true
    fi
  fi
  for _ in $(seq 1 30); do
    pg_isready -q -h "$host" -p 5432 && return 0
    sleep 1
  done
  echo "PostgreSQL is not reachable at $host:5432" >&2
}

# Tools some tests drive, from Debian's packages: the dashboard's browser tests use
# Debian's Chromium (Playwright's own browser download does not work here); the
# shipped Prometheus rules are checked with promtool (package prometheus, which only
# installs it: nothing is started). Install what is missing: as root, or under CI
# (where a failed install fails the run); otherwise say so, and those tests skip loudly.
ensure_debian_command() {
  local command=$1 package=$2 purpose=$3
  if command -v "$command" >/dev/null 2>&1; then
    return 0
  fi
  local ci=${CI:-}
  if [ "$(id -u)" -ne 0 ]; then
    if [ "$ci" = "true" ]; then
      echo "$command is missing and CI=true, but installing it needs root" >&2
      return 1
    fi
    return 0
  fi
  echo "installing $package for $purpose" >&2
  if ! { apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$package"; } >&2
  then
    if [ "$ci" = "true" ]; then
      echo "could not install $package (CI=true): failing" >&2
      return 1
    fi
    echo "could not install $package: its tests will skip" >&2
  fi
  return 0
}

ensure_chromium() {
  ensure_debian_command chromium chromium "the dashboard's browser tests"
}

ensure_promtool() {
  ensure_debian_command promtool prometheus "the Prometheus rules' tests"
}
