"""The leads app's REST API, one module per topic (leads, contacts, accounts, activities,
sequences, conversion, merge, queues); sdrcrm/urls.py registers the viewsets."""
