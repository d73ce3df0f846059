"""Gongkai's web application and command line: the only layer that sees engine and letters together."""
