"""Job categories (`general` is every job's default and always exists)."""
from __future__ import annotations

from src.models import Job, JobCategory
from src.models.job_category import DEFAULT_CATEGORY_SLUG
from src.services.catalog import Catalog

categories = Catalog(model=JobCategory, job_column=Job.category, label="category",
                     protected_slug=DEFAULT_CATEGORY_SLUG)
