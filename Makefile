# Both targets bootstrap .venv (CPython 3.10 + pinned paddle/paddlelite) when it is missing.
VENV := .venv
PY := $(VENV)/bin/python

.PHONY: setup demo test bench clean

setup:
	@bash scripts/setup.sh

demo: setup
	@$(PY) -m lite_tools.demo --out build/demo

test: setup
	@bash scripts/fetch_test_deps.sh
	@$(PY) -m pytest -n 2 -q

bench: setup
	@$(PY) scripts/bench_opt.py
	@$(PY) scripts/bench_parity.py
	@$(PY) scripts/measure_resize.py
	@$(PY) scripts/bench_java_preprocess.py
	@$(PY) scripts/bench_picodet_post.py
	@$(PY) scripts/bench_search.py
	@$(PY) scripts/bench_deploy.py
	@$(PY) scripts/bench_memory.py

clean:
	rm -rf build .pytest_cache
