import Foundation

// Reading business-data files for `ordergate import`: CSV (RFC 4180) or JSON (an array of objects, or one object per
// line), each record a set of named text fields with the line it starts on, so that every error can name its line.

/// One problem in an import file: where and what.
public struct ImportIssue: Error, Hashable, Sendable, CustomStringConvertible {
    public var file: String
    public var line: Int
    /// The column (field name), when the problem is one field's.
    public var field: String?
    public var message: String

    public var description: String {
        "\(self.file):\(self.line): " + (self.field.map { "\($0): " } ?? "") + self.message
    }
}

/// The problems of an import file; nothing was loaded.
public struct ImportErrors: Error, Sendable, CustomStringConvertible {
    public var issues: [ImportIssue]
    public var description: String { self.issues.map(\.description).joined(separator: "\n") }
}

/// A record of an import file: its fields by name, and the line it starts on.
struct ImportRecord {
    var line: Int
    var fields: [String: String]
}

enum ImportTable {
    /// Reads a CSV or JSON file (JSON when its first character is `[` or `{`). `columns` are the names the kind
    /// knows: an unknown column or key is an error (a typo must not be silently ignored).
    static func read(_ bytes: [UInt8], file: String, columns: [String]) throws(ImportErrors) -> [ImportRecord] {
        var text = bytes[...]
        if text.starts(with: [0xEF, 0xBB, 0xBF]) { text = text.dropFirst(3) }
        let first = text.first { ![0x20, 0x09, 0x0A, 0x0D].contains($0) }
        let records: [ImportRecord]
        var issues: [ImportIssue] = []
        func unknown(_ name: String, line: Int) {
            let message = "unknown column (known: \(columns.joined(separator: ", ")))"
            issues.append(ImportIssue(file: file, line: line, field: name, message: message))
        }
        if first == UInt8(ascii: "[") || first == UInt8(ascii: "{") {
            var parser = JSONRecords(bytes: Array(text), file: file)
            records = try parser.records()
            for record in records {
                for key in record.fields.keys.sorted() where !columns.contains(key) { unknown(key, line: record.line) }
            }
        } else {
            let (names, rows, headerLine) = try self.csv(Array(text), file: file)
            records = rows
            for name in names where !columns.contains(name) { unknown(name, line: headerLine) }
        }
        if !issues.isEmpty { throw ImportErrors(issues: issues) }
        return records
    }

    /// RFC 4180: a header line of names, then records; quoted fields may hold commas, quotes (doubled) and line
    /// breaks. Empty lines are skipped.
    static func csv(
        _ bytes: [UInt8],
        file: String
    ) throws(ImportErrors) -> (names: [String], [ImportRecord], headerLine: Int) {
        var rows: [(line: Int, fields: [String])] = []
        var fields: [String] = []
        var field: [UInt8] = []
        var line = 1
        var rowLine = 1
        var index = 0
        var quoted = false
        var fieldStarted = false
        func endField() {
            fields.append(String(decoding: field, as: UTF8.self))
            field.removeAll(keepingCapacity: true)
            fieldStarted = false
        }
        func endRow() {
            endField()
            if !(fields.count == 1 && fields[0].isEmpty) { rows.append((rowLine, fields)) }
            fields.removeAll()
        }
        while index < bytes.count {
            let byte = bytes[index]
            if quoted {
                if byte == UInt8(ascii: "\"") {
                    if index + 1 < bytes.count && bytes[index + 1] == UInt8(ascii: "\"") {
                        field.append(byte)
                        index += 1
                    } else {
                        quoted = false
                        let next = index + 1 < bytes.count ? bytes[index + 1] : UInt8(ascii: ",")
                        if ![UInt8(ascii: ","), 0x0A, 0x0D, 0x20, 0x09].contains(next) {
                            throw ImportErrors(issues: [
                                ImportIssue(
                                    file: file,
                                    line: line,
                                    field: nil,
                                    message: "text after the closing quote of a field"
                                )
                            ])
                        }
                    }
                } else {
                    if byte == 0x0A { line += 1 }
                    field.append(byte)
                }
            } else {
                switch byte {
                case UInt8(ascii: "\"") where !fieldStarted && field.isEmpty:
                    quoted = true
                    fieldStarted = true
                case UInt8(ascii: ","): endField()
                case 0x0D where index + 1 < bytes.count && bytes[index + 1] == 0x0A: break
                case 0x0A:
                    endRow()
                    line += 1
                    rowLine = line
                default:
                    field.append(byte)
                    fieldStarted = true
                }
            }
            index += 1
        }
        if quoted {
            throw ImportErrors(issues: [
                ImportIssue(file: file, line: rowLine, field: nil, message: "a quoted field is not closed")
            ])
        }
        if fieldStarted || !field.isEmpty || !fields.isEmpty { endRow() }
        guard let header = rows.first else { return ([], [], 1) }
        let names = header.fields.map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }
        var issues: [ImportIssue] = []
        if let empty = names.firstIndex(where: \.isEmpty) {
            issues.append(
                ImportIssue(file: file, line: header.line, field: nil, message: "column \(empty + 1) has no name")
            )
        }
        for (index, name) in names.enumerated() where !name.isEmpty && names[..<index].contains(name) {
            issues.append(ImportIssue(file: file, line: header.line, field: name, message: "the column is named twice"))
        }
        var records: [ImportRecord] = []
        for row in rows.dropFirst() {
            guard row.fields.count == names.count else {
                issues.append(
                    ImportIssue(
                        file: file,
                        line: row.line,
                        field: nil,
                        message: "\(row.fields.count) fields, the header has \(names.count)"
                    )
                )
                continue
            }
            var values: [String: String] = [:]
            for (name, value) in zip(names, row.fields) {
                let trimmed = value.trimmingCharacters(in: .whitespacesAndNewlines)
                if !trimmed.isEmpty { values[name] = trimmed }
            }
            records.append(ImportRecord(line: row.line, fields: values))
        }
        if !issues.isEmpty { throw ImportErrors(issues: issues) }
        return (names, records, header.line)
    }
}

