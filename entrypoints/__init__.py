"""Lambda handlers and the command line: parse events, call use cases, map errors. Wiring lives in
``entrypoints.container``."""
