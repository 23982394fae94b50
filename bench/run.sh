#!/usr/bin/env bash
# The benchmarks of docs/BENCHMARKS.md (`make bench`, `make bench-quick`).
#
#   bench/run.sh           full run (about 15 minutes): writes docs/BENCHMARKS.md,
#                          bench/results/{results.json,benchmarks.png,profiles/}
#   bench/run.sh --quick   under a minute, for development: writes bench/out/ only
#   bench/run.sh --only W2-50,W3 --servers typed,raw     a subset (any benchrun flag)
#
# Builds the Go binaries into bench/out/bin, installs the Node.js reference
# server's packages with `npm ci` when its lockfile changed, raises the open
# file limit for W5's 10,000 connections, then runs bench/cmd/benchrun.
set -euo pipefail
cd "$(dirname "$0")/.."

quick=false
for arg in "$@"; do
	[ "$arg" = --quick ] && quick=true
done

for tool in go node npm taskset; do
	command -v "$tool" >/dev/null || { echo "bench/run.sh: $tool is required" >&2; exit 1; }
done

# W5 holds 10,000 sockets: each of the server and the load generator needs
# that many descriptors and then some.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
if [ "$(ulimit -n)" != unlimited ] && [ "$(ulimit -n)" -lt 12000 ]; then
	echo "bench/run.sh: open file limit $(ulimit -n) is below the 12000 W5 needs (raise the hard limit)" >&2
	exit 1
fi

echo "building the servers and the load generator" >&2
mkdir -p bench/out/bin
for cmd in typedserver rawserver limitserver loadgen benchrun; do
	go build -o "bench/out/bin/$cmd" "./bench/cmd/$cmd"
done

# Variants for the experiments (none in --quick): the typed server built with
# GOEXPERIMENT=jsonv2, and, when bench/proposals/ holds patches, built with
# them applied through `go build -overlay`, so the repository's files are not
# touched (the patched copies live under "_overlay", a directory the go tool
# ignores, so ./... never sees them). Patches that no longer apply (adopted,
# or overtaken by changes) skip that variant and its experiments.
rm -rf bench/out/_overlay bench/out/_overlay.json bench/out/bin/typedserver-proposed bench/out/bin/typedserver-jsonv2
if [ "$quick" = false ]; then
	GOEXPERIMENT=jsonv2 go build -o bench/out/bin/typedserver-jsonv2 ./bench/cmd/typedserver
	# The typed server before typed rooms, for the C-rooms experiments (skipped
	# when the commit is not in this clone): built in a temporary worktree.
	rm -f bench/out/bin/typedserver-before-rooms
	baseline="${BENCH_ROOMS_BASELINE:-1945586}"
	if git rev-parse -q --verify "$baseline^{commit}" >/dev/null; then
		wt="$(mktemp -d)"
		git worktree add -q --detach "$wt" "$baseline"
		(cd "$wt" && go build -o "$OLDPWD/bench/out/bin/typedserver-before-rooms" ./bench/cmd/typedserver) || echo "bench/run.sh: building $baseline failed; skipping the C-rooms experiments" >&2
		git worktree remove --force "$wt"
	fi
	patches=(bench/proposals/*.patch)
	if [ -e "${patches[0]}" ]; then
		mkdir -p bench/out/_overlay
		tar --exclude=node_modules -cf - runtime app gen | tar -xf - -C bench/out/_overlay
		if git apply --directory=bench/out/_overlay "${patches[@]}" 2>/dev/null; then
			entries=()
			while IFS= read -r f; do
				orig="${f#bench/out/_overlay/}"
				cmp -s "$f" "$orig" 2>/dev/null || entries+=("\"$PWD/$orig\": \"$PWD/$f\"")
			done < <(find bench/out/_overlay -name '*.go' -not -path '*/node_modules/*')
			(IFS=,; echo "{\"Replace\": {${entries[*]}}}") >bench/out/_overlay.json
			go build -overlay bench/out/_overlay.json -o bench/out/bin/typedserver-proposed ./bench/cmd/typedserver
		else
			echo "bench/run.sh: bench/proposals/*.patch no longer apply (adopted?); skipping the typed+proposals experiments" >&2
		fi
	fi
fi

# better-sqlite3 compiles from source when no prebuilt binary can be fetched;
# point node-gyp at the headers of the Node.js that runs it.
if [ -z "${npm_config_nodedir:-}" ]; then
	prefix="$(dirname "$(dirname "$(command -v node)")")"
	[ -f "$prefix/include/node/common.gypi" ] && export npm_config_nodedir="$prefix"
fi
if [ ! -f bench/node-ref/node_modules/.package-lock.json ] ||
	[ bench/node-ref/package-lock.json -nt bench/node-ref/node_modules/.package-lock.json ]; then
	echo "installing the Node.js reference server's packages (npm ci)" >&2
	(cd bench/node-ref && npm ci --no-audit --no-fund)
fi

exec bench/out/bin/benchrun --bin bench/out/bin "$@"
