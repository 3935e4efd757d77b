"""The opportunities app's pages: opportunities and IQMs; opportunities/urls.py lists every route."""
