"""The SQLAlchemy instance and every model, imported here so metadata (and Alembic) sees all tables."""
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import MetaData

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

db = SQLAlchemy(metadata=MetaData(naming_convention=NAMING_CONVENTION))

from src.models.user import User  # noqa: E402
from src.models.job_category import JobCategory  # noqa: E402
from src.models.pic_team import PicTeam  # noqa: E402
from src.models.job import Job  # noqa: E402
from src.models.job_execution import JobExecution  # noqa: E402
from src.models.notification import Notification  # noqa: E402
from src.models.notification_preferences import UserNotificationPreferences  # noqa: E402
from src.models.ui_preferences import UserUiPreferences  # noqa: E402
from src.models.slack_settings import SlackSettings  # noqa: E402
from src.models.revoked_token import RevokedToken  # noqa: E402
from src.models.scheduler_lease import SchedulerLease, apscheduler_jobs  # noqa: E402
from src.models.notification_delivery import NotificationDelivery  # noqa: E402

__all__ = [
    "db",
    "User",
    "JobCategory",
    "PicTeam",
    "Job",
    "JobExecution",
    "Notification",
    "UserNotificationPreferences",
    "UserUiPreferences",
    "SlackSettings",
    "RevokedToken",
    "SchedulerLease",
    "apscheduler_jobs",
    "NotificationDelivery",
]
