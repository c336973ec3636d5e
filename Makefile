# Two commands matter: `make run` and `make test`. Both work on a machine with only
# Python 3.11 and make; everything else is installed into .venv on first use.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
FAKE_PORT ?= 8765
# Only `make run` talks to the bundled fake provider and receives its webhooks.
RUN_ENV := DEBUG=true PORT=$(PORT) FAKE_PORT=$(FAKE_PORT) \
	STUDIO_FAKE_PROVIDER_URL=http://127.0.0.1:$(FAKE_PORT) \
	STUDIO_OUTBOUND_ALLOW=127.0.0.1:$(FAKE_PORT) \
	STUDIO_PUBLIC_URL=http://127.0.0.1:$(PORT)

.PHONY: run test install lint format bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $@

install: $(VENV)/.installed

# Install, migrate, seed a demo workspace, then start web + worker + beat + the fake
# provider on the embedded defaults (SQLite, filesystem broker, local media).
run: install
	$(RUN_ENV) $(BIN)/python manage.py migrate --no-input
	$(RUN_ENV) $(BIN)/python manage.py collectstatic --no-input -v 0
	$(RUN_ENV) $(BIN)/python manage.py seed_demo
	@echo ""
	@echo "  Studio is starting on http://127.0.0.1:$(PORT)"
	@echo "  Log in as demo@studio.local / demo-password (or create your own account)."
	@echo "  Stop with Ctrl+C."
	@echo ""
	$(RUN_ENV) PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/honcho -f Procfile.dev start

# Unit, service, integration (real worker) and browser tests on the embedded defaults.
test: install
	$(BIN)/ruff check .
	$(BIN)/python manage.py makemigrations --check --dry-run -v 0
	$(BIN)/pytest $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

bench: install
	$(BIN)/python bench/preview_render.py
	$(BIN)/python bench/gallery_queries.py

clean:
	rm -rf $(VENV) staticfiles .pytest_cache .ruff_cache
