"""Offline analysis: read session directories / raw CSV files, run the core, write strides.csv
and summary.json (atomically). I/O lives here, never in runform.core."""
