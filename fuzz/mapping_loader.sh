#!/usr/bin/env bash
# Build and seed hook of the mapping_loader and translator fuzz targets (fuzz/translator.sh is a link to this script;
# the target is the name the script is called by); fuzz/run.sh calls it (under its per-target build lock):
#
#   fuzz/mapping_loader.sh build BINARY     build BINARY when a source changed (exit 0 when up to date or built)
#   fuzz/mapping_loader.sh seed DIR         fill DIR with seed inputs
#   fuzz/translator.sh build|seed ...       the same for the translator target
#
# The target needs five Swift modules that import each other (Yams, EDISyntax, XMLSyntax, OrderModel, OrderMapping)
# plus libyaml (CYaml, C). SwiftPM cannot build libFuzzer binaries (../shared/notes/swift-stack.md), so each module is
# compiled here with swiftc on its own, whole-module, instrumented for libFuzzer and ASan (`-sanitize=fuzzer,address`
# with -emit-object gives inline 8-bit counters, PC tables and compare tracing, and needs no libFuzzer at link time),
# CYaml with clang (-fsanitize=address,fuzzer-no-link), and the entry file is linked with all the objects by
# `swiftc -sanitize=fuzzer,address` (which adds libFuzzer's main). Module files and objects live in
# fuzz/.out/build/mapping_loader/; a module is recompiled only when its sources (or a module it imports) changed.
# Yams 6.2.2 is copied once from .build/checkouts/Yams into fuzz/.out/vendor/ so that a later `swift package update`
# or a cleaned .build cannot change or break it.
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
out=$here/.out
target=$(basename "$0" .sh)
case $target in
    mapping_loader) entry_module=MappingLoaderFuzz ;;
    translator) entry_module=TranslatorFuzz ;;
    *)
        echo "$0: unknown target $target" >&2
        exit 2
        ;;
esac
# The instrumented modules are shared by both targets (builds take a lock on the folder); each target's entry file has
# its own snapshot, and a target is relinked whenever a module is newer than its binary.
work=$out/build/mapping_loader
yams_version=6.2.2
vendor=$out/vendor/Yams-$yams_version
nice_level=${FUZZ_NICE:-10}
log=$out/logs/$target.build.log

# Module name, source folder, modules it imports (built before it), extra swiftc flags. In dependency order.
modules=(Yams EDISyntax XMLSyntax OrderModel OrderMapping)
declare -A source_dir=(
    [Yams]=$vendor/Yams [EDISyntax]=$root/Sources/EDISyntax [XMLSyntax]=$root/Sources/XMLSyntax
    [OrderModel]=$root/Sources/OrderModel [OrderMapping]=$root/Sources/OrderMapping
)
declare -A imports=(
    [Yams]="" [EDISyntax]="" [XMLSyntax]="" [OrderModel]="" [OrderMapping]="Yams EDISyntax XMLSyntax OrderModel"
)
# Clang module search paths every Swift compile gets: CYaml (Yams imports it internally; importers of a non-resilient
# module still load it) and CLibXML2 (re-exported by XMLSyntax); `#undef LIBXML_ICU_ENABLED` is in its shim.
include_flags=(
    -I "$vendor/CYaml/include" -Xcc -DYAML_DECLARE_STATIC
    -I "$root/Sources/CLibXML2" -Xcc -I/usr/include/libxml2
)
swift_flags=(-sanitize=fuzzer,address -parse-as-library -O -g -wmo)

# vendor_yams: the Yams and CYaml sources, copied from the SwiftPM checkout the first time.
vendor_yams() {
    [[ -f $vendor/.complete ]] && return 0
    local checkout=$root/.build/checkouts/Yams version
    if [[ ! -d $checkout/Sources/Yams ]]; then
        echo "== $target: no Yams sources: $vendor is missing and so is $checkout (run 'swift package resolve')" >&2
        return 1
    fi
    version=$(git -C "$checkout" describe --tags --exact-match 2>/dev/null || echo unknown)
    if [[ $version != "$yams_version" ]]; then
        echo "== $target: $checkout is Yams $version, not $yams_version (Package.swift pins $yams_version)" >&2
        return 1
    fi
    rm -rf "$vendor"
    mkdir -p "$vendor"
    cp -R "$checkout/Sources/CYaml" "$checkout/Sources/Yams" "$vendor/"
    cp "$checkout/LICENSE" "$vendor/" 2>/dev/null
    touch "$vendor/.complete"
    echo "== $target: copied Yams $yams_version sources to $vendor"
}

# same_files SOURCE SNAPSHOT PATTERN: true when SNAPSHOT holds exactly the files of SOURCE matching PATTERN.
same_files() {
    local file count=0
    [[ -d $2 ]] || return 1
    for file in "$1"/$3; do
        [[ -f $file ]] || continue
        cmp -s "$file" "$2/$(basename "$file")" || return 1
        count=$((count + 1))
    done
    [[ $count == $(find "$2" -maxdepth 1 -type f -name "$3" | wc -l) ]]
}

