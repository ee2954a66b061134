"""``python -m bench``: the same as ``python -m bench.accreditation``."""

from bench.accreditation import main

main()
