import Foundation
import OrderModel

/// A value read from a document, on its way into a canonical field (or out of one, when rendering).
public enum CanonicalValue: Hashable, Sendable, CustomStringConvertible {
    case text(String)
    case decimal(Decimal)
    case integer(Int)
    case date(DocumentDate)
    case quantity(Decimal, unit: String?)
    case money(Decimal, currency: String?)

    /// Whether the value's text is empty (only a text can be), without writing it out.
    var isEmptyText: Bool {
        if case .text(let text) = self { return text.isEmpty }
        return false
    }

    public var description: String {
        switch self {
        case .text(let text): return text
        case .decimal(let value): return DecimalText.format(value)
        case .integer(let value): return String(value)
        case .date(let date): return date.description
        case .quantity(let value, _): return DecimalText.format(value)
        case .money(let value, _): return DecimalText.format(value)
        }
    }

    /// The numeric value, for sums and implied decimals.
    var decimalValue: Decimal? {
        switch self {
        case .decimal(let value), .quantity(let value, _), .money(let value, _): return value
        case .integer(let value): return Decimal(value)
        case .text(let text): return DecimalText.parse(text)
        case .date: return nil
        }
    }
}

/// The type of a canonical field: what a mapping must produce for it.
public enum CanonicalFieldType: Hashable, Sendable, CustomStringConvertible {
    case text
    /// A list of texts (address lines, tracking numbers): every matching source value is appended.
    case textList
    case decimal
    case integer
    case date
    /// A quantity: a decimal plus a unit (`unit:` in the mapping).
    case quantity
    /// Money: a decimal plus a currency (`currency:` in the mapping).
    case money
    /// One of a closed set of canonical names (roles, purposes, statuses).
    case code([String])

    public var description: String {
        switch self {
        case .text: return "text"
        case .textList: return "list of texts"
        case .decimal: return "decimal"
        case .integer: return "integer"
        case .date: return "date"
        case .quantity: return "quantity"
        case .money: return "money"
        case .code(let names): return "one of " + names.joined(separator: ", ")
        }
    }
}

/// A key path, read in place when it names a stored property reached through stored properties only
/// (`MemoryLayout.offset(of:)`). A key path read goes through the runtime at several hundred instructions, and
/// rendering reads a field or a collection for every element of every document.
struct StoredPath<Root, Value>: @unchecked Sendable {
    let path: KeyPath<Root, Value>
    private let offset: Int?

    init(_ path: KeyPath<Root, Value>) {
        self.path = path
        self.offset = MemoryLayout<Root>.offset(of: path)
    }

    @inline(__always)
    func read(_ root: Root) -> Value {
        guard let offset = self.offset else { return root[keyPath: self.path] }
        return withUnsafeBytes(of: root) { $0.load(fromByteOffset: offset, as: Value.self) }
    }
}

/// The type a field slot stores at its offset (see `FieldSlot.store`).
enum FieldStorage: Sendable {
    case text, optionalText, optionalDate, optionalDecimal, optionalInteger, optionalQuantity, optionalMoney
    /// Written only through the slot's `set`.
    case other
}

/// One field of a canonical record: its name, type, and how to set and read it.
/// (A class: the compiled rules share slots and the hot path reads them without copying closures.)
final class FieldSlot<Root>: Sendable {
    let name: String
    let type: CanonicalFieldType
    let set: @Sendable (inout Root, CanonicalValue) -> Void
    let get: @Sendable (Root) -> [CanonicalValue]
    /// Where the field is stored in `Root`, when it is a stored property reached through stored properties only
    /// (`MemoryLayout.offset(of:)`), and the type stored there: `store` then writes it in place, the same value
    /// `set` would write, without a closure call or a key path.
    let offset: Int?
    let storage: FieldStorage
    /// The first value without the array `get` builds, for fields without an offset that can say it more cheaply
    /// (a field of an optional nested value).
    let first: (@Sendable (Root) -> CanonicalValue?)?

    init(
        name: String,
        type: CanonicalFieldType,
        offset: Int? = nil,
        storage: FieldStorage = .other,
        set: @escaping @Sendable (inout Root, CanonicalValue) -> Void,
        get: @escaping @Sendable (Root) -> [CanonicalValue],
        first: (@Sendable (Root) -> CanonicalValue?)? = nil
    ) {
        self.name = name
        self.type = type
        self.set = set
        self.get = get
        self.offset = storage == .other ? nil : offset
        self.storage = storage
        self.first = first
    }

