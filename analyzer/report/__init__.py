"""Renderers: pure functions from results to text, JSON-ready data or PNG files."""
