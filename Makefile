# Two commands do all the set-up on a fresh machine: `make up` runs the platform, `make test` the tests.
.PHONY: install up demo test fuzz lint bench seed-large load bench-catalogue clean-data

install:
	@./stack/install.sh

up: install
	.venv/bin/python -m stack.up

# With `make up` running: the demo users accredit suppliers and source through the REST API.
demo: install
	.venv/bin/python -m stack.demo

# Two processes (pytest-xdist), a test module each at a time: most of the suite waits on servers,
# so two overlap; each process has its own PostgreSQL, Temporal servers and sandboxes.
test: install
	.venv/bin/pytest -q -p no:cacheprovider -n 2 --dist loadfile --no-loadscope-reorder

# A longer, random fuzzing campaign than the suite's (tests/fuzz): ten to fifteen minutes.
fuzz: install
	TRADEFLOW_FUZZ=campaign .venv/bin/pytest -q -p no:cacheprovider --timeout=0 tests/fuzz

lint: install
	.venv/bin/ruff check . && .venv/bin/ruff format --check . && .venv/bin/mypy .

bench: install
	.venv/bin/python -m bench.accreditation
	.venv/bin/python -m bench.sourcing
	.venv/bin/python -m bench.fulfilment
	.venv/bin/python -m bench.cold_chain
	.venv/bin/python -m bench.loans
	.venv/bin/python -m bench.workbench
	.venv/bin/python -m bench.audit
	.venv/bin/python -m bench.comparison --no-reference
	.venv/bin/python -m bench.comparison_route
	.venv/bin/python -m bench.pdf
	.venv/bin/python -m bench.observability

# Ten million rows: a large, realistic dataset in a database of its own, and every list and search
# endpoint timed against a bare indexed SQL query over the same rows (bench.large).
seed-large: install
	.venv/bin/python -m bench.seed_large

# The sale day: with `make up` running, locust (headless) steps a realistic mix of buyers,
# suppliers, carriers and regulators up until the platform saturates (bench.load).
load: install
	.venv/bin/python -m bench.load

# The catalogue at size: a million products and three million offers in a database of their own
# (seeded once, about 10 minutes), each search against a bare indexed SQL query; 400 searches
# drawn from product names; the searches' statements kept by shape against built afresh; then a
# 100,000-row import's rows per second against csv.reader, openpyxl and a bare COPY.
bench-catalogue: install
	.venv/bin/python -m bench.catalogue_search
	.venv/bin/python -m bench.catalogue_mix
	.venv/bin/python -m bench.catalogue_shapes
	.venv/bin/python -m bench.catalogue_import

clean-data:
	rm -rf .data
