#!/usr/bin/env bash
# Runs the EDISyntax throughput benchmarks and the 1 GB streaming-validation memory check.
#
#   Benchmarks/run.sh            # everything
#   BENCH_SKIP_1GB=1 Benchmarks/run.sh
#
# 1. Generates the data into Benchmarks/.data/ (git-ignored) unless already there: 100 MB X12 850, 100 MB EDIFACT
#    ORDERS and a 1 GB X12 850 file, all from ../shared/bench/gen_orders.py (deterministic output).
# 2. Runs the ordo-one/benchmark suite (release build): C memchr splitter, SegmentTokenizer.countSegments(),
#    EDIReader drained and full EDIValidator validation on both 100 MB files. Full output: .data/benchmark-output.md.
# 3. Builds validate-file (release) and streams the 1 GB file through EDIValidator via FileDescriptorByteSource
#    under /usr/bin/time -v (installs the Debian package `time` if missing).
# 4. Prints a table: case, MB/s (median of the iterations), peak RSS.
#
# Everything runs under `nice -n ${BENCH_NICE:-10}`. Nothing else should run on the machine while it measures.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
data=$here/.data
generator=${GEN_ORDERS:-$root/../shared/bench/gen_orders.py}
nice_level=${BENCH_NICE:-10}
mkdir -p "$data"

generate() { # generate FORMAT TARGET_MB FILE
    local format=$1 megabytes=$2 file=$data/$3
    if [[ -s $file ]]; then
        echo "== data: $3 present ($(stat -c %s "$file") bytes), reused"
        return
    fi
    echo "== data: generating $3 ($format, --preset large --target-mb $megabytes)"
    # gen_orders.py writes FILE.tmp and renames it, so an interrupted run leaves no partial FILE behind.
    nice -n "$nice_level" python3 "$generator" "$format" --preset large --target-mb "$megabytes" -o "$file"
}

generate x12 100 x12_850_100mb.edi
generate edifact 100 edifact_orders_100mb.edi
if [[ -z ${BENCH_SKIP_1GB:-} ]]; then
    generate x12 1000 x12_850_1gb.edi
fi

# retry COMMAND...: Sources/ may be edited while we build ("input file ... was modified during the build", or a
# half-finished edit that does not compile); try a few times before giving up.
retry() {
    local attempt
    for attempt in 1 2 3 4 5; do
        if "$@"; then return 0; fi
        [[ $attempt == 5 ]] && break
        echo "== attempt $attempt failed; retrying in 30 s" >&2
        sleep 30
    done
    return 1
}

