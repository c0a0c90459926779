// libFuzzer target: translation of fuzzed documents with the shipped mappings (`Translator`, OrderMapping).
//
// The input is a document: X12 or EDIFACT (read by `translateEDI`, with the partner found from the envelope, then
// given as acme and as nordhandel), or XML when its first non-blank byte is `<` (`translateXML`). Issues are the
// expected outcome for most inputs; the target traps on a crash or a hang, and, for EDI, when the maps' compiled
// programs (`EDIProgram`, the hot path) and the general resolver (maps loaded with
// `MappingCompilation.compilesEDIPrograms` off) give different canonical values or issues: a differential check of
// the compiled programs on any document the fuzzer finds.
//
// The maps are the repository's `mappings/` folder, found from the binary's place (fuzz/.out/bin/translator) or
// from `ORDERGATE_MAPPINGS`. Built by fuzz/mapping_loader.sh (through fuzz/translator.sh), which compiles Yams,
// EDISyntax, XMLSyntax, OrderModel and OrderMapping as separate instrumented modules; see fuzz/README.md.

import EDISyntax
import Foundation
@_spi(Testing) import OrderMapping
import OrderModel

/// `TRANSLATOR_VERBOSE=1`: print what each input gave, to study an artifact.
nonisolated(unsafe) private var verbose = false
nonisolated(unsafe) private var compiled: Translator?
nonisolated(unsafe) private var general: Translator?

/// The repository's mapping files.
private func mappingFiles() -> [(path: String, text: String)] {
    var folder = ProcessInfo.processInfo.environment["ORDERGATE_MAPPINGS"]
    if folder == nil, let binary = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") {
        // fuzz/.out/bin/translator -> the repository's mappings/
        folder =
            URL(fileURLWithPath: binary).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("mappings").path
    }
    guard let folder, let enumerator = FileManager.default.enumerator(atPath: folder) else {
        fatalError("translator: no mappings folder (set ORDERGATE_MAPPINGS)")
    }
    var files: [(String, String)] = []
    while let relative = enumerator.nextObject() as? String {
        guard relative.hasSuffix(".yaml"),
            let text = try? String(contentsOfFile: folder + "/" + relative, encoding: .utf8)
        else { continue }
        files.append((relative, text))
    }
    guard !files.isEmpty else { fatalError("translator: no mapping files in \(folder)") }
    return files
}

private func load() {
    let files = mappingFiles()
    do {
        compiled = Translator(mappings: try MappingSet.load(files: files))
        general = Translator(
            mappings: try MappingCompilation.$compilesEDIPrograms.withValue(false) { try MappingSet.load(files: files) }
        )
    } catch {
        fatalError("translator: the shipped mappings do not load: \(error)")
    }
}

/// What a translation gave, comparable: each value's canonical JSON, each issue's message and place.
private func results(_ translator: Translator, _ bytes: [UInt8], partner: String?) -> [String] {
    var results: [String] = []
    do {
        let issues = try translator.translateEDI(source: BufferByteSource(bytes), partnerID: partner) { document in
            switch document.value {
            case .order(let value): results.append(try CanonicalJSON.encode(value))
            case .acknowledgement(let value): results.append(try CanonicalJSON.encode(value))
            case .shipNotice(let value): results.append(try CanonicalJSON.encode(value))
            case .invoice(let value): results.append(try CanonicalJSON.encode(value))
            }
        }
        results += issues.map { "issue: \($0.message) at \($0.byteOffset ?? -1)" }
    } catch {
        results.append("error: \(error)")
    }
    return results
}

/// The maps are loaded once, before the first input, so that no input is blamed for them. They live for the whole
/// process; LeakSanitizer cannot see class references held in multi-payload enums (the case tag sits in the
/// pointer's spare bits), so fuzz/lsan.supp suppresses what `load()` allocates.
@_cdecl("LLVMFuzzerInitialize")
public func fuzzTranslatorInitialize(
    _ argc: UnsafeMutablePointer<CInt>?,
    _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>?
) -> CInt {
    verbose = ProcessInfo.processInfo.environment["TRANSLATOR_VERBOSE"] == "1"
    load()
    return 0
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? []
    let first = bytes.first { ![0x20, 0x09, 0x0A, 0x0D, 0xEF, 0xBB, 0xBF].contains($0) }
    if first == UInt8(ascii: "<") {
        var offset = 0
        let issues = try? compiled!.translateXML(
            documentName: "input",
            read: { buffer in
                let count = min(buffer.count, bytes.count - offset)
                bytes.withUnsafeBytes { source in
                    buffer.copyMemory(from: UnsafeRawBufferPointer(rebasing: source[offset..<(offset + count)]))
                }
                offset += count
                return count
            },
            { document in if verbose { print(document.value) } }
        )
        if verbose { print(issues ?? []) }
        return 0
    }
    for partner in [nil, "acme", "nordhandel"] {
        let fast = results(compiled!, bytes, partner: partner)
        let slow = results(general!, bytes, partner: partner)
        if verbose { print(partner ?? "(envelope)", fast) }
        if fast != slow {
            fatalError(
                "translator: compiled programs and general resolver differ (partner \(partner ?? "none")):\n"
                    + "compiled: \(fast)\ngeneral: \(slow)"
            )
        }
    }
    return 0
}
