// libFuzzer target: EDIReader on X12.
//
// Built by fuzz/run.sh together with every Sources/EDISyntax/*.swift into one module, so it uses the library's public
// API exactly as a client would. The reader picks its dialect from the first tag; to keep mutations in the body of the
// interchange, an input that does not start with `ISA` gets a fixed, valid ISA (version 00501, so `^` is the
// repetition separator and `>` the component separator) put in front of it.
//
// The reading itself is `fuzzReader` in fuzz/Support/FuzzSupport.swift, shared with the EDIFACT/X12 twin.

private let isaPrefix: [UInt8] = Array(
    "ISA*00*          *00*          *ZZ*SENDERID       *ZZ*RECEIVERID     *240301*1200*^*00501*000000001*0*P*>~".utf8
)

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzX12Reader(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    fuzzReader(data, size, header: isaPrefix, hasHeader: { $0.starts(with: Array("ISA".utf8)) })
    return 0
}
