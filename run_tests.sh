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
for name in "${databases[@]}"; do
    echo "=== pytest on ${name} ==="
    if ! TEST_DATABASE_URL="${urls[$name]}" .venv/bin/python -m pytest "$@"; then
        echo "=== FAILED on ${name} ==="
        status=1
    fi
done
exit $status