    /// The field's first value, what `get(record).first` gives: read in place when the offset is known (rendering
    /// reads a value per element of every document, and `get` builds an array for each).
    @inline(__always)
    func firstValue(of record: Root) -> CanonicalValue? {
        guard let offset = self.offset else {
            if let first = self.first { return first(record) }
            return self.get(record).first
        }
        return withUnsafeBytes(of: record) { bytes in
            let field = bytes.baseAddress! + offset
            switch self.storage {
            case .text:
                let text = field.load(as: String.self)
                return text.isEmpty ? nil : .text(text)
            case .optionalText:
                return field.load(as: String?.self).map { .text($0) }
            case .optionalDate:
                return field.load(as: DocumentDate?.self).map { .date($0) }
            case .optionalDecimal:
                return field.load(as: Decimal?.self).map { .decimal($0) }
            case .optionalInteger:
                return field.load(as: Int?.self).map { .integer($0) }
            case .optionalQuantity:
                return field.load(as: Quantity?.self).map { .quantity($0.value, unit: $0.unit) }
            case .optionalMoney:
                return field.load(as: Money?.self).map { .money($0.amount, currency: $0.currency) }
            case .other:
                return self.get(record).first
            }
        }
    }

    /// Sets the field to `value`: in place when its offset is known, else through `set`.
    @inline(__always)
    func store(_ value: CanonicalValue, in root: inout Root) {
        guard let offset = self.offset else {
            self.set(&root, value)
            return
        }
        withUnsafeMutableBytes(of: &root) { bytes in
            let field = bytes.baseAddress! + offset
            switch self.storage {
            case .text:
                field.assumingMemoryBound(to: String.self).pointee = value.description
            case .optionalText:
                field.assumingMemoryBound(to: String?.self).pointee = value.description
            case .optionalDate:
                if case .date(let date) = value { field.assumingMemoryBound(to: DocumentDate?.self).pointee = date }
            case .optionalDecimal:
                field.assumingMemoryBound(to: Decimal?.self).pointee = value.decimalValue
            case .optionalInteger:
                if case .integer(let number) = value { field.assumingMemoryBound(to: Int?.self).pointee = number }
            case .optionalQuantity:
                switch value {
                case .quantity(let number, let unit):
                    field.assumingMemoryBound(to: Quantity?.self).pointee = Quantity(number, unit: unit)
                default:
                    if let number = value.decimalValue {
                        field.assumingMemoryBound(to: Quantity?.self).pointee = Quantity(number)
                    }
                }
            case .optionalMoney:
                switch value {
                case .money(let number, let currency):
                    field.assumingMemoryBound(to: Money?.self).pointee = Money(number, currency: currency)
                default:
                    if let number = value.decimalValue {
                        field.assumingMemoryBound(to: Money?.self).pointee = Money(number)
                    }
                }
            case .other:
                break
            }
        }
    }

    /// The same field, reached through an optional nested value (`address.city` through `address`).
    func nested<Outer>(
        in path: WritableKeyPath<Outer, Root?> & Sendable,
        prefix: String,
        makeEmpty: @escaping @Sendable () -> Root
    )
        -> FieldSlot<Outer>
    {
        let set = self.set
        let get = self.get
        let read = FieldSlot<Outer>.reader(path)
        return FieldSlot<Outer>(
            name: prefix + "." + self.name,
            type: self.type,
            set: { outer, value in
                var inner = outer[keyPath: path] ?? makeEmpty()
                set(&inner, value)
                outer[keyPath: path] = inner
            },
            get: { outer in read(outer).map(get) ?? [] },
            first: { [self] outer in read(outer).flatMap { self.firstValue(of: $0) } }
        )
    }

    /// The same field, reached through a non-optional nested value (`item.gtin` through `item`).
    func nested<Outer>(in path: WritableKeyPath<Outer, Root> & Sendable, prefix: String) -> FieldSlot<Outer> {
        let set = self.set
        let get = self.get
        return FieldSlot<Outer>(
            name: prefix + "." + self.name,
            type: self.type,
            offset: MemoryLayout<Outer>.offset(of: path).flatMap { outer in self.offset.map { outer + $0 } },
            storage: self.storage,
            set: { outer, value in set(&outer[keyPath: path], value) },
            get: { [read = FieldSlot<Outer>.reader(path)] outer in get(read(outer)) }
        )
    }
}

