"""The leads app's pages, one module per topic; leads/urls.py lists every route."""
