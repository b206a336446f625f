"""Benchmarks and the fault drill of the attestation test (``make bench-exam``, ``make drill-exam``).

See bench/README.md. Nothing here is imported by the product unless ``BENCH_ENDPOINTS=1``."""
