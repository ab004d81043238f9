# Thin wrappers around dev.py, which needs only Python.
PYTHON ?= python3

.PHONY: demo test venv lint protos
demo:
	$(PYTHON) dev.py demo $(if $(DURATION),--duration $(DURATION))
test:
	$(PYTHON) dev.py test
venv:
	$(PYTHON) dev.py venv
lint: venv
	.venv/bin/ruff check .
	.venv/bin/ruff format --check .
protos: venv
	.venv/bin/python scripts/gen_protos.py
