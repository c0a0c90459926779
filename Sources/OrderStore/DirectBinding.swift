import GRDB
import GRDBSQLite
import OrderModel

/// Values bound straight to a prepared statement through SQLite's C API, in parameter order.
///
/// The writes that every inbound file makes (its ledger row, sets, order, lines, status history, acknowledgements,
/// outbound rows) are executed through `Database.run(_:_:)` rather than `Statement.execute(arguments:)`: building
/// `StatementArguments` boxes each value in an existential and binds them through nested closures, which cost the
/// writer's thread more than SQLite itself did (measured on the daemon benchmark's commit stage).
struct DirectBinder {
    fileprivate let statement: SQLiteStatement
    fileprivate var index: CInt = 0
    /// The first bind that failed (a value too large for SQLite, out of memory), if any.
    fileprivate var failure: CInt = SQLITE_OK

    /// A JSON array of strings: one parameter that stands for a whole list (`IN (SELECT value FROM json_each(?))`).
    static func jsonArray(_ values: some Sequence<String>) -> [UInt8] {
        var list = CanonicalJSONWriter(compact: true)
        list.beginArray()
        for value in values {
            list.element()
            list.string(value)
        }
        list.endArray()
        return list.bytes
    }

    private mutating func check(_ code: CInt) {
        if code != SQLITE_OK && self.failure == SQLITE_OK { self.failure = code }
    }

    /// SQLite copies the bytes before the bind call returns.
    private static let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)

    mutating func bind(_ value: Int64?) {
        self.index += 1
        if let value { self.check(sqlite3_bind_int64(self.statement, self.index, value)) } else { self.bindNull() }
    }

    mutating func bind(_ value: Int?) {
        self.bind(value.map(Int64.init))
    }

    mutating func bind(_ value: Bool) {
        self.bind(Int64(value ? 1 : 0))
    }

    mutating func bind(_ value: String?) {
        guard var value else {
            self.index += 1
            return self.bindNull()
        }
        value.withUTF8 { self.bindText(UnsafeRawBufferPointer($0)) }
    }

    /// Binds UTF-8 bytes as text.
    mutating func bindText(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { self.bindText($0) }
    }

    private mutating func bindText(_ buffer: UnsafeRawBufferPointer) {
        self.index += 1
        // A non-null pointer even for "" (NULL would bind SQL NULL).
        let base = buffer.baseAddress ?? UnsafeRawPointer(("" as StaticString).utf8Start)
        self.check(
            sqlite3_bind_text(
                self.statement,
                self.index,
                base.assumingMemoryBound(to: CChar.self),
                CInt(buffer.count),
                Self.transient
            )
        )
    }

    /// Binds bytes as a BLOB.
    mutating func bindBlob(_ bytes: [UInt8]) {
        self.index += 1
        let code = bytes.withUnsafeBytes { buffer in
            // A zero-length BLOB, not NULL, for no bytes.
            guard let base = buffer.baseAddress else { return sqlite3_bind_zeroblob(self.statement, self.index, 0) }
            return sqlite3_bind_blob(self.statement, self.index, base, CInt(buffer.count), Self.transient)
        }
        self.check(code)
    }

    private mutating func bindNull() {
        self.check(sqlite3_bind_null(self.statement, self.index))
    }
}

/// The current row of a statement stepped by `Database.query(_:_:row:)`: columns by position, read through
/// SQLite's C API. Valid only inside the row closure.
struct DirectRow {
    fileprivate let statement: SQLiteStatement

    func isNull(_ column: CInt) -> Bool {
        sqlite3_column_type(self.statement, column) == SQLITE_NULL
    }

    func text(_ column: CInt) -> String? {
        guard let bytes = sqlite3_column_text(self.statement, column) else { return nil }
        let count = Int(sqlite3_column_bytes(self.statement, column))
        return String(decoding: UnsafeBufferPointer(start: bytes, count: count), as: UTF8.self)
    }

