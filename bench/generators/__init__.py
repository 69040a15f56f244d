"""Synthetic data for the benchmarks and load tests, kept out of the
application: nothing under tashil/ imports these modules.

- bench.generators.demands: province-scale demands with their referrals,
  follow-ups, feedback and timeline rows, on top of `seed_demo`.
- bench.generators.registry_files: a household registry as CSV/XLSX files in
  the import layout.

The benchmarks call them themselves when their data is missing; by hand, from
the project root:

    .venv/bin/python -m bench.generators demands --demands 20000 --seed 1
    .venv/bin/python -m bench.generators registry_files --rows 20000 --out var/bench/
"""
