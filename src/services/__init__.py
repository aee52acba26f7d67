"""Business logic: routes call these, these talk to models and the scheduler."""
