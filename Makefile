UV := .ci/bootstrap.sh uv

.PHONY: install run test lint migrations-check

install:
	$(UV) sync

# The whole site on http://127.0.0.1:8000/ with embedded PostgreSQL and Redis under var/ (see community/devserver.py).
run: install
	$(UV) run python -m community.devserver

# Extra pytest arguments: make test ARGS="-k digest -x"
test: install
	.ci/bootstrap.sh services
	.ci/bootstrap.sh tools
	$(UV) run pytest -q $(ARGS)

lint: install
	$(UV) run ruff check .

# Settings refuse the default SECRET_KEY with DEBUG off; this check touches no secret.
migrations-check: install
	SECRET_KEY=migrations-check $(UV) run python manage.py makemigrations --check --dry-run
