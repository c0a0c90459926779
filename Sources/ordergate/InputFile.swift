import ArgumentParser
import EDISyntax
import Glibc

/// An input file opened for reading; the descriptor is closed when the value is released.
final class InputFile {
    let path: String
    let descriptor: Int32
    let size: Int

    /// Opens `path` or fails with a one-line reason (missing, a folder, unreadable).
    init(path: String) throws(InputFileError) {
        self.path = path
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { throw InputFileError(path: path, reason: String(cString: strerror(errno))) }
        var status = stat()
        guard fstat(descriptor, &status) == 0 else {
            let reason = String(cString: strerror(errno))
            close(descriptor)
            throw InputFileError(path: path, reason: reason)
        }
        guard status.st_mode & S_IFMT == S_IFREG else {
            close(descriptor)
            throw InputFileError(path: path, reason: "not a regular file")
        }
        self.descriptor = descriptor
        self.size = Int(status.st_size)
    }

    deinit { close(self.descriptor) }

    func makeReader() -> EDIReader {
        EDIReader(
            source: FileDescriptorByteSource(fileDescriptor: self.descriptor),
            bufferSize: max(4096, min(self.size + 16, 1 << 20))
        )
    }
}

struct InputFileError: Error, CustomStringConvertible {
    var path: String
    var reason: String
    var description: String { "\(self.path): \(self.reason)" }
}

/// sysexits(3) codes the commands exit with.
enum ExitStatus {
    /// EX_DATAERR: the input is not valid.
    static let dataError = ExitCode(65)
    /// EX_NOINPUT: an input file is missing or unreadable.
    static let noInput = ExitCode(66)
    /// EX_CONFIG: the mapping files or configuration have errors.
    static let configurationError = ExitCode(78)
}

/// Writes a line to standard error.
func printError(_ text: String) {
    writeToStandardError(text + "\n")
}

/// Shows how far a long run has come, on a terminal only.
struct Progress {
    private let label: String
    private let total: Int
    private let isEnabled: Bool
    private var lastPercent = -1

    init(label: String, total: Int) {
        self.label = label
        self.total = total
        self.isEnabled = isatty(2) != 0 && total >= 32 << 20
    }

    mutating func update(_ done: Int) {
        guard self.isEnabled, self.total > 0 else { return }
        let percent = min(100, done * 100 / self.total)
        guard percent != self.lastPercent else { return }
        self.lastPercent = percent
        writeToStandardError("\r\(self.label): \(percent)% of \(self.total >> 20) MB")
    }

    func finish() {
        guard self.isEnabled else { return }
        writeToStandardError("\r\u{1B}[K")
    }
}

private func writeToStandardError(_ text: String) {
    var bytes = Array(text.utf8)
    var offset = 0
    while offset < bytes.count {
        let written = bytes.withUnsafeMutableBytes { write(2, $0.baseAddress! + offset, $0.count - offset) }
        guard written > 0 else { return }
        offset += written
    }
}