/// A small JSON reader for import files: an array of flat objects, or one object per line. Numbers are kept as
/// their text (money must not pass through a binary floating point); nested objects become `KEY=value;…` and arrays
/// `a;b`, the list forms the CSV columns use.
private struct JSONRecords {
    let bytes: [UInt8]
    let file: String
    var index = 0
    var line = 1

    init(bytes: [UInt8], file: String) {
        self.bytes = bytes
        self.file = file
    }

    func error(_ message: String) -> ImportErrors {
        ImportErrors(issues: [ImportIssue(file: self.file, line: self.line, field: nil, message: message)])
    }

    mutating func records() throws(ImportErrors) -> [ImportRecord] {
        var records: [ImportRecord] = []
        self.skipSpace()
        if self.peek == UInt8(ascii: "[") {
            self.index += 1
            self.skipSpace()
            if self.peek == UInt8(ascii: "]") {
                self.index += 1
            } else {
                while true {
                    self.skipSpace()
                    let line = self.line
                    records.append(ImportRecord(line: line, fields: try self.object()))
                    self.skipSpace()
                    if self.peek == UInt8(ascii: ",") {
                        self.index += 1
                        continue
                    }
                    guard self.peek == UInt8(ascii: "]") else { throw self.error("expected , or ] after a record") }
                    self.index += 1
                    break
                }
            }
        } else {
            // JSON Lines: one object per line.
            while self.peek != nil {
                let line = self.line
                records.append(ImportRecord(line: line, fields: try self.object()))
                self.skipSpace()
            }
        }
        self.skipSpace()
        if self.peek != nil { throw self.error("unexpected text after the records") }
        return records
    }

    var peek: UInt8? { self.index < self.bytes.count ? self.bytes[self.index] : nil }

    mutating func skipSpace() {
        while let byte = self.peek, byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D {
            if byte == 0x0A { self.line += 1 }
            self.index += 1
        }
    }

    mutating func object() throws(ImportErrors) -> [String: String] {
        guard self.peek == UInt8(ascii: "{") else { throw self.error("expected a record (an object in braces)") }
        self.index += 1
        var fields: [String: String] = [:]
        var seen: Set<String> = []
        self.skipSpace()
        if self.peek == UInt8(ascii: "}") {
            self.index += 1
            return fields
        }
        while true {
            self.skipSpace()
            let key = try self.string()
            self.skipSpace()
            guard self.peek == UInt8(ascii: ":") else { throw self.error("expected : after \"\(key)\"") }
            self.index += 1
            self.skipSpace()
            if fields[key] != nil || seen.contains(key) { throw self.error("the key \"\(key)\" is given twice") }
            seen.insert(key)
            if let value = try self.value(nested: true) { fields[key] = value }
            self.skipSpace()
            if self.peek == UInt8(ascii: ",") {
                self.index += 1
                continue
            }
            guard self.peek == UInt8(ascii: "}") else { throw self.error("expected , or } in a record") }
            self.index += 1
            return fields
        }
    }

