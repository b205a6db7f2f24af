# The two commands a newcomer needs: `make run` and `make test`. Both create .venv when missing.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV ?= .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test install install-dev lint format bench messages clean backup

$(BIN)/python:
	$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "Python 3.11 or newer is needed"'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Re-install only when the dependency pins change.
$(VENV)/.installed: pyproject.toml constraints.txt | $(BIN)/python
	$(BIN)/pip install --quiet -c constraints.txt -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml constraints.txt | $(BIN)/python
	$(BIN)/pip install --quiet -c constraints.txt -e ".[dev]"
	touch $(VENV)/.installed $@

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

# Run the whole platform on this machine: SQLite, in-memory channel layer, Daphne on :8000.
# The screens ping every 20 s themselves: Daphne's own pings are for sockets silent for 30 s
# (meetings/serve.py, with_quiet_protocol_pings, says why).
run: install
	$(BIN)/python manage.py migrate --no-input
	$(BIN)/python manage.py seed_demo --base-url http://$(HOST):$(PORT)
	DEBUG=$${DEBUG:-1} $(BIN)/daphne -b $(HOST) -p $(PORT) --ping-interval 30 \
		meetings.asgi:application

# The whole suite. With REDIS_URL and DATABASE_URL set it also runs the Redis/PostgreSQL tier.
test: install-dev
	$(BIN)/pytest $(PYTEST_ARGS)

# Every benchmark, then the tables in docs/benchmarks.md. Run on a quiet machine: the figures
# are CPU time and latency. Takes about twenty-five minutes. The realtime and writes benchmarks'
# services mode needs PostgreSQL on 127.0.0.1:5432 and Redis (BENCH_REDIS_URL, default the local
# one); the writes benchmark pins to two cores (taskset); the weak-link benchmark needs root
# (network namespaces, TUN devices).
bench: install-dev
	$(BIN)/python -m bench.media.run
	$(BIN)/python -m bench.media.province
	$(BIN)/python -m bench.realtime.run
	$(BIN)/python -m bench.weaklink.run
	$(BIN)/python -m bench.writes.run
	$(BIN)/python -m bench.record.run
	$(BIN)/python -m bench.synthesis.run
	$(BIN)/python -m bench.report

# Back up the database and every file under MEDIA_ROOT (CONFERENCE=<slug>: only that
# conference) into a new directory under BACKUP_DIR; restore with
# `.venv/bin/python manage.py restore <that directory>` (docs/storage.md, "Backup and restore").
BACKUP_DIR ?= backups
backup: install
	$(BIN)/python manage.py backup --out $(BACKUP_DIR) $(if $(CONFERENCE),--conference $(CONFERENCE))

lint: install-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install-dev
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# Refresh the Vietnamese catalogues after changing strings, then compile them (needs GNU gettext).
# Both the .po and the .mo files are committed, so running the platform needs no gettext.
# Python and templates go through Django's makemessages, run inside meetings/ so that only the
# package is scanned. The ES modules translate through the helpers `_` and `fmt`
# (frontend/js/i18n.js) and makemessages cannot be given extra keywords, so they go straight to
# xgettext and msgmerge. A changed string comes back fuzzy with its old translation: review it,
# then drop the flag. tests/test_translations.py extracts the same way: keep the two in step.
LOCALE_DIR := meetings/locale/vi/LC_MESSAGES
MESSAGES_TMP := var/messages
JS_SOURCES = $(sort $(wildcard frontend/js/*.js))
JS_XGETTEXT := xgettext --language=JavaScript --from-code=UTF-8 --add-comments=Translators \
	--keyword=_ --keyword=fmt --package-name=meetings

messages: install
	cd meetings && ../$(BIN)/python ../manage.py makemessages --domain=django --locale=vi \
		--no-obsolete --ignore=tests
	mkdir -p $(MESSAGES_TMP)
	$(JS_XGETTEXT) --output=$(MESSAGES_TMP)/djangojs.pot $(JS_SOURCES)
	test -f $(LOCALE_DIR)/djangojs.po || msginit --no-translator --locale=vi.UTF-8 \
		--input=$(MESSAGES_TMP)/djangojs.pot --output-file=$(LOCALE_DIR)/djangojs.po
	msgmerge --quiet --update --backup=none --previous $(LOCALE_DIR)/djangojs.po \
		$(MESSAGES_TMP)/djangojs.pot
	msgattrib --no-obsolete --output-file=$(LOCALE_DIR)/djangojs.po $(LOCALE_DIR)/djangojs.po
	for domain in django djangojs; do \
		msgfmt --check --statistics --output-file=$(LOCALE_DIR)/$$domain.mo $(LOCALE_DIR)/$$domain.po \
			|| exit 1; \
	done

clean:
	rm -rf $(VENV) var .pytest_cache
