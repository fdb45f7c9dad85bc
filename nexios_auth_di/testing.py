"""Test helpers; filled in by the core."""
