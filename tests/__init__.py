"""A package only so that ``tests.support`` imports by name, from tests and from bench/ (the
repository root on sys.path); nothing here is installed."""
