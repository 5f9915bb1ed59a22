"""Marquee's benchmarks (bench/): hot path, search over 1M movies and cold start, run by `make bench`."""
