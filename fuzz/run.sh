#!/usr/bin/env bash
# Builds and runs the libFuzzer targets of EDISyntax and (targets named xml_*) XMLSyntax.
#
#   fuzz/run.sh [SECONDS] [TARGET...]
#
# SECONDS defaults to 600 per target; TARGET is the name of an entry file in fuzz/ without `.swift`
# (x12_reader, edifact_reader, validator, xml_reader); default: all of them, one after the other.
#
# Each target is compiled with swiftc from its entry file plus every Sources/EDISyntax/*.swift (SwiftPM cannot build
# libFuzzer binaries, see ../shared/notes/swift-stack.md) into fuzz/.out/bin/, rebuilt only when a source is newer.
# A target with a hook script fuzz/TARGET.sh (mapping_loader: several Swift modules plus libyaml) is built and seeded
# by it instead: `fuzz/TARGET.sh build BINARY` and `fuzz/TARGET.sh seed DIR`.
# Seeds come from Tests/EDISyntaxTests/Fixtures/corpus/ (or ../shared/corpus when the fixtures are not there), from
# Tests/EDISyntaxTests/Fixtures/regressions/ and from two small generated orders. An xml_* target is compiled with
# Sources/XMLSyntax/*.swift instead (and libxml2), and seeded from ../shared/corpus/xml/ (or
# Tests/XMLSyntaxTests/Fixtures/corpus/) plus Tests/XMLSyntaxTests/Fixtures/regressions/. The growing corpus is kept in
# fuzz/.out/corpus/TARGET/ between runs; crash-/timeout-/oom-/leak- files go to fuzz/.out/artifacts/TARGET/.
#
# Exit status: 0 when no target produced an artifact in this run, 1 when one did (they are listed at the end with the
# top of the report), 2 when a build failed.
#
# Environment: FUZZ_NICE (default 10), FUZZ_FLAGS (extra libFuzzer flags, e.g. "-max_len=20000"),
# EDI_FUZZ_DIFFERENTIAL=1 (validator: trap when chunked streaming and validate(bytes:) disagree).
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
out="$here/.out"

