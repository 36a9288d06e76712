"""Benchmark harness for cpap_server (issue 7): legacy-design baseline, framework ceiling, load generators."""