    /// A value as field text; nil for `null`.
    mutating func value(nested: Bool) throws(ImportErrors) -> String? {
        switch self.peek {
        case UInt8(ascii: "\""): return try self.string()
        case UInt8(ascii: "{") where nested:
            let pairs = try self.object()
            return pairs.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ";")
        case UInt8(ascii: "[") where nested:
            self.index += 1
            var items: [String] = []
            self.skipSpace()
            if self.peek == UInt8(ascii: "]") {
                self.index += 1
                return ""
            }
            while true {
                self.skipSpace()
                if let item = try self.value(nested: false) { items.append(item) }
                self.skipSpace()
                if self.peek == UInt8(ascii: ",") {
                    self.index += 1
                    continue
                }
                guard self.peek == UInt8(ascii: "]") else { throw self.error("expected , or ] in a list") }
                self.index += 1
                return items.joined(separator: ";")
            }
        default:
            let start = self.index
            while let byte = self.peek,
                !(byte == UInt8(ascii: ",") || byte == UInt8(ascii: "}")
                    || byte == UInt8(ascii: "]") || byte == 0x20 || byte == 0x0A || byte == 0x0D || byte == 0x09)
            {
                self.index += 1
            }
            let word = String(decoding: self.bytes[start..<self.index], as: UTF8.self)
            if word == "null" { return nil }
            if word == "true" || word == "false" { return word }
            guard Self.isNumber(word) else { throw self.error("\"\(word)\" is not a JSON value") }
            return word
        }
    }

    /// RFC 8259 number: `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`.
    static func isNumber(_ word: String) -> Bool {
        var bytes = word.utf8[...]
        func digits() -> Int {
            let count = bytes.prefix { $0 >= 0x30 && $0 <= 0x39 }.count
            bytes = bytes.dropFirst(count)
            return count
        }
        if bytes.first == UInt8(ascii: "-") { bytes = bytes.dropFirst() }
        if bytes.first == UInt8(ascii: "0") {
            bytes = bytes.dropFirst()
        } else if digits() == 0 {
            return false
        }
        if bytes.first == UInt8(ascii: ".") {
            bytes = bytes.dropFirst()
            if digits() == 0 { return false }
        }
        if bytes.first == UInt8(ascii: "e") || bytes.first == UInt8(ascii: "E") {
            bytes = bytes.dropFirst()
            if bytes.first == UInt8(ascii: "+") || bytes.first == UInt8(ascii: "-") { bytes = bytes.dropFirst() }
            if digits() == 0 { return false }
        }
        return bytes.isEmpty
    }

    mutating func string() throws(ImportErrors) -> String {
        guard self.peek == UInt8(ascii: "\"") else { throw self.error("expected a string") }
        self.index += 1
        var text: [UInt8] = []
        while let byte = self.peek {
            self.index += 1
            switch byte {
            case UInt8(ascii: "\""): return String(decoding: text, as: UTF8.self)
            case UInt8(ascii: "\\"):
                guard let escaped = self.peek else { break }
                self.index += 1
                switch escaped {
                case UInt8(ascii: "n"): text.append(0x0A)
                case UInt8(ascii: "t"): text.append(0x09)
                case UInt8(ascii: "r"): text.append(0x0D)
                case UInt8(ascii: "b"): text.append(0x08)
                case UInt8(ascii: "f"): text.append(0x0C)
                case UInt8(ascii: "u"):
                    guard self.index + 4 <= self.bytes.count,
                        let code = UInt32(
                            String(decoding: self.bytes[self.index..<self.index + 4], as: UTF8.self),
                            radix: 16
                        ),
                        let scalar = Unicode.Scalar(code)
                    else { throw self.error("a bad \\u escape") }
                    self.index += 4
                    text += Array(String(Character(scalar)).utf8)
                default: text.append(escaped)
                }
            case 0x0A: throw self.error("a line break inside a string")
            default: text.append(byte)
            }
        }
        throw self.error("a string is not closed")
    }
}