seconds=600
if [[ $# -gt 0 && $1 =~ ^[0-9]+$ ]]; then
    seconds=$1
    shift
fi
if [[ $# -gt 0 ]]; then
    targets=("$@")
else
    targets=()
    for entry in "$here"/*.swift; do targets+=("$(basename "$entry" .swift)"); done
fi

toolchain_bin=$(dirname "$(command -v swiftc)")
export ASAN_SYMBOLIZER_PATH=${ASAN_SYMBOLIZER_PATH:-$toolchain_bin/llvm-symbolizer}
export ASAN_OPTIONS=${ASAN_OPTIONS:-symbolize=1:detect_stack_use_after_return=1}
# Let libFuzzer's deadly-signal handler report a Swift trap (fatalError, precondition, overflow) with a symbolized
# stack; the Swift runtime's own backtracer trips over ASan in its memory server thread.
export SWIFT_BACKTRACE=${SWIFT_BACKTRACE:-enable=no}
export LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$here/lsan.supp:print_suppressions=0}
nice_level=${FUZZ_NICE:-10}

mkdir -p "$out/bin" "$out/logs"

# use_library TARGET: sets library (the Sources/ folder), library_sources and library_flags for TARGET.
use_library() {
    if [[ $1 == xml_* ]]; then
        library=XMLSyntax
        library_sources=("$root"/Sources/XMLSyntax/*.swift)
        library_flags=(-I "$root/Sources/CLibXML2" -Xcc -I/usr/include/libxml2 -lxml2)
    else
        library=EDISyntax
        library_sources=("$root"/Sources/EDISyntax/*.swift "$here"/Support/*.swift)
        library_flags=()
    fi
}

# sources_changed SNAPSHOT: true when Sources/$library differs from the snapshot taken for a build.
sources_changed() {
    local source
    for source in "$root/Sources/$library"/*.swift; do
        cmp -s "$source" "$1/$(basename "$source")" || return 0
    done
    return 1
}

build() {
    # One build per target at a time, also across concurrent run.sh invocations (they share fuzz/.out/).
    local lock=$out/bin/.$1.lock
    (
        flock 9
        build_locked "$1"
    ) 9>"$lock"
}

build_locked() {
    local target=$1 entry="$here/$1.swift" binary="$out/bin/$1"
    use_library "$target"
    if [[ ! -f $entry ]]; then
        echo "no fuzz target $target ($entry)" >&2
        return 1
    fi
    if [[ -f $here/$target.sh ]]; then # the target builds itself (several modules)
        FUZZ_NICE=$nice_level bash "$here/$target.sh" build "$binary"
        return
    fi
    local stale=0 source
    if [[ -x $binary ]]; then
        for source in "$entry" "${library_sources[@]}"; do
            if [[ $source -nt $binary ]]; then stale=1; break; fi
        done
    else
        stale=1
    fi
    if [[ $stale == 0 ]]; then
        echo "== $target: up to date ($binary)"
        return 0
    fi
    echo "== $target: building"
    local started=$SECONDS attempt snapshot=$out/src/$target
    # Compile a snapshot of the sources, so an edit in Sources/ during the build cannot break it half-way; if the
    # sources changed while compiling (someone is editing them), try again with a fresh snapshot.
    for attempt in 1 2 3; do
        rm -rf "$snapshot"
        mkdir -p "$snapshot"
        touch "$snapshot/.taken"
        cp "$entry" "${library_sources[@]}" "$snapshot/"
        # ld.gold prints ~140 harmless "Cannot export local symbol '__asan_*'" warnings; keep them in the log.
        if nice -n "$nice_level" swiftc -sanitize=fuzzer,address -parse-as-library -O -g \
            -swift-version 6 -module-name "${library}Fuzz_$target" "${library_flags[@]}" \
            "$snapshot"/*.swift -o "$binary.tmp" >"$out/logs/$target.build.log" 2>&1; then
            break
        fi
        rm -f "$binary.tmp"
        if [[ $attempt == 3 ]] || ! sources_changed "$snapshot"; then
            grep -v "Cannot export local symbol" "$out/logs/$target.build.log" | tail -40 >&2
            echo "== $target: BUILD FAILED (full log: $out/logs/$target.build.log)" >&2
            return 1
        fi
        echo "== $target: sources changed during the build; retrying in 30 s"
        sleep 30
    done
    mv "$binary.tmp" "$binary"
    touch -r "$snapshot/.taken" "$binary" # stale as soon as a source is edited after the snapshot
    echo "== $target: built in $((SECONDS - started)) s"
}

# seed TARGET DIR: fills DIR with the seed inputs that suit TARGET (file names flattened).
seed() {
    local target=$1 dir=$2 corpus
    if [[ -f $here/$target.sh ]]; then # the target has its own seeds
        bash "$here/$target.sh" seed "$dir"
        return
    fi
    rm -rf "$dir"
    mkdir -p "$dir"
    if [[ $target == xml_* ]]; then
        corpus=$root/../shared/corpus/xml
        [[ -d $corpus ]] || corpus=$root/Tests/XMLSyntaxTests/Fixtures/corpus
        cp "$corpus"/*.xml "$root"/Tests/XMLSyntaxTests/Fixtures/*.xml "$dir/" 2>/dev/null
        # The last byte of an input is the target's selector: 0x16 = all at once, default limits, cXML allowed.
        for file in "$dir"/*.xml; do printf '\x16' >>"$file"; done
        [[ -d $root/Tests/XMLSyntaxTests/Fixtures/regressions ]] &&
            find "$root/Tests/XMLSyntaxTests/Fixtures/regressions" -type f ! -name '*.md' -exec cp {} "$dir/" \;
        echo "== $target: $(find "$dir" -type f | wc -l) seed files from $corpus"
        return
    fi
    if [[ -d $root/Tests/EDISyntaxTests/Fixtures/corpus ]]; then
        corpus=$root/Tests/EDISyntaxTests/Fixtures/corpus
    else
        corpus=$root/../shared/corpus
    fi
    local patterns
    case $target in
        x12_reader) patterns=(-path '*/x12/*' -o -name 'x12-*') ;;
        edifact_reader) patterns=(-path '*/edifact/*' -o -name 'edifact-*') ;;
        *) patterns=(-path '*') ;;
    esac
    if [[ -d $corpus ]]; then
        find "$corpus" -type f ! -name '*.json' ! -name '*.md' ! -name '*.xml' \( "${patterns[@]}" \) -print0 |
            while IFS= read -r -d '' file; do
                local name=${file#"$corpus"/}
                cp "$file" "$dir/${name//\//_}"
            done
    fi
    local regressions=$root/Tests/EDISyntaxTests/Fixtures/regressions
    if [[ -d $regressions ]]; then
        find "$regressions" -type f ! -name '*.md' -exec cp {} "$dir/" \;
    fi
    local generator=$root/../shared/bench/gen_orders.py
    if [[ -f $generator ]]; then
        case $target in
            x12_reader | validator) python3 "$generator" x12 --orders 2 --lines 3 --tx-per-group 1 -o "$dir/gen-x12.edi" >/dev/null ;;
        esac
        case $target in
            edifact_reader | validator) python3 "$generator" edifact --orders 2 --lines 3 -o "$dir/gen-edifact.edi" >/dev/null ;;
        esac
    fi
    echo "== $target: $(find "$dir" -type f | wc -l) seed files from $corpus"
}

status=0
found=()
for target in "${targets[@]}"; do
    if ! build "$target"; then
        status=2
        continue
    fi
    corpus_dir=$out/corpus/$target
    seed_dir=$out/seeds/$target
    artifacts=$out/artifacts/$target
    mkdir -p "$corpus_dir" "$artifacts"
    seed "$target" "$seed_dir"
    # Several run.sh may fuzz the same target at once (they share the corpus and artifact folders): every run has its
    # own log and its own marker; the artifacts of this run are the files newer than its marker.
    stamp=$(date +%Y%m%d-%H%M%S)-$$
    marker=$(mktemp "$out/logs/.$target.$stamp.XXXXXX")
    sleep 1
    dict=()
    [[ -f $here/$target.dict ]] && dict=(-dict="$here/$target.dict")
    log=$out/logs/$target-$stamp.log
    ln -sfn "$(basename "$log")" "$out/logs/$target.log" # the latest run
    echo "== $target: fuzzing for $seconds s (log: $log)"
    # shellcheck disable=SC2086
    nice -n "$nice_level" "$out/bin/$target" \
        -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
        -artifact_prefix="$artifacts/" -print_final_stats=1 "${dict[@]}" ${FUZZ_FLAGS:-} \
        "$corpus_dir" "$seed_dir" >"$log" 2>&1
    rc=$?
    grep -a -E '^(stat::number_of_executed_units|stat::average_exec_per_sec|stat::peak_rss_mb)' "$log" | sed "s/^/   /"
    grep -a -E '^#[0-9]+.*(DONE|pulse|NEW)' "$log" | tail -1 | sed "s/^/   /"
    # Only this run's own artifacts: newer than its marker and named in its log.
    new=$(find "$artifacts" -type f -newer "$marker" \( -name 'crash-*' -o -name 'timeout-*' -o -name 'oom-*' -o -name 'leak-*' \) |
        while IFS= read -r file; do grep -a -q -F "$(basename "$file")" "$log" && echo "$file"; done)
    rm -f "$marker"
    if [[ -n $new ]]; then
        status=1
        while IFS= read -r artifact; do found+=("$target|$artifact|$log"); done <<<"$new"
        echo "== $target: ARTIFACT(S) PRODUCED (libFuzzer exit $rc)"
    elif [[ $rc != 0 ]]; then
        status=1
        found+=("$target|(no artifact; libFuzzer exit $rc)|$log")
        echo "== $target: libFuzzer exited $rc without an artifact"
    else
        echo "== $target: no crash"
    fi
done

if [[ ${#found[@]} -gt 0 ]]; then
    echo
    echo "================ artifacts ================"
    for entry in "${found[@]}"; do
        IFS='|' read -r target artifact log <<<"$entry"
        echo "--- $target: $artifact"
        echo "    reproduce: $out/bin/$target $artifact"
        # The top of the report: the sanitizer/fatal error line and the first frames.
        grep -a -m1 -E 'Fatal error|fatal error|ERROR: (AddressSanitizer|libFuzzer|LeakSanitizer)|deadly signal|Assertion|Precondition|out-of-memory|timeout' "$log" | sed 's/^/    /'
        grep -a -E '^ *#[0-9]+ 0x' "$log" | grep -v -E 'libFuzzer|fuzzer::|__sanitizer|__asan|libc\.so|_start' | head -12 | sed 's/^/    /'
    done
fi
exit $status
