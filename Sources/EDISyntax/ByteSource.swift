import Glibc

/// Where a reader gets its bytes: an in-memory buffer or a file descriptor that the caller opened.
///
/// EDISyntax never opens, names or closes files; a caller hands it bytes or a descriptor it owns.
public protocol ByteSource {
    /// Fills up to `buffer.count` bytes and returns how many were written; 0 means the end of the input.
    mutating func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int
}

/// A `ByteSource` over bytes already in memory.
public struct BufferByteSource: ByteSource {
    private let bytes: [UInt8]
    private var offset = 0

    public init(_ bytes: [UInt8]) {
        self.bytes = bytes
    }

    public init(_ string: String) {
        self.bytes = Array(string.utf8)
    }

    public mutating func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        let count = min(buffer.count, self.bytes.count - self.offset)
        guard count > 0 else { return 0 }
        self.bytes.withUnsafeBytes { source in
            buffer.baseAddress!.copyMemory(from: source.baseAddress! + self.offset, byteCount: count)
        }
        self.offset += count
        return count
    }
}

/// A `ByteSource` reading from an open file descriptor, which stays the caller's to close.
public struct FileDescriptorByteSource: ByteSource {
    /// `read(2)` failed.
    public struct ReadError: Error, CustomStringConvertible {
        public var errno: Int32
        public var description: String { String(cString: strerror(self.errno)) }
    }

    public let fileDescriptor: Int32

    public init(fileDescriptor: Int32) {
        self.fileDescriptor = fileDescriptor
    }

    public mutating func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        while true {
            let count = Glibc.read(self.fileDescriptor, buffer.baseAddress, buffer.count)
            if count >= 0 { return count }
            if errno == EINTR { continue }
            throw ReadError(errno: errno)
        }
    }
}
