#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
#if os(Linux)
import CLinux
#endif

/// A failed file-system call, with the path and the system's reason.
public struct SpoolError: Error, Hashable, Sendable, CustomStringConvertible {
    public var operation: String
    public var path: String
    public var errno: Int32

    public init(_ operation: String, _ path: String, errno code: Int32) {
        self.operation = operation
        self.path = path
        self.errno = code
    }

    public var description: String {
        "\(self.operation) \(self.path): \(String(cString: strerror(self.errno)))"
    }

    /// The file or folder is not there.
    public var isMissing: Bool { self.errno == ENOENT }
}

/// Thin, checked wrappers over the POSIX calls the directory protocol needs. Everything that makes a file durable
/// (fsync of the file, then of its folder) is here, so that no caller forgets a step.
public enum FileSystem {
    /// What `stat` says about a regular file.
    public struct Status: Hashable, Sendable {
        public var size: Int
        /// Modification time in nanoseconds since the epoch.
        public var modified: Int64
        public var isRegularFile: Bool
        public var isDirectory: Bool
    }

    public static func status(_ path: String) throws(SpoolError) -> Status {
        var info = stat()
        guard stat(path, &info) == 0 else { throw SpoolError("stat", path, errno: errno) }
        let mode = info.st_mode & S_IFMT
        return Status(
            size: Int(info.st_size),
            modified: Int64(info.st_mtim.tv_sec) * 1_000_000_000 + Int64(info.st_mtim.tv_nsec),
            isRegularFile: mode == S_IFREG,
            isDirectory: mode == S_IFDIR
        )
    }

    public static func exists(_ path: String) -> Bool {
        access(path, F_OK) == 0
    }

    /// Creates `path` and its missing parents (mode 0750).
    public static func makeDirectories(_ path: String) throws(SpoolError) {
        if path.isEmpty || (try? self.status(path))?.isDirectory == true { return }
        let parent = self.parent(of: path)
        if parent != path && !parent.isEmpty { try self.makeDirectories(parent) }
        if mkdir(path, 0o750) != 0 && errno != EEXIST { throw SpoolError("mkdir", path, errno: errno) }
    }

