# Turns `make -nB` output into compile_commands.json: every "$(CC) ... -c"
# line, as make would run it (target-specific flags included), with the
# source file it compiles. The position-independent second build of
# libvfctl (build/pic/) is left out: one entry per file.
# awk -v cc=CC -v dir=DIR -f build-aux/compile-commands.awk
function jstr(s) {
	gsub(/\\/, "\\\\", s)
	gsub(/"/, "\\\"", s)
	return "\"" s "\""
}
$1 == cc && / -c / && !/\/pic\// {
	file = $NF
	if (file in seen)
		next
	seen[file] = 1
	printf "%s\n  { \"directory\": %s, \"file\": %s, \"command\": %s }", n++ ? "," : "[",
		jstr(dir), jstr(file), jstr($0)
}
END { print n ? "\n]" : "[]" }
