"""Outgoing webhooks: an organisation's systems hear of events as signed JSON."""
