"""Operator tools that run against AWS or the embedded AWS through standard configuration."""
