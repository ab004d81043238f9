# Thin wrappers around dev.py, which needs only Python.
PYTHON ?= python3

.PHONY: demo test venv lint types protos
demo:
	$(PYTHON) dev.py demo $(if $(DURATION),--duration $(DURATION))
test:
	$(PYTHON) dev.py test
venv:
	$(PYTHON) dev.py venv
lint: venv
	.venv/bin/ruff check .
	.venv/bin/ruff format --check .
types: venv
	.venv/bin/mypy
protos: venv
	.venv/bin/python scripts/gen_protos.py
