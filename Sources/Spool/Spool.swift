#if canImport(Glibc)
import Glibc
#endif

/// The directory protocol (DESIGN.md): partners write into `inbox/<partner>/`; a ready file is claimed by `rename`
/// into `work/`, and after its transaction commits it moves, byte for byte, into `archive/YYYY/MM/DD/` (or into
/// `quarantine/` with a `.error.txt` report beside it). Nothing here deletes a partner's file. All folders must be on
/// one file system so that each move is one atomic `rename(2)`.
public struct Spool: Sendable {
    /// The daemon's own folders under the data folder.
    public let work: String
    public let archive: String
    public let quarantine: String

    public init(dataFolder: String) {
        self.work = FileSystem.join(dataFolder, "work")
        self.archive = FileSystem.join(dataFolder, "archive")
        self.quarantine = FileSystem.join(dataFolder, "quarantine")
    }

    /// Creates the daemon's folders.
    public func prepare() throws(SpoolError) {
        for folder in [self.work, self.archive, self.quarantine] { try FileSystem.makeDirectories(folder) }
    }

    /// Names a partner is still writing or that are not meant for us: hidden files and the usual temporary suffixes.
    public static func isTemporaryName(_ name: String) -> Bool {
        if name.hasPrefix(".") || name.hasPrefix("~") { return true }
        let lowered = name.lowercased()
        return [".tmp", ".part", ".partial", ".filepart", ".crdownload", ".swp", "~"].contains { lowered.hasSuffix($0) }
    }

    /// The regular, non-temporary files in one partner's inbox folder.
    public func candidates(in folder: String) throws(SpoolError) -> [InboxFile] {
        var files: [InboxFile] = []
        for name in try FileSystem.list(folder) where !Self.isTemporaryName(name) {
            let path = FileSystem.join(folder, name)
            guard let status = try? FileSystem.status(path), status.isRegularFile else { continue }
            files.append(InboxFile(path: path, name: name, size: status.size, modified: status.modified))
        }
        return files.sorted { ($0.modified, $0.name) < ($1.modified, $1.name) }
    }

    /// Claims an inbox file by renaming it into `work/` under `workName` (see `workName(partnerID:…)`). Returns nil
    /// when the file is gone (another process or an earlier pass claimed it).
    public func claim(_ file: InboxFile, workName: String) throws(SpoolError) -> String? {
        let target = FileSystem.join(self.work, workName)
        try FileSystem.makeDirectories(FileSystem.parent(of: target))
        do {
            try FileSystem.move(file.path, to: target)
        } catch let error where error.isMissing {
            return nil
        }
        return target
    }

    /// The unique name a file is claimed under: `<partner>/<claim time>-<random tag>-<original name>`, so that
    /// recovery knows whose a file in `work/` is, the archive keeps the partner's name, and two files of the same
    /// name never collide.
    public static func workName(partnerID: String?, originalName: String, at time: Int64, tag: UInt64) -> String {
        let stamp = CalendarDate(unixSeconds: time).compact
        var hex = String(tag, radix: 16)
        hex = String(repeating: "0", count: max(0, 12 - hex.count)) + hex
        let folder = partnerID.map { $0.isEmpty || $0.contains("/") || $0.hasPrefix(".") ? "_unknown" : $0 }
        return "\(folder ?? "_unknown")/\(stamp)-\(hex.suffix(12))-\(originalName)"
    }

    /// The partner folder of a work name (nil for `_unknown`).
    public static func partnerID(ofWorkName workName: String) -> String? {
        guard let slash = workName.firstIndex(of: "/") else { return nil }
        let folder = String(workName[..<slash])
        return folder == "_unknown" ? nil : folder
    }

    /// The original name inside a work name.
    public static func originalName(ofWorkName workName: String) -> String {
        let base = workName.split(separator: "/").last.map(String.init) ?? workName
        let parts = base.split(separator: "-", maxSplits: 2, omittingEmptySubsequences: false)
        return parts.count == 3 ? String(parts[2]) : base
    }

    /// The archive path (relative to the archive folder) of a work file processed at `time`:
    /// `YYYY/MM/DD/<partner>/<name>`.
    public static func archivePath(workName: String, at time: Int64) -> String {
        let date = CalendarDate(unixSeconds: time)
        return "\(date.yearText)/\(date.monthText)/\(date.dayText)/\(workName)"
    }

    /// Moves a committed work file, unchanged, to `archive/<relativePath>` and makes the move durable.
    public func archive(workName: String, relativePath: String) throws(SpoolError) {
        if let error = self.archive([(workName, relativePath)])[0] { throw error }
    }

    /// Moves committed work files, unchanged, to `archive/<relativePath>`, then makes the moves durable with one
    /// fsync per folder touched (a batch of files shares them). Returns one error (or nil) per file, in order. A
    /// file already moved (an earlier attempt's fsync failed) is only synced again, so a retry is always safe.
    public func archive(_ moves: [(workName: String, relativePath: String)]) -> [SpoolError?] {
        var errors = [SpoolError?](repeating: nil, count: moves.count)
        var created: Set<String> = []
        var touched: [String: [Int]] = [:]
        for (index, move) in moves.enumerated() {
            let source = FileSystem.join(self.work, move.workName)
            let target = FileSystem.join(self.archive, move.relativePath)
            let folder = FileSystem.parent(of: target)
            do {
                if created.insert(folder).inserted { try FileSystem.makeDirectories(folder) }
                do {
                    try FileSystem.move(source, to: target)
                } catch let error where error.isMissing && FileSystem.exists(target) {
                    // Moved by an earlier attempt whose folder fsync failed: only the fsync is left to do.
                }
                touched[folder, default: []].append(index)
                touched[FileSystem.parent(of: source), default: []].append(index)
            } catch {
                errors[index] = error
            }
        }
        for (folder, indexes) in touched {
            do {
                try FileSystem.syncDirectory(folder)
            } catch {
                for index in indexes where errors[index] == nil { errors[index] = error }
            }
        }
        return errors
    }

