#!/bin/sh
# Patroni's post_init: $1 is a conninfo to the new primary as the superuser.
set -eu
psql "$1" -v ON_ERROR_STOP=1 -c "CREATE DATABASE timebank"
