"""Benchmarks: the project's training and attack paths against a template-style reference, side by side."""
