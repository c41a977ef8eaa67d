"""Deterministic synthetic data: a demo district or a Wuhan-sized city (manage.py generate_city)."""