    /// Moves a work file to `quarantine/` with `<name>.error.txt` beside it saying what went wrong and where.
    public func quarantine(workName: String, report: String) throws(SpoolError) {
        let target = FileSystem.join(self.quarantine, workName)
        let folder = FileSystem.parent(of: target)
        try FileSystem.makeDirectories(folder)
        // The report is written whole under a temporary name and renamed, so a crash never leaves half a report;
        // one left by an earlier attempt is replaced (it is ours, not the partner's).
        let reportPath = target + ".error.txt"
        let temporary = FileSystem.join(folder, ".\(FileSystem.baseName(of: reportPath)).tmp")
        if FileSystem.exists(temporary) { try FileSystem.remove(temporary) }
        try FileSystem.createFile(temporary, bytes: Array(report.utf8))
        guard rename(temporary, reportPath) == 0 else { throw SpoolError("rename", reportPath, errno: errno) }
        let source = FileSystem.join(self.work, workName)
        try FileSystem.move(source, to: target)
        try FileSystem.syncDirectory(folder)
        try FileSystem.syncDirectory(FileSystem.parent(of: source))
    }

    /// Takes a document that arrived by another way than the inbox (an HTTP POST) straight into `work/`: written to a
    /// hidden temporary name, fsynced, renamed to its work name, and the folder fsynced — so that once this returns
    /// the document survives a crash (the recovery scan processes it), and a crash before leaves no half file.
    public func admit(_ bytes: [UInt8], workName: String) throws(SpoolError) {
        let target = FileSystem.join(self.work, workName)
        let folder = FileSystem.parent(of: target)
        try FileSystem.makeDirectories(folder)
        let temporary = FileSystem.join(folder, "." + FileSystem.baseName(of: target) + ".tmp")
        try FileSystem.createFile(temporary, bytes: bytes)
        do {
            try FileSystem.move(temporary, to: target)
        } catch {
            try? FileSystem.remove(temporary)
            throw error
        }
        try FileSystem.syncDirectory(folder)
    }

    /// Files left in `work/` (by a crash), as work names, for the recovery scan.
    public func workFiles() throws(SpoolError) -> [String] {
        var names: [String] = []
        for folder in try FileSystem.list(self.work) where !folder.hasPrefix(".") {
            let path = FileSystem.join(self.work, folder)
            guard (try? FileSystem.status(path))?.isDirectory == true else { continue }
            for name in try FileSystem.list(path) where !name.hasPrefix(".") { names.append("\(folder)/\(name)") }
        }
        return names.sorted()
    }
}

/// A file seen in an inbox folder.
public struct InboxFile: Hashable, Sendable {
    public var path: String
    public var name: String
    public var size: Int
    /// Modification time, nanoseconds since the epoch.
    public var modified: Int64

    public init(path: String, name: String, size: Int, modified: Int64) {
        self.path = path
        self.name = name
        self.size = size
        self.modified = modified
    }
}

/// A UTC calendar date and time from Unix seconds (for folder and file names and envelope stamps; no Foundation).
public struct CalendarDate: Sendable {
    public var year: Int
    public var month: Int
    public var day: Int
    public var hour: Int
    public var minute: Int
    public var second: Int

    public init(unixSeconds: Int64) {
        let days = Int(unixSeconds >= 0 ? unixSeconds / 86_400 : (unixSeconds - 86_399) / 86_400)
        let secondsOfDay = Int(unixSeconds - Int64(days) * 86_400)
        // Howard Hinnant's civil-from-days.
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let monthIndex = (5 * dayOfYear + 2) / 153
        self.day = dayOfYear - (153 * monthIndex + 2) / 5 + 1
        self.month = monthIndex < 10 ? monthIndex + 3 : monthIndex - 9
        self.year = yearOfEra + era * 400 + (self.month <= 2 ? 1 : 0)
        self.hour = secondsOfDay / 3600
        self.minute = secondsOfDay / 60 % 60
        self.second = secondsOfDay % 60
    }

    private static func pad(_ value: Int, _ width: Int) -> String {
        let text = String(value)
        return String(repeating: "0", count: max(0, width - text.count)) + text
    }

    var yearText: String { Self.pad(self.year, 4) }
    var monthText: String { Self.pad(self.month, 2) }
    var dayText: String { Self.pad(self.day, 2) }
    /// `20261123` (X12 and EDIFACT CCYYMMDD).
    public var ccyymmdd: String { self.yearText + self.monthText + self.dayText }
    /// `1015` (HHMM).
    public var hhmm: String { Self.pad(self.hour, 2) + Self.pad(self.minute, 2) }
    /// `20261123T101500Z`
    var compact: String {
        "\(self.yearText)\(self.monthText)\(self.dayText)T\(Self.pad(self.hour, 2))\(Self.pad(self.minute, 2))"
            + "\(Self.pad(self.second, 2))Z"
    }
}