# snapshot SOURCE SNAPSHOT PATTERN: copies the files so that an edit during the compile cannot break it half-way.
snapshot() {
    rm -rf "$2"
    mkdir -p "$2"
    cp "$1"/$3 "$2/"
}

# compile_with_retry SOURCE SNAPSHOT PATTERN COMMAND...: compile from a fresh snapshot (its files are appended to
# COMMAND; stack traces name them), output appended to $log.tmp; when it fails because the sources were being edited
# (they differ from the snapshot), wait and retry, up to three times.
compile_with_retry() {
    local source=$1 snap=$2 pattern=$3 attempt
    shift 3
    for attempt in 1 2 3; do
        snapshot "$source" "$snap" "$pattern"
        if nice -n "$nice_level" "$@" "$snap"/$pattern >>"$log.tmp" 2>&1; then
            return 0
        fi
        if [[ $attempt == 3 ]] || same_files "$source" "$snap" "$pattern"; then
            rm -rf "$snap" # so that the next build compiles it again
            return 1
        fi
        echo "== $target: $source changed during the build; retrying in 30 s"
        sleep 30
    done
}

build() {
    local binary=$1 started=$SECONDS
    mkdir -p "$work"
    # Both targets build into $work: one build at a time, also across concurrent run.sh invocations (run.sh's own
    # lock is per target). Released when this script exits.
    exec 8>"$work.lock"
    flock 8
    vendor_yams || return 1
    mkdir -p "$work/obj" "$work/modules" "$work/src" "$out/logs"
    # A change of this script (flags, module list) invalidates everything built with it.
    if ! cmp -s "$0" "$work/build-script"; then
        rm -rf "${work:?}/obj" "${work:?}/modules" "${work:?}/src"
        mkdir -p "$work/obj" "$work/modules" "$work/src"
        cp "$0" "$work/build-script"
    fi
    : >"$log.tmp"
    local -A rebuilt=()
    local module any=0 dependency stale
    # libyaml: compiled once (the vendored copy does not change).
    if [[ ! -f $work/obj/CYaml.done ]]; then
        [[ $any == 0 ]] && echo "== $target: building" && any=1
        local c
        rm -f "$work"/obj/CYaml-*.o
        for c in "$vendor"/CYaml/src/*.c; do
            if ! nice -n "$nice_level" clang -c -O1 -g -fsanitize=address,fuzzer-no-link -DYAML_DECLARE_STATIC \
                -I "$vendor/CYaml/include" "$c" -o "$work/obj/CYaml-$(basename "$c" .c).o" >>"$log.tmp" 2>&1; then
                cat "$log.tmp" >"$log"
                tail -40 "$log" >&2
                echo "== $target: BUILD FAILED (CYaml; full log: $log)" >&2
                return 1
            fi
        done
        touch "$work/obj/CYaml.done"
        rebuilt[CYaml]=1
    fi
    local mode
    for module in "${modules[@]}"; do
        stale=0
        # (The object must be newer than the snapshot: a build killed half-way leaves an older one.)
        [[ $work/obj/$module.o -nt $work/src/$module && -f $work/modules/$module.swiftmodule ]] || stale=1
        same_files "${source_dir[$module]}" "$work/src/$module" '*.swift' || stale=1
        for dependency in ${imports[$module]} $([[ $module == Yams ]] && echo CYaml); do
            [[ -n ${rebuilt[$dependency]:-} ]] && stale=1
        done
        [[ $stale == 0 ]] && continue
        [[ $any == 0 ]] && echo "== $target: building" && any=1
        echo "   $module"
        mode=(-swift-version 6)
        [[ $module == Yams ]] && mode=(-swift-version 5 -D SWIFT_PACKAGE) # as its Package.swift (tools 5.7) builds it
        compile_with_retry "${source_dir[$module]}" "$work/src/$module" '*.swift' \
            swiftc "${swift_flags[@]}" "${mode[@]}" -module-name "$module" "${include_flags[@]}" -I "$work/modules" \
            -emit-module -emit-module-path "$work/modules/$module.swiftmodule" \
            -c -o "$work/obj/$module.o"
        if [[ $? != 0 ]]; then
            rm -f "$work/obj/$module.o"
            cat "$log.tmp" >"$log"
            grep -v "Cannot export local symbol" "$log" | tail -40 >&2
            echo "== $target: BUILD FAILED ($module; full log: $log)" >&2
            return 1
        fi
        rebuilt[$module]=1
    done
    # The entry file, linked with every object; libFuzzer's main comes with -sanitize=fuzzer.
    # Up to date only when the binary is newer than its entry snapshot and than every object: the other target may have
    # rebuilt a module since this binary was linked.
    local object newer=1
    for object in "$work"/obj/*.o; do [[ $binary -nt $object ]] || newer=0; done
    if [[ $any == 0 && $newer == 1 && -x $binary && $binary -nt $work/src/entry-$target ]] &&
        same_files "$here" "$work/src/entry-$target" "$target.swift"; then
        echo "== $target: up to date ($binary)"
        rm -f "$log.tmp"
        return 0
    fi
    [[ $any == 0 ]] && echo "== $target: building"
    echo "   $target.swift (link)"
    # ld.gold prints ~140 harmless "Cannot export local symbol '__asan_*'" warnings; they stay in the log.
    compile_with_retry "$here" "$work/src/entry-$target" "$target.swift" \
        swiftc "${swift_flags[@]}" -swift-version 6 -module-name "$entry_module" "${include_flags[@]}" \
        -I "$work/modules" "$work"/obj/*.o -o "$binary.tmp"
    if [[ $? != 0 ]]; then
        rm -f "$binary.tmp"
        cat "$log.tmp" >"$log"
        grep -v "Cannot export local symbol" "$log" | tail -40 >&2
        echo "== $target: BUILD FAILED (link; full log: $log)" >&2
        return 1
    fi
    mv "$binary.tmp" "$binary"
    mv "$log.tmp" "$log"
    echo "== $target: built in $((SECONDS - started)) s"
}

# seed DIR: every mapping file of mappings/ (what exists now; other people may be adding some), each prefixed with the
# byte that loads it under a fitting path: `0` inbound EDI map, `1` inbound XML map, `2` outbound map, `3` partner
# profile (with its `partner:` ID made `acme`, so the file-name check passes), plus a partner profile that loads.
seed() {
    local dir=$1 file name prefix count=0
    rm -rf "$dir"
    mkdir -p "$dir"
    while IFS= read -r -d '' file; do
        name=${file#"$root"/mappings/}
        name=${name//\//_}
        if [[ $file == */partners/* ]]; then
            { printf 3; sed -E 's/^partner:.*/partner: acme/' "$file"; } >"$dir/$name"
        else
            if grep -q -E '^direction:[[:space:]]*outbound' "$file"; then
                prefix=2
            elif grep -q -E '^format:[[:space:]]*xml' "$file"; then
                prefix=1
            else
                prefix=0
            fi
            { printf %s "$prefix"; cat "$file"; } >"$dir/$name"
        fi
        count=$((count + 1))
    done < <(find "$root/mappings" -type f \( -name '*.yaml' -o -name '*.yml' \) -print0 2>/dev/null)
    # A profile that loads with the fixed 850 map: identities, an inbound reference with overrides, separators.
    cat >"$dir/partner-overrides.yaml" <<'EOF'
3partner: acme
name: Acme Retail Corp.
identities:
  x12: { qualifier: ZZ, id: ACMERETAIL, group: ACMERETAIL }
  xml: { domain: NetworkID, id: AN01000000001 }
us:
  x12: { qualifier: ZZ, id: WIDGETWORKS }
inbound:
  - map: x12/850-004010
    overrides:
      lines.item.sku: { pairs: PO106, qualifier: [SK] }
      purchaseOrderNumber: { paths: [BEG03, "REF02[REF01=PO]"], required: true }
      references: { each: "REF[REF01!=IA]", fields: { qualifier: REF01, value: REF02 } }
separators: { element: "*", component: ">", segment: "~", lineEnding: "\n" }
acknowledgements: { functional: "999", ta1: never, purchaseOrder: false }
duplicates: { windowDays: 10, policy: reject }
EOF
    echo "== $target: $((count + 1)) seed files from $root/mappings"
}

# seed_documents DIR (translator): the purchase orders of the mapping fixtures and of examples/, and the EDI core's
# corpus (other documents and broken ones).
seed_documents() {
    local dir=$1 file count=0
    rm -rf "$dir"
    mkdir -p "$dir"
    while IFS= read -r -d '' file; do
        cp "$file" "$dir/$(echo "${file#"$root"/}" | tr / _)"
        count=$((count + 1))
    done < <(find "$root/Tests/OrderMappingTests/Fixtures/corpus" "$root/Tests/EDISyntaxTests/Fixtures/corpus" \
        "$root/examples" -type f \( -name '*.edi' -o -name '*.x12' -o -name '*.txt' -o -name '*.xml' \) \
        ! -name '*.json' -print0 2>/dev/null)
    echo "== $target: $count seed documents"
}

case ${1:-} in
    build) build "${2:?binary path}" ;;
    seed) if [[ $target == translator ]]; then seed_documents "${2:?seed folder}"; else seed "${2:?seed folder}"; fi ;;
    *)
        echo "usage: $0 build BINARY | seed DIR" >&2
        exit 2
        ;;
esac
