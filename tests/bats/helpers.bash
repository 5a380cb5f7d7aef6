# shellcheck shell=bash
# What the bats suites on copies of the golden trees share (load helpers).

# A private copy of golden tree $1 in $t (tests may write to it), a run
# directory in $run_dir, and no environment that would point vfctl elsewhere.
tree_copy() {
	: "${VFCTL:?set VFCTL to the vfctl binary}" "${FIXTURES:?set FIXTURES to the trees}"
	unset VFCTL_SYSFS_ROOT VFCTL_DEV_ROOT VFCTL_RUN_DIR
	t=$BATS_TEST_TMPDIR/t
	cp -a "$FIXTURES/$1" "$t"
	run_dir=$BATS_TEST_TMPDIR/run
}

# vfctl on the copy
vfctl() {
	"$VFCTL" --sysfs-root "$t/sys" --run-dir "$run_dir" "$@"
}

# Every path, link target and file content of the copy: equal sums, nothing changed.
tree_sum() {
	(cd "$t" && find . -printf '%p %l\n' | LC_ALL=C sort &&
		find . -type f -print0 | LC_ALL=C sort -z | xargs -0 md5sum) | md5sum
}

# schema_ok
load schema
