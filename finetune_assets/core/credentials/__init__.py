"""Credentials found by their context: a value in a credential position, in any syntax text carries."""