# Which library sources were measured (there are no commits to name): a hash over Sources/EDISyntax/*.swift.
sources_hash() { cat "$root"/Sources/EDISyntax/*.swift | sha256sum | cut -c1-16; }
hash_before=$(sources_hash)
echo "== Sources/EDISyntax hash before the build: $hash_before ($(date -u +%FT%TZ))"

echo "== build: swift build --package-path Benchmarks -c release"
retry nice -n "$nice_level" swift build --package-path "$here" -c release

echo "== benchmarks: swift package --package-path Benchmarks benchmark (release build)"
retry bash -c 'set -o pipefail; nice -n "$1" swift package --package-path "$2" benchmark --no-progress --format markdown \
    | tee "$3"' _ "$nice_level" "$here" "$data/benchmark-output.md"

if [[ -z ${BENCH_SKIP_1GB:-} ]]; then
    if [[ ! -x /usr/bin/time ]]; then
        echo "== installing the Debian package time (for /usr/bin/time -v)"
        apt-get install -y time >/dev/null
    fi
    echo "== validate-file: swift build -c release --product validate-file"
    retry nice -n "$nice_level" swift build --package-path "$here" -c release --product validate-file
    binary=$(swift build --package-path "$here" -c release --show-bin-path)/validate-file
    echo "== validate-file: streaming validation of x12_850_1gb.edi under /usr/bin/time -v"
    set +e
    nice -n "$nice_level" /usr/bin/time -v "$binary" "$data/x12_850_1gb.edi" \
        >"$data/validate-1gb.out" 2>"$data/validate-1gb.time"
    status=$?
    set -e
    cat "$data/validate-1gb.out"
    grep -E "Elapsed \(wall clock\)|Maximum resident set size|User time|System time" "$data/validate-1gb.time"
    if [[ $status != 0 ]]; then
        echo "validate-file exited $status (errors found or failure); see $data/validate-1gb.time" >&2
    fi
fi

hash_after=$(sources_hash)
echo
echo "== Sources/EDISyntax hash after the runs: $hash_after"
if [[ $hash_after != "$hash_before" ]]; then
    echo "== WARNING: Sources/EDISyntax changed during the run; the figures may mix two versions" >&2
fi
echo
python3 - "$data" <<'EOF'
import os, re, sys

data = sys.argv[1]
text = open(os.path.join(data, "benchmark-output.md")).read()

# The markdown output has one section per benchmark ("### NAME"), each with a table whose rows are metrics and whose
# columns are percentiles; take the p50 column.
rows = []
for section in re.split(r"^#+ ", text, flags=re.M)[1:]:
    name = section.splitlines()[0].strip()
    if "100MB" not in name:
        continue
    header = None
    values = {}
    for line in section.splitlines():
        if not line.startswith("|"):
            continue
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if header is None:
            header = cells
            continue
        if set("".join(cells)) <= set("-: "):
            continue
        values[cells[0]] = dict(zip(header, cells))
    def p50(prefix):
        for metric, row in values.items():
            if metric.startswith(prefix):
                return row.get("p50", "?"), metric
        return "?", ""
    def with_unit(value, metric):
        unit = re.search(r"\((K|M|G)\)\s*\*?$", metric)
        return f"{value} {unit.group(1) + 'B' if unit else 'B'}"
    mbs = values.get("MB/s", {}).get("p50", "?")  # wall clock
    cpu, _ = p50("MB/s (CPU)")
    rss = with_unit(*p50("Memory (resident peak)"))
    delta = with_unit(*p50("Memory Δ (resident peak)"))
    rows.append((name, mbs, cpu, f"{rss} (Δ {delta})"))

# Dialect by dialect, in the order baseline, tokenizer, reader, validator.
order = ["C memchr", "SegmentTokenizer", "EDIReader", "EDIValidator"]
rows.sort(key=lambda r: (not r[0].startswith("X12"), next((i for i, k in enumerate(order) if k in r[0]), 9)))

one_gb = os.path.join(data, "validate-1gb.time")
if os.path.exists(one_gb):
    t = open(one_gb).read()
    out = open(os.path.join(data, "validate-1gb.out")).read()
    rss = re.search(r"Maximum resident set size \(kbytes\): (\d+)", t)
    mbs = re.search(r"MB/s:\s+([\d.]+)", out)
    user = re.search(r"User time \(seconds\): ([\d.]+)", t)
    system = re.search(r"System time \(seconds\): ([\d.]+)", t)
    size = re.search(r"bytes:\s+(\d+)", out)
    cpu = "?"
    if user and system and size:
        cpu = f"{int(size.group(1)) / 1e6 / (float(user.group(1)) + float(system.group(1))):.1f}"
    rows.append(("X12 850 1GB: validate-file, streaming from a file descriptor",
                 mbs.group(1) if mbs else "?", cpu,
                 f"{int(rss.group(1)) / 1024:.1f} MiB (time -v)" if rss else "?"))

width = max(len(r[0]) for r in rows)
print("peak RSS of the 100 MB cases includes the file held in memory (~100 MB); delta = growth while measuring")
print(f"{'case':<{width}}  {'MB/s (p50)':>10}  {'MB/s CPU':>8}  peak RSS (p50)")
print(f"{'-' * width}  {'-' * 10}  {'-' * 8}  {'-' * 30}")
for name, mbs, cpu, rss in rows:
    print(f"{name:<{width}}  {mbs:>10}  {cpu:>8}  {rss}")
EOF
