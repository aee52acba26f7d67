#!/usr/bin/env bash
# Set up and start the service: creates .venv, installs requirements, applies migrations, serves the API.
# Development (default): Flask's server on HOST:PORT (127.0.0.1:5001) with SQLite in instance/cron_jobs.db.
# FLASK_ENV=production: gunicorn with gunicorn.conf.py (set SECRET_KEY first).
set -euo pipefail
cd "$(dirname "$0")"

if [ ! -x .venv/bin/python ]; then
    python3 -m venv .venv
fi
.venv/bin/pip install --quiet --disable-pip-version-check -r requirements.txt

if [ "${FLASK_ENV:-development}" = "production" ]; then
    .venv/bin/python -m src migrate
    exec .venv/bin/gunicorn --config src/gunicorn.conf.py "src.wsgi:app"
fi
exec .venv/bin/python -m src serve
