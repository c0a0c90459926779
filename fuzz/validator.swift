// libFuzzer target: full validation (envelope and schema) of arbitrary bytes.
//
// Built by fuzz/run.sh together with every Sources/EDISyntax/*.swift into one module. The input goes in raw (no
// header is added), so dialect detection, XML/unknown-input handling and both dialects' envelopes and schemas are all
// in reach. Each input is validated twice:
//   1. `EDIValidator().validate(bytes:)`, the collecting API, and every value of the report is read;
//   2. the streaming API, `validate(_:onEvent:)`, over a reader fed a few bytes at a time (the chunk size comes from
//      the last input byte), building the same DocumentReport;
//   3. a plain `EDIReader(bytes:)` drained by hand, reading every segment, element, component and repetition value.
// With EDI_FUZZ_DIFFERENTIAL=1 in the environment the target also traps when the two passes disagree (segment count or
// the list of errors): how a source splits the bytes must not change what the validator finds.

#if canImport(Glibc)
import Glibc
#endif

// ChunkedByteSource, chunkSizes and touch(_: Segment): fuzz/Support/FuzzSupport.swift.
private let differential = getenv("EDI_FUZZ_DIFFERENTIAL").map { String(cString: $0) == "1" } ?? false

@inline(never)
private func touch(_ error: EDISyntaxError) -> Int {
    var sink = error.description.utf8.count &+ error.code.description.utf8.count &+ error.message.utf8.count
    sink &+= error.level.rawValue.utf8.count &+ (error.badData?.utf8.count ?? 0)
    sink &+= error.location.byteOffset &+ (error.location.elementPosition ?? 0) &+ (error.location.segmentTag?.count ?? 0)
    sink &+= (error.ackCodes.ta105?.count ?? 0) &+ (error.ackCodes.ak905?.count ?? 0)
    return sink
}

@inline(never)
private func touch(_ set: TransactionSetReport) -> Int {
    var sink = set.identifier.utf8.count &+ set.controlNumber.utf8.count &+ set.version.utf8.count
    sink &+= (set.implementationReference?.utf8.count ?? 0) &+ set.segmentCount &+ set.byteOffset
    sink &+= (set.isSupported ? 1 : 0) &+ (set.isAccepted ? 1 : 0)
    for error in set.errors { sink &+= touch(error) }
    return sink
}

@inline(never)
private func touch(_ report: DocumentReport) -> Int {
    var sink = report.segmentCount &+ report.byteCount &+ (report.isValid ? 1 : 0)
    sink &+= report.dialect?.rawValue.utf8.count ?? 0
    for error in report.allErrors { sink &+= touch(error) }
    for interchange in report.interchanges {
        if let header = interchange.header {
            sink &+= header.senderID.utf8.count &+ header.receiverID.utf8.count &+ header.controlNumber.utf8.count
            sink &+= header.syntaxVersion.utf8.count &+ header.date.utf8.count &+ header.time.utf8.count
            sink &+= (header.isTest ? 1 : 0) &+ (header.isAcknowledgementRequested ? 1 : 0)
        }
        sink &+= (interchange.delimiters?.utf8.count ?? 0) &+ interchange.groupCount &+ interchange.setCount
        for message in interchange.messages { sink &+= touch(message) }
        for group in interchange.groups {
            if let header = group.header {
                sink &+= header.functionalIdentifier.utf8.count &+ header.version.utf8.count &+ header.agency.utf8.count
            }
            sink &+= (group.declaredSetCount ?? 0) &+ group.receivedSetCount &+ group.acceptedSetCount
            for set in group.sets { sink &+= touch(set) }
        }
    }
    return sink
}

/// Builds the schema library (a process-wide lazy global) before the first input, so that its one-time allocation is
/// not attributed to an input by libFuzzer's leak check (see fuzz/lsan.supp).
@_cdecl("LLVMFuzzerInitialize")
public func fuzzValidatorInitialize(
    _ argc: UnsafeMutablePointer<CInt>?,
    _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>?
) -> CInt {
    let schemas = SchemaLibrary.standard
    _ = schemas.schema(dialect: .x12, identifier: "850", version: "004010")
    return 0
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzValidator(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? []
    let validator = EDIValidator()

    // 1. Collecting API.
    let report = validator.validate(bytes: bytes)
    var sink = touch(report)

    // 2. Streaming API over a chunked source, building the same report the collecting API builds.
    let selector = Int(bytes.last ?? 0)
    let reader = EDIReader(source: ChunkedByteSource(bytes: bytes, chunk: chunkSizes[selector & 7]), bufferSize: 4096)
    var streamed = DocumentReport(dialect: nil, interchanges: [], errors: [], segmentCount: 0, byteCount: bytes.count)
    do {
        streamed.segmentCount = try validator.validate(reader, collectChildren: true) { event in
            switch event {
            case .interchange(let interchange): streamed.interchanges.append(interchange)
            case .inputError(let error): streamed.errors.append(error)
            case .transactionSet(let set): sink &+= touch(set)
            case .group(let group): sink &+= group.receivedSetCount
            }
        }
    } catch {
        fatalError("EDIValidator threw for an in-memory source: \(error)")
    }
    streamed.dialect = reader.dialect
    sink &+= touch(streamed)
    if differential && streamed != report {
        let whole = report.allErrors.map { "\($0.code) @\($0.location.byteOffset): \($0.message)" }
        let chunked = streamed.allErrors.map { "\($0.code) @\($0.location.byteOffset): \($0.message)" }
        fatalError(
            """
            chunked streaming (chunk \(chunkSizes[selector & 7])) and validate(bytes:) disagree:
            segments \(streamed.segmentCount) vs \(report.segmentCount)
            chunked errors: \(chunked)
            whole errors:   \(whole)
            """
        )
    }

    // 3. The raw reader, touching every value of every segment.
    let plain = EDIReader(bytes: bytes)
    do {
        while let event = try plain.next() {
            switch event {
            case .interchangeStart(let segment), .groupStart(let segment), .transactionSetEnd(let segment),
                .groupEnd(let segment), .interchangeEnd(let segment):
                if let segment { sink &+= touch(segment) }
            case .transactionSetStart(let segment), .segment(let segment):
                sink &+= touch(segment)
            case .error(let error):
                sink &+= touch(error)
            }
        }
    } catch {
        fatalError("EDIReader threw for an in-memory source: \(error)")
    }
    if sink == -1 { print(sink) }
    return 0
}
