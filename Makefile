# Two commands do all the set-up on a fresh machine: `make up` runs the platform, `make test` the tests.
.PHONY: install up demo test lint bench clean-data

install:
	@./stack/install.sh

up: install
	.venv/bin/python -m stack.up

# With `make up` running: the demo users accredit suppliers and source through the REST API.
demo: install
	.venv/bin/python -m stack.demo

test: install
	.venv/bin/pytest -q -p no:cacheprovider

lint: install
	.venv/bin/ruff check . && .venv/bin/ruff format --check . && .venv/bin/mypy .

bench: install
	.venv/bin/python -m bench.accreditation
	.venv/bin/python -m bench.sourcing
	.venv/bin/python -m bench.fulfilment

clean-data:
	rm -rf .data
