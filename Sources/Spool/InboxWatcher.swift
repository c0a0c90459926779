#if canImport(Glibc)
import Glibc

/// inotify on the inbox folders: a hint that something arrived, so that pickup is immediate. It is only a hint:
/// the caller rescans the folders on every wake-up, on an interval and after an overflow, so a missed or dropped
/// event delays a file by at most one interval and never loses it.
public final class InboxWatcher: @unchecked Sendable {
    private let fd: Int32
    private var watches: [Int32: String] = [:]

    /// What a wait saw.
    public enum Wake: Hashable, Sendable {
        /// Something changed in `folders`; `closedFiles` (paths) were closed by their writer or moved in whole.
        case changed(folders: Set<String>, closedFiles: Set<String>)
        /// The kernel's queue overflowed: rescan everything.
        case overflow
        case timeout
    }

    public init() throws(SpoolError) {
        let fd = inotify_init1(Int32(IN_NONBLOCK | IN_CLOEXEC))
        guard fd >= 0 else { throw SpoolError("inotify_init1", "", errno: errno) }
        self.fd = fd
    }

    deinit {
        close(self.fd)
    }

    /// Watches `folder` for files closed after writing or moved in.
    public func watch(_ folder: String) throws(SpoolError) {
        if self.watches.values.contains(folder) { return }
        let mask = UInt32(IN_CLOSE_WRITE) | UInt32(IN_MOVED_TO) | UInt32(IN_ATTRIB) | UInt32(IN_DELETE_SELF)
        let descriptor = inotify_add_watch(self.fd, folder, mask)
        guard descriptor >= 0 else { throw SpoolError("inotify_add_watch", folder, errno: errno) }
        self.watches[descriptor] = folder
    }

    /// Blocks the calling thread for up to `timeoutMilliseconds` until an event arrives.
    public func wait(timeoutMilliseconds: Int32) -> Wake {
        var descriptor = pollfd(fd: self.fd, events: Int16(POLLIN), revents: 0)
        let ready = poll(&descriptor, 1, timeoutMilliseconds)
        if ready <= 0 { return .timeout }
        var folders: Set<String> = []
        var closedFiles: Set<String> = []
        var overflow = false
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            let count = buffer.withUnsafeMutableBytes { Glibc.read(self.fd, $0.baseAddress, $0.count) }
            if count <= 0 { break }
            var offset = 0
            let headerSize = MemoryLayout<inotify_event>.size
            while offset + headerSize <= count {
                let (wd, mask, length) = buffer.withUnsafeBytes { raw -> (Int32, UInt32, Int) in
                    let event = raw.loadUnaligned(fromByteOffset: offset, as: inotify_event.self)
                    return (event.wd, event.mask, Int(event.len))
                }
                if mask & UInt32(IN_Q_OVERFLOW) != 0 { overflow = true }
                if mask & UInt32(IN_IGNORED) != 0 { self.watches[wd] = nil }
                if let folder = self.watches[wd] {
                    folders.insert(folder)
                    let closing = UInt32(IN_CLOSE_WRITE) | UInt32(IN_MOVED_TO)
                    if mask & closing != 0, length > 0, offset + headerSize + length <= count {
                        // The name follows the header, padded with NULs.
                        let start = offset + headerSize
                        let name = buffer[start..<(start + length)].prefix { $0 != 0 }
                        if !name.isEmpty { closedFiles.insert(folder + "/" + String(decoding: name, as: UTF8.self)) }
                    }
                }
                offset += headerSize + length
            }
        }
        if overflow { return .overflow }
        return folders.isEmpty ? .timeout : .changed(folders: folders, closedFiles: closedFiles)
    }
}
#endif
