"""Fixtures the scoring tests share. They need none beyond the project-wide ones in
tests/conftest.py (users, `api`, `seeded`); a fixture two scoring modules need goes here."""
