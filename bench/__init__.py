"""Benchmark harness for cpap_server (`make bench`, docs/performance.md): ratios, not absolutes."""
