# SPDX-License-Identifier: GPL-3.0-or-later
# `make bench`: the performance figures and targets of issue 6 (bench/README.md), against the local
# ARM emulator. Not part of `make test`: it takes several minutes and measures, it does not assert.
# BENCH_ARGS passes options to bench/bench.py, e.g. `make bench BENCH_ARGS="--bulk 50 --rounds 5"`.
BENCH_ARGS ?=

.PHONY: bench
bench: venv collection
	$(BIN)/python bench/bench.py $(BENCH_ARGS)