    /// The names in a folder, without `.` and `..`, in no particular order.
    public static func list(_ path: String) throws(SpoolError) -> [String] {
        guard let directory = opendir(path) else { throw SpoolError("opendir", path, errno: errno) }
        defer { closedir(directory) }
        var names: [String] = []
        while let entry = readdir(directory) {
            let name = withUnsafePointer(to: entry.pointee.d_name) { pointer in
                pointer.withMemoryRebound(to: CChar.self, capacity: 256) { String(cString: $0) }
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names
    }

    /// `rename(2)`: atomic within one file system. Refuses to replace an existing `to`.
    public static func move(_ from: String, to: String) throws(SpoolError) {
        if let code = self.renameNoReplace(from, to) {
            switch code {
            case 0: return
            case EEXIST: throw SpoolError("rename (target exists)", to, errno: EEXIST)
            case ENOENT where !self.exists(from): throw SpoolError("rename", from, errno: ENOENT)
            default: throw SpoolError("rename \(from) to", to, errno: code)
            }
        }
        if !self.exists(from) { throw SpoolError("rename", from, errno: ENOENT) }
        if self.exists(to) { throw SpoolError("rename (target exists)", to, errno: EEXIST) }
        guard rename(from, to) == 0 else { throw SpoolError("rename \(from) to", to, errno: errno) }
    }

    /// Gives a written file its final name, never replacing a file already there (`EEXIST`): one atomic rename
    /// where the file system can refuse to replace, else a hard link to the final name and the old name removed.
    public static func publish(_ temporary: String, as final: String) throws(SpoolError) {
        if let code = self.renameNoReplace(temporary, final) {
            guard code == 0 else { throw SpoolError("rename \(temporary) to", final, errno: code) }
            return
        }
        guard link(temporary, final) == 0 else { throw SpoolError("link \(temporary) to", final, errno: errno) }
        try self.remove(temporary)
    }

    /// Renames without replacing, in one step: 0, or the error number; nil where the system or the file system
    /// cannot, so that the caller checks and renames.
    private static func renameNoReplace(_ from: String, _ to: String) -> Int32? {
        #if os(Linux)
        if clinux_rename_noreplace(from, to) == 0 { return 0 }
        let code = errno
        return code == EINVAL || code == ENOSYS ? nil : code
        #else
        return nil
        #endif
    }

    /// Makes a folder's entries (new names, renames) durable.
    public static func syncDirectory(_ path: String) throws(SpoolError) {
        let fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw SpoolError("open", path, errno: errno) }
        defer { close(fd) }
        guard fsync(fd) == 0 else { throw SpoolError("fsync", path, errno: errno) }
    }

    /// Reads a whole file.
    public static func read(_ path: String, limit: Int = Int.max) throws(SpoolError) -> [UInt8] {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw SpoolError("open", path, errno: errno) }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let count = chunk.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                throw SpoolError("read", path, errno: errno)
            }
            if count == 0 { break }
            bytes.append(contentsOf: chunk[0..<count])
            if bytes.count > limit { throw SpoolError("read (larger than the limit)", path, errno: EFBIG) }
        }
        return bytes
    }

    /// Reads at most `count` bytes from `offset`.
    public static func read(_ path: String, offset: Int, count: Int) throws(SpoolError) -> [UInt8] {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw SpoolError("open", path, errno: errno) }
        defer { close(fd) }
        var bytes = [UInt8](repeating: 0, count: count)
        var filled = 0
        while filled < count {
            let got = bytes.withUnsafeMutableBytes {
                pread(fd, $0.baseAddress! + filled, count - filled, off_t(offset + filled))
            }
            if got < 0 {
                if errno == EINTR { continue }
                throw SpoolError("read", path, errno: errno)
            }
            if got == 0 { break }
            filled += got
        }
        return Array(bytes[0..<filled])
    }

    /// Writes `bytes` to a new file `path` (never an existing one), and fsyncs it unless `sync` is false (the caller
    /// then makes it durable with a `FileSystemSync` of its file system). The folder is not synced.
    public static func createFile(
        _ path: String,
        bytes: [UInt8],
        mode: mode_t = 0o640,
        sync: Bool = true
    ) throws(SpoolError) {
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode)
        guard fd >= 0 else { throw SpoolError("create", path, errno: errno) }
        var failure: SpoolError?
        var written = 0
        while written < bytes.count {
            let count = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress! + written, bytes.count - written) }
            if count < 0 {
                if errno == EINTR { continue }
                failure = SpoolError("write", path, errno: errno)
                break
            }
            written += count
        }
        if failure == nil && sync && fsync(fd) != 0 { failure = SpoolError("fsync", path, errno: errno) }
        if close(fd) != 0 && failure == nil { failure = SpoolError("close", path, errno: errno) }
        if let failure {
            unlink(path)
            throw failure
        }
    }

    public static func remove(_ path: String) throws(SpoolError) {
        guard unlink(path) == 0 else { throw SpoolError("unlink", path, errno: errno) }
    }

    public static func parent(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        if slash == path.startIndex { return "/" }
        return String(path[..<slash])
    }

    /// The last path component.
    public static func baseName(of path: String) -> String {
        path.split(separator: "/").last.map(String.init) ?? path
    }

    /// `a/b` joined, keeping an absolute `b` as it is.
    public static func join(_ base: String, _ path: String) -> String {
        if path.hasPrefix("/") || base.isEmpty { return path }
        return base.hasSuffix("/") ? base + path : base + "/" + path
    }
}

/// One `syncfs(2)` for a batch of new files: it makes every file of the file system that holds `path` durable, as an
/// fsync of each would, with one journal commit instead of one per file. Open it before the batch is written:
/// `sync()` reports the write-back errors of the file system since then (Linux 5.8 and later).
public final class FileSystemSync {
    public let path: String
    private let fd: Int32

    /// `syncfs` is a GNU extension that the Glibc module does not declare: found in the C library at run time.
    private static let syncfs: (@convention(c) (Int32) -> Int32)? = {
        guard let symbol = dlsym(nil, "syncfs") else { return nil }
        return unsafeBitCast(symbol, to: (@convention(c) (Int32) -> Int32).self)
    }()

    public init(_ path: String) throws(SpoolError) {
        self.path = path
        self.fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard self.fd >= 0 else { throw SpoolError("open", path, errno: errno) }
    }

    deinit {
        close(self.fd)
    }

    /// The file system's device, to sync each file system once.
    public func device() throws(SpoolError) -> UInt64 {
        var info = stat()
        guard fstat(self.fd, &info) == 0 else { throw SpoolError("stat", self.path, errno: errno) }
        return UInt64(info.st_dev)
    }

    public func sync() throws(SpoolError) {
        // Without syncfs in the C library (not Linux), `sync(2)`: the same guarantee for every file system.
        guard let syncfs = Self.syncfs else {
            Glibc.sync()
            return
        }
        guard syncfs(self.fd) == 0 else { throw SpoolError("syncfs", self.path, errno: errno) }
    }
}
