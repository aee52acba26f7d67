"""WSGI entry point for gunicorn and `flask --app src.wsgi`."""
from src.app import create_app

app = create_app()
