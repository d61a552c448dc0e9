# Shorthands for the scripts in scripts/ (which need no make).
.PHONY: run test bench setup db-stop

run:
	scripts/run

test:
	scripts/test

bench:
	scripts/bench

setup:
	scripts/install-deps

db-stop:
	.build/debug/timebank db stop || .build/release/timebank db stop