    func int64(_ column: CInt) -> Int64? {
        self.isNull(column) ? nil : sqlite3_column_int64(self.statement, column)
    }

    func int(_ column: CInt) -> Int? {
        self.int64(column).map(Int.init)
    }
}

extension Database {
    /// Executes a cached INSERT, UPDATE or DELETE whose parameters `bind` fills in order, through SQLite's C API.
    ///
    /// Only for statements inside a write transaction: GRDB's own execution bookkeeping (transaction observers,
    /// selected regions, autocommit transitions) concerns none of them, and Ordergate registers no observers.
    /// Errors are GRDB's `DatabaseError`, with SQLite's extended code.
    func run(_ sql: String, _ bind: (inout DirectBinder) -> Void) throws {
        try self.step(sql, bind) { _ in }
    }

    /// Executes a statement for many rows at once: `sql` is given the rows' placeholders (`(?, ?), (?, ?)`, one
    /// `row` per element) and `bind` fills each element's in order, after `first` has bound the parameters that come
    /// before them. Long lists go in statements of up to `rowsPerStatement` rows; each row count's statement is
    /// prepared once and cached. (A statement per row was most of the writer's time for an order's lines and
    /// reservations.)
    func runRows<Element>(
        _ elements: some Collection<Element>,
        row: String,
        sql: (String) -> String,
        first: (inout DirectBinder) -> Void = { _ in },
        bind: (inout DirectBinder, Element) -> Void
    ) throws {
        var start = elements.startIndex
        while start != elements.endIndex {
            let end =
                elements.index(start, offsetBy: Self.rowsPerStatement, limitedBy: elements.endIndex)
                ?? elements.endIndex
            let chunk = elements[start..<end]
            try self.run(sql(repeatElement(row, count: chunk.count).joined(separator: ", "))) { binder in
                first(&binder)
                for element in chunk { bind(&binder, element) }
            }
            start = end
        }
    }

    /// At most 10 parameters a row in Ordergate's multi-row statements: far below SQLite's limit of 32,766.
    static let rowsPerStatement = 64

    /// Executes a cached SELECT whose parameters `bind` fills in order, calling `row` for each result row, through
    /// SQLite's C API (the hot reads of the writer's transaction: stock, reservations, open values).
    func query(_ sql: String, _ bind: (inout DirectBinder) -> Void, row: (DirectRow) throws -> Void) throws {
        try self.step(sql, bind, row)
    }

    /// The first column of the first row of a cached SELECT, as an integer; nil when there is no row (or it is NULL).
    func firstInteger(_ sql: String, _ bind: (inout DirectBinder) -> Void) throws -> Int64? {
        var found: Int64?
        var done = false
        try self.step(sql, bind) { row in
            if !done { found = row.int64(0) }
            done = true
        }
        return found
    }

    private func step(_ sql: String, _ bind: (inout DirectBinder) -> Void, _ row: (DirectRow) throws -> Void) throws {
        let statement = try self.cachedStatement(sql: sql)
        let handle = statement.sqliteStatement
        sqlite3_reset(handle)
        sqlite3_clear_bindings(handle)
        var binder = DirectBinder(statement: handle)
        bind(&binder)
        precondition(binder.index == sqlite3_bind_parameter_count(handle), "wrong number of values for: \(sql)")
        defer {
            sqlite3_reset(handle)
            sqlite3_clear_bindings(handle)
        }
        var code = binder.failure
        if code == SQLITE_OK {
            code = sqlite3_step(handle)
            while code == SQLITE_ROW {
                try row(DirectRow(statement: handle))
                code = sqlite3_step(handle)
            }
        }
        guard code == SQLITE_DONE else {
            let connection = self.sqliteConnection
            throw DatabaseError(
                resultCode: ResultCode(rawValue: sqlite3_extended_errcode(connection)),
                message: connection.map { String(cString: sqlite3_errmsg($0)) },
                sql: sql
            )
        }
    }
}