extension FieldSlot {
    /// Reads the value at `path` (in place when it is stored: see `StoredPath`).
    static func reader<Value>(_ path: KeyPath<Root, Value> & Sendable) -> @Sendable (Root) -> Value {
        let stored = StoredPath(path)
        return { stored.read($0) }
    }

    static func text(_ name: String, _ path: WritableKeyPath<Root, String?> & Sendable) -> FieldSlot {
        let read = Self.reader(path)
        return FieldSlot(
            name: name,
            type: .text,
            offset: MemoryLayout<Root>.offset(of: path),
            storage: .optionalText,
            set: { root, value in root[keyPath: path] = value.description },
            get: { root in read(root).map { [.text($0)] } ?? [] }
        )
    }

    static func text(_ name: String, _ path: WritableKeyPath<Root, String> & Sendable) -> FieldSlot {
        let read = Self.reader(path)
        return FieldSlot(
            name: name,
            type: .text,
            offset: MemoryLayout<Root>.offset(of: path),
            storage: .text,
            set: { root, value in root[keyPath: path] = value.description },
            get: { root in
                let text = read(root)
                return text.isEmpty ? [] : [.text(text)]
            }
        )
    }

    static func textList(_ name: String, _ path: WritableKeyPath<Root, [String]> & Sendable) -> FieldSlot {
        let read = Self.reader(path)
        return FieldSlot(
            name: name,
            type: .textList,
            set: { root, value in root[keyPath: path].append(value.description) },
            get: { root in read(root).map { .text($0) } }
        )
    }

    static func date(_ name: String, _ path: WritableKeyPath<Root, DocumentDate?> & Sendable) -> FieldSlot {
        let read = Self.reader(path)
        return FieldSlot(
            name: name,
            type: .date,
            offset: MemoryLayout<Root>.offset(of: path),
            storage: .optionalDate,
            set: { root, value in if case .date(let date) = value { root[keyPath: path] = date } },
            get: { root in read(root).map { [.date($0)] } ?? [] }
        )
    }

    static func decimal(_ name: String, _ path: WritableKeyPath<Root, Decimal?> & Sendable) -> FieldSlot {
        let read = Self.reader(path)
        return FieldSlot(
            name: name,
            type: .decimal,
            offset: MemoryLayout<Root>.offset(of: path),
            storage: .optionalDecimal,
            set: { root, value in root[keyPath: path] = value.decimalValue },
            get: { root in read(root).map { [.decimal($0)] } ?? [] }
        )
    }

    static func integer(_ name: String, _ path: WritableKeyPath<Root, Int?> & Sendable) -> FieldSlot {
        let read = Self.reader(path)
        return FieldSlot(
            name: name,
            type: .integer,
            offset: MemoryLayout<Root>.offset(of: path),
            storage: .optionalInteger,
            set: { root, value in
                if case .integer(let number) = value { root[keyPath: path] = number }
            },
            get: { root in read(root).map { [.integer($0)] } ?? [] }
        )
    }

    static func quantity(_ name: String, _ path: WritableKeyPath<Root, Quantity?> & Sendable) -> FieldSlot {
        let read = Self.reader(path)
        return FieldSlot(
            name: name,
            type: .quantity,
            offset: MemoryLayout<Root>.offset(of: path),
            storage: .optionalQuantity,
            set: { root, value in
                switch value {
                case .quantity(let number, let unit): root[keyPath: path] = Quantity(number, unit: unit)
                default: if let number = value.decimalValue { root[keyPath: path] = Quantity(number) }
                }
            },
            get: { root in read(root).map { [.quantity($0.value, unit: $0.unit)] } ?? [] }
        )
    }

    static func money(_ name: String, _ path: WritableKeyPath<Root, Money?> & Sendable) -> FieldSlot {
        let read = Self.reader(path)
        return FieldSlot(
            name: name,
            type: .money,
            offset: MemoryLayout<Root>.offset(of: path),
            storage: .optionalMoney,
            set: { root, value in
                switch value {
                case .money(let number, let currency): root[keyPath: path] = Money(number, currency: currency)
                default: if let number = value.decimalValue { root[keyPath: path] = Money(number) }
                }
            },
            get: { root in read(root).map { [.money($0.amount, currency: $0.currency)] } ?? [] }
        )
    }

