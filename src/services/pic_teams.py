"""PIC (person in charge) teams: who answers for a job, with the Slack handle alerts mention."""
from __future__ import annotations

from src.models import Job, PicTeam
from src.services.catalog import Catalog

pic_teams = Catalog(model=PicTeam, job_column=Job.pic_team, label="PIC team")
