# SPDX-License-Identifier: GPL-2.0
# Running the examples, for examples_test.sh and packages_test.sh (sourced,
# after tap.sh).  Sets $tmp, a directory removed at exit.
#
# hello_pager serves on a unix socket: it is started, hello_client is run
# against it, and it is stopped with SIGTERM.  The others run alone.
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# examples DIR: the examples built in DIR, one word each (not the clients,
# which hello_pager's run takes along, nor the -shared and -static builds).
examples() {
	local e
	for e in "$1"/*; do
		case $e in *-shared | *-static | */hello_client) ;; *) echo "${e##*/}" ;; esac
	done
}

# run NAME CMD...: the example exits 0, its last line starting "NAME: ".
run() {
	local name=$1 out rc
	shift
	out=$("$@" 2>&1)
	rc=$?
	if [ "$rc" = 0 ] && tail -n 1 <<<"$out" | grep -q "^$name: "; then
		return 0
	fi
	echo "$out" | sed 's/^/# /'
	echo "# status $rc"
	return 1
}

# hello PAGER CLIENT [ENV...]: the client reads the pager's greeting from
# page 0, and the pager, stopped, prints what the client wrote in page 1.
hello() {
	local pager=$1 client=$2 sock=$tmp/hello.sock out=$tmp/pager.out pid i ok=1 cout
	shift 2
	env "$@" "$pager" "$sock" >"$out" 2>&1 &
	pid=$!
	for ((i = 0; i < 600; i++)); do
		grep -q '^hello_pager: serving' "$out" && break
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	cout=$(env "$@" "$client" "$sock" 2>&1)
	if [ "$?" != 0 ] || [ "$cout" != 'hello_client: page 0: "Hello from the pager!"' ]; then
		echo "$cout" | sed 's/^/# client: /'
		ok=0
	fi
	kill -TERM "$pid"
	wait "$pid" || ok=0
	if ! grep -q '^hello_pager: page 1: "Hello back from client [0-9]*"$' "$out" ||
		[ "$(tail -n 1 "$out")" != 'hello_pager: stopped' ]; then
		ok=0
	fi
	[ "$ok" = 1 ] || sed 's/^/# pager: /' "$out"
	[ "$ok" = 1 ]
}

# example DIR NAME SUFFIX [ENV...]: one build (DIR/NAME-SUFFIX) of one example.
example() {
	local dir=$1 n=$2 suffix=$3
	shift 3
	case $n in
	hello_pager) hello "$dir/$n$suffix" "$dir/hello_client$suffix" "$@" ;;
	*) run "$n" env "$@" "$dir/$n$suffix" ;;
	esac
}

