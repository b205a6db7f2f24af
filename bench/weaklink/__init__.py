"""Weak links (issue 6): a hall behind a shaped link; see run.py."""
