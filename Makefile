# The two commands of the README. Everything else is `.venv/bin/aq --help`.
PYTHON ?= python3.11
VENV := .venv
STAMP := $(VENV)/.installed

.PHONY: demo test setup clean

demo: $(STAMP)        ## run the sample college through every service and print a summary
	$(VENV)/bin/aq demo

test: $(STAMP)        ## the whole test suite (what .ci/run runs): two processes, each test file kept whole in one
	$(VENV)/bin/python -m pytest -q -p no:cacheprovider -n 2 --dist loadfile

setup: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install -q --upgrade "pip>=23" "setuptools<82" wheel
	$(VENV)/bin/pip install -q -e ".[test]"
	touch $(STAMP)

clean:
	rm -rf var .pytest_cache
