#!/usr/bin/env bash
# Set up and run the test suite: `./run_tests.sh` on SQLite; `./run_tests.sh --all-databases` also on MariaDB
# and PostgreSQL (each in a freshly created database). Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")"

if [ ! -x .venv/bin/python ]; then
    python3 -m venv .venv
fi
.venv/bin/pip install --quiet --disable-pip-version-check -r requirements-dev.txt

databases=("sqlite")
if [ "${1:-}" = "--all-databases" ]; then
    shift
    databases=("sqlite" "mariadb" "postgresql")
fi

declare -A urls=(
    [sqlite]=""
    [mariadb]="${TEST_MARIADB_URL:-mysql://root@127.0.0.1:3306/mysql?charset=utf8mb4}"
    [postgresql]="${TEST_POSTGRES_URL:-postgresql://postgres@127.0.0.1:5432/postgres}"
)

status=0
# The MariaDB two-process test spends three minutes waiting for real minute boundaries with little CPU: on a full run
# it goes beside the other passes (its own fresh database) and the MariaDB pass leaves it out.
two_processes="test/test_scheduler/test_two_scheduler_processes.py"
background=""
extra=()
if [ ${#databases[@]} -gt 1 ] && [ $# -eq 0 ]; then
    log="$(mktemp)"
    TEST_DATABASE_URL="${urls[mariadb]}" .venv/bin/python -m pytest "$two_processes" >"$log" 2>&1 &
    background=$!
    extra=(--deselect "$two_processes")
fi

for name in "${databases[@]}"; do
    echo "=== pytest on ${name} ==="
    args=("$@")
    if [ "$name" = "mariadb" ]; then
        args+=("${extra[@]}")
    fi
    if ! TEST_DATABASE_URL="${urls[$name]}" .venv/bin/python -m pytest "${args[@]}"; then
        echo "=== FAILED on ${name} ==="
        status=1
    fi
done

if [ -n "$background" ]; then
    echo "=== pytest on mariadb: ${two_processes} (run beside the passes above) ==="
    if ! wait "$background"; then
        status=1
        echo "=== FAILED on mariadb: ${two_processes} ==="
    fi
    cat "$log"
    rm -f "$log"
fi
exit $status
