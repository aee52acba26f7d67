"""Reusable helpers with no business rules of their own."""
