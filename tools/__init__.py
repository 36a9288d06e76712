"""Operator tools that are not part of the server: the stress and fault run."""
