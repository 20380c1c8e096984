"""Challenges posed to a chosen circle, and the ideas that answer them."""
