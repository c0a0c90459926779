import Foundation
import Testing
import XMLSyntax

/// Fixture files beside the tests. The corpus copies keep their provenance in Fixtures/corpus/PROVENANCE.md.
enum Fixtures {
    static let root = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent()
        .deletingLastPathComponent()
        .appendingPathComponent("Fixtures")

    static func bytes(_ relativePath: String) throws -> [UInt8] {
        Array(try Data(contentsOf: self.root.appendingPathComponent(relativePath)))
    }

    /// The file names of the XML corpus (Fixtures/corpus/*.xml).
    static let corpus: [String] = {
        let folder = root.appendingPathComponent("corpus")
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
        return names.filter { $0.hasSuffix(".xml") }.sorted()
    }()
}

/// Reads a document given as text, fed to the reader `chunk` bytes per `read`.
func readDocument(
    _ text: String,
    limits: XMLLimits = .default,
    chunk: Int = .max
) throws(XMLSyntaxError) -> XMLElement {
    try XMLStreamReader(limits: limits, read: chunked(Array(text.utf8), chunk: chunk)).readDocument()
}

/// Reads a document given as bytes, fed to the reader `chunk` bytes per `read`.
func readDocument(
    _ bytes: [UInt8],
    limits: XMLLimits = .default,
    chunk: Int = .max
) throws(XMLSyntaxError) -> XMLElement {
    try XMLStreamReader(limits: limits, read: chunked(bytes, chunk: chunk)).readDocument()
}

/// The error `body` throws, or nil.
func syntaxError(_ body: () throws(XMLSyntaxError) -> some Any) -> XMLSyntaxError? {
    do {
        _ = try body()
        return nil
    } catch {
        return error
    }
}

/// A `read` closure that hands `bytes` over at most `chunk` bytes at a time, like a pipe.
func chunked(_ bytes: [UInt8], chunk: Int) -> (UnsafeMutableRawBufferPointer) throws -> Int {
    var offset = 0
    return { buffer in
        let count = min(buffer.count, chunk, bytes.count - offset)
        guard count > 0 else { return 0 }
        bytes.withUnsafeBytes { source in
            buffer.baseAddress!.copyMemory(from: source.baseAddress! + offset, byteCount: count)
        }
        offset += count
        return count
    }
}

/// What `body` writes to the process's standard error (file descriptor 2).
func capturingStandardError(_ body: () -> Void) throws -> String {
    var ends: [Int32] = [0, 0]
    guard pipe(&ends) == 0 else { throw POSIXError(.EIO) }
    let saved = dup(2)
    dup2(ends[1], 2)
    body()
    dup2(saved, 2)
    close(saved)
    close(ends[1])
    var output: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 4096)
    while true {
        let count = read(ends[0], &chunk, chunk.count)
        guard count > 0 else { break }
        output += chunk[..<count]
    }
    close(ends[0])
    return String(decoding: output, as: UTF8.self)
}

/// How long `body` takes.
func elapsed(_ body: () -> Void) -> Duration {
    ContinuousClock().measure(body)
}

/// A TCP socket listening on 127.0.0.1 on a free port, to prove that nothing connects to it.
final class LocalListener {
    let port: Int
    private let socket: Int32

    init() throws {
        let fd = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw POSIXError(.EIO) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard bound == 0, listen(fd, 8) == 0 else {
            close(fd)
            throw POSIXError(.EIO)
        }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        self.port = Int(UInt16(bigEndian: address.sin_port))
        self.socket = fd
        _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
    }

    deinit {
        close(self.socket)
    }

    /// True when a connection is waiting to be accepted.
    var wasContacted: Bool {
        let connection = accept(self.socket, nil, nil)
        guard connection >= 0 else { return false }
        close(connection)
        return true
    }
}
