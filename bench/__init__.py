"""Benchmarks: each module runs alone (`python -m bench.NAME`) and all run with `make bench`."""
