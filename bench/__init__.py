"""On-demand benchmarks (not part of `make test`). See docs/performance.md."""
