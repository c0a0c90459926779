// libFuzzer target: EDIReader on EDIFACT.
//
// Built by fuzz/run.sh together with every Sources/EDISyntax/*.swift into one module, so it uses the library's public
// API exactly as a client would. The reader picks its dialect from the first tag; to keep mutations in the body of the
// interchange, an input that starts with neither `UNA` nor `UNB` gets a fixed, valid UNA service string (syntax 4
// delimiters, with `*` as the repetition separator and `?` as the release character) and UNB put in front of it.
//
// The reading itself is `fuzzReader` in fuzz/Support/FuzzSupport.swift, shared with the EDIFACT/X12 twin.

private let unbPrefix: [UInt8] = Array("UNA:+.?*'UNB+UNOC:4+5412345000013:14+4012345000009:14+240301:1200+1'".utf8)

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzEDIFACTReader(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    fuzzReader(data, size, header: unbPrefix, hasHeader: { $0.starts(with: Array("UNA".utf8)) || $0.starts(with: Array("UNB".utf8)) })
    return 0
}
