"""`cjm bench` and `cjm bench eval`: every benchmark in one place (the steps' costs, the
sources, the enrichment, the spike detector, and the evaluation on real data)."""
