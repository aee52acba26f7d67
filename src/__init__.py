"""Cron Job Scheduler: a self-hosted service that fires GitHub workflow_dispatch and webhooks on cron schedules."""

__version__ = "1.0.0"