    static func code<Code: RawRepresentable & CaseIterable & Sendable>(
        _ name: String,
        _ path: WritableKeyPath<Root, Code> & Sendable
    ) -> FieldSlot where Code.RawValue == String {
        let read = Self.reader(path)
        return FieldSlot(
            name: name,
            type: .code(Code.allCases.map(\.rawValue)),
            set: { root, value in if let code = Code(rawValue: value.description) { root[keyPath: path] = code } },
            get: { root in [.text(read(root).rawValue)] }
        )
    }

    /// A code that may be absent (a line's change in a change document).
    static func code<Code: RawRepresentable & CaseIterable & Sendable>(
        _ name: String,
        _ path: WritableKeyPath<Root, Code?> & Sendable
    ) -> FieldSlot where Code.RawValue == String {
        let read = Self.reader(path)
        return FieldSlot(
            name: name,
            type: .code(Code.allCases.map(\.rawValue)),
            set: { root, value in if let code = Code(rawValue: value.description) { root[keyPath: path] = code } },
            get: { root in read(root).map { [.text($0.rawValue)] } ?? [] }
        )
    }
}

/// A canonical record type that mapping files can fill and render: its fields and its collections, by name.
protocol MappableRecord: Sendable {
    init()
    var origins: FieldOrigins { get set }
    static var catalog: RecordCatalog<Self> { get }
    /// The name used in messages (`order`, `line`, `party`).
    static var recordName: String { get }
}

/// A collection of child records inside a record (`lines` in an order, `parties` in a line).
protocol CollectionSlotProtocol<Root>: Sendable {
    associatedtype Root
    var name: String { get }
    /// Opens the collection for a visitor that needs its element type.
    func accept<Visitor: CollectionVisitor>(_ visitor: Visitor) throws -> Visitor.Result where Visitor.Root == Root
}

/// Something that works with a collection's element type (compiling a mapping block for it, for example).
protocol CollectionVisitor {
    associatedtype Root
    associatedtype Result
    func visit<Element: MappableRecord>(_ slot: CollectionSlot<Root, Element>) throws -> Result
}

struct CollectionSlot<Root, Element: MappableRecord>: CollectionSlotProtocol {
    let name: String
    let path: WritableKeyPath<Root, [Element]> & Sendable

    func accept<Visitor: CollectionVisitor>(_ visitor: Visitor) throws -> Visitor.Result where Visitor.Root == Root {
        try visitor.visit(self)
    }
}

/// The fields and collections of a record type, by canonical name.
struct RecordCatalog<Root>: Sendable {
    let fields: [String: FieldSlot<Root>]
    let collections: [String: any CollectionSlotProtocol<Root>]

    init(fields: [FieldSlot<Root>], collections: [any CollectionSlotProtocol<Root>] = []) {
        var byName: [String: FieldSlot<Root>] = [:]
        for field in fields {
            byName[field.name] = field
            // Rendering may read the unit of a quantity and the currency of money as fields of their own.
            switch field.type {
            case .quantity:
                let get = field.get
                byName[field.name + ".unit"] = FieldSlot(
                    name: field.name + ".unit",
                    type: .text,
                    set: { _, _ in },
                    get: { root in
                        get(root).compactMap {
                            if case .quantity(_, let unit?) = $0 { return .text(unit) } else { return nil }
                        }
                    }
                )
            case .money:
                let get = field.get
                byName[field.name + ".currency"] = FieldSlot(
                    name: field.name + ".currency",
                    type: .text,
                    set: { _, _ in },
                    get: { root in
                        get(root).compactMap {
                            if case .money(_, let currency?) = $0 { return .text(currency) } else { return nil }
                        }
                    }
                )
            default:
                break
            }
        }
        self.fields = byName
        self.collections = Dictionary(uniqueKeysWithValues: collections.map { ($0.name, $0) })
    }

    /// Every field and collection name, for messages and the reference documentation.
    var allNames: [String] { (Array(self.fields.keys) + Array(self.collections.keys)).sorted() }
}
