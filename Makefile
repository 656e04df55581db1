# Two entry points: `make run` (the sample drop) and `make test`.
# Both create .venv/ on first use from the pinned requirements.lock.
PYTHON ?= python3.11
VENV := .venv
STAMP := $(VENV)/.installed
AS_OF ?=
OUT ?= out

.PHONY: run test setup sample clean

setup: $(STAMP)

$(STAMP): pyproject.toml requirements.lock
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	$(VENV)/bin/pip install --quiet -c requirements.lock -e '.[test]'
	touch $(STAMP)

run: $(STAMP)
	$(VENV)/bin/hecha run --drop data/sample/drop --out $(OUT)

test: $(STAMP)
	$(VENV)/bin/python -m pytest -q

sample: $(STAMP)
	$(VENV)/bin/python -m data.sample.generate --out data/sample

clean:
	rm -rf $(VENV) $(OUT)
