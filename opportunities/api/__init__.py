"""The opportunities app's REST API: opportunities and IQMs."""
