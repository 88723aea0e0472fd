# Everything runs inside .venv, made on first use from pyproject.toml.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo run test check lint typecheck bench translations clean

$(STAMP): pyproject.toml package-lock.json
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	npm ci --no-audit --no-fund  # the web chat's fonts, into node_modules/
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/coach demo

run: $(STAMP)
	$(BIN)/coach run

test: $(STAMP)
	$(BIN)/python -m pytest -q

check: lint typecheck

lint: $(STAMP)
	$(BIN)/ruff check bot scheduler tests bench
	$(BIN)/ruff format --check bot scheduler tests bench

typecheck: $(STAMP)
	$(BIN)/mypy

bench: $(STAMP)
	$(BIN)/python -m bench

translations: $(STAMP)
	$(BIN)/pybabel extract -F babel.cfg -k N_ -k Np_:1,2 -o locales/messages.pot --no-location \
		--sort-output --add-comments Translators: --project Coach \
		--copyright-holder "Coach contributors" --msgid-bugs-address "" .
	$(BIN)/pybabel extract -F babel-curriculum.cfg -o locales/curriculum.pot --sort-by-file \
		--project "Coach curriculum" --copyright-holder "Coach contributors" --msgid-bugs-address "" .
	$(BIN)/pybabel update -D messages -i locales/messages.pot -d locales --previous
	$(BIN)/pybabel update -D curriculum -i locales/curriculum.pot -d locales --previous
	$(BIN)/pybabel compile -D messages -d locales --statistics
	$(BIN)/pybabel compile -D curriculum -d locales --statistics

clean:
	rm -rf $(VENV) var/*.db
