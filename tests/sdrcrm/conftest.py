"""Fixtures the sdrcrm tests (configuration, jobs, notifications, security, the API's
contract) share. They need none beyond the project-wide ones in tests/conftest.py; a fixture
two sdrcrm modules need goes here."""
