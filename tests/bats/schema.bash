# shellcheck shell=bash
# shellcheck disable=SC2154 # output: set by bats' run
# Shared by helpers.bash and vfctld-daemon.bash.
# $output (a vfctl --json document) is valid against the schema's
# $defs/$1 (docs/vfctl.schema.json); the errors, field by field, when not.
schema_ok() {
	"${REPO:?set REPO to the source tree}/tests/check-json-schema" \
		"$REPO/docs/vfctl.schema.json" "$1" - <<<"$output"
}
