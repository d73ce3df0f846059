"""Gongkai's domain: the workflow, the statutory clocks, decisions and exemptions, and persistence.

Nothing here imports Flask or the letters package (an import-linter contract enforces it).
"""
