"""Rendering the semester report (services/assessment/domain/report.py gives the figures) as HTML and PDF."""
