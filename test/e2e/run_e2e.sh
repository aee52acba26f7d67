#!/usr/bin/env bash
# CI's end-to-end stage against a real production server: ./start_server.sh with FLASK_ENV=production (gunicorn,
# 2 workers), a temporary SQLite database, generated secrets and an admin made by create_admin.py; then
#   1. the /api/docs browser check (headless Debian Chromium, Playwright),
#   2. Postman_Collection.json with newman (every endpoint, status and shape),
#   3. schemathesis over every operation of /api/openapi.json with an admin token (no 5xx; status codes, content
#      types and bodies as documented).
# Reports go to test-artifacts/. The server and the webhook receiver are always stopped.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT="$PWD"
PY="$ROOT/.venv/bin/python"
ARTIFACTS="$ROOT/test-artifacts"
mkdir -p "$ARTIFACTS"
work="$(mktemp -d /tmp/cron-e2e.XXXXXX)"
server_pid=""
receiver_pid=""

stop() {
    [ -n "$server_pid" ] && kill -TERM "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null || true
    [ -n "$receiver_pid" ] && kill "$receiver_pid" 2>/dev/null && wait "$receiver_pid" 2>/dev/null || true
    cp "$work/server.log" "$ARTIFACTS/e2e-server.log" 2>/dev/null || true
    rm -rf "$work"
}
trap stop EXIT

free_port() { "$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
secret() { "$PY" -c 'import secrets; print(secrets.token_urlsafe(48))'; }

"$PY" test/e2e/receiver.py "$work/receiver.port" &
receiver_pid=$!
for _ in $(seq 1 50); do [ -s "$work/receiver.port" ] && break; sleep 0.1; done
receiver_url="http://127.0.0.1:$(cat "$work/receiver.port")/hook"

port="$(free_port)"
base="http://127.0.0.1:$port"
admin_password="$(secret)"
metrics_token="$(secret)"
export FLASK_ENV=production HOST=127.0.0.1 PORT="$port" DATABASE_URL="sqlite:///$work/e2e.db"
export SECRET_KEY="$(secret)" JWT_SECRET_KEY="$(secret)" METRICS_TOKEN="$metrics_token"
export MAIL_ENABLED=false WEBHOOK_ALLOW_PRIVATE_TARGETS=true GUNICORN_WORKERS=2
export PROMETHEUS_MULTIPROC_DIR="$work/prometheus"

echo "=== e2e: production server on $base ==="
"$PY" -m src migrate >"$work/migrate.log" 2>&1 || { cat "$work/migrate.log"; exit 1; }
printf '%s\n' "$admin_password" | "$PY" create_admin.py --username admin --email admin@example.com --password-stdin
./start_server.sh >"$work/server.log" 2>&1 &
server_pid=$!
for _ in $(seq 1 120); do
    curl -fsS "$base/api/health" >/dev/null 2>&1 && break
    kill -0 "$server_pid" 2>/dev/null || { cat "$work/server.log"; echo "server exited"; exit 1; }
    sleep 0.5
done
curl -fsS "$base/api/health"; echo

passed=0
failed=0
stage() {
    local name="$1"; shift
    echo "=== e2e: $name ==="
    if "$@"; then passed=$((passed + 1)); else echo "=== e2e: $name FAILED ==="; failed=$((failed + 1)); fi
}

browser() {
    printf '%s\n' "$admin_password" | "$PY" test/e2e/browser_docs.py "$base" admin
}

postman() {
    npm ci --prefix test/e2e --no-audit --no-fund --loglevel=error >/dev/null || return 1
    test/e2e/node_modules/.bin/newman run Postman_Collection.json \
        --env-var "baseUrl=$base" --env-var "adminUsername=admin" --env-var "adminPassword=$admin_password" \
        --env-var "metricsToken=$metrics_token" --env-var "webhookUrl=$receiver_url" \
        --reporters cli,junit --reporter-junit-export "$ARTIFACTS/newman.xml" --color off
}

schemathesis() {
    local token
    token="$(curl -fsS -X POST "$base/api/auth/login" -H 'Content-Type: application/json' \
        -d "{\"username\": \"admin\", \"password\": \"$admin_password\"}" | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')" || return 1
    "$PY" test/e2e/schemathesis_data.py "$base" "$token" "$receiver_url" "$work/schemathesis.toml" || return 1
    # Logging out would revoke the token the whole run uses; everything else is exercised. Run from the temporary
    # folder: schemathesis reads schemathesis.toml (the pinned ids) and keeps its example database there.
    (cd "$work" && timeout 600 "$ROOT/.venv/bin/st" run "$base/api/openapi.json" \
        --header "Authorization: Bearer $token" \
        --checks not_a_server_error,response_schema_conformance,status_code_conformance,content_type_conformance \
        --exclude-path /api/auth/logout \
        --max-examples 50 --seed 20261126 --request-timeout 20 --workers 2 \
        --report junit --report-junit-path "$ARTIFACTS/schemathesis.xml")
}

stage "browser check of /api/docs" browser
stage "Postman collection with newman" postman
stage "schemathesis" schemathesis

echo "=== e2e: graceful stop ==="
kill -TERM "$server_pid"
if wait "$server_pid"; then passed=$((passed + 1)); else echo "server did not stop cleanly"; failed=$((failed + 1)); fi
server_pid=""
echo "e2e: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
