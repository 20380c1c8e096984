"""Warm introductions: an organisation asks a partner of a partner to introduce it; the
request is private to the three organisations."""
