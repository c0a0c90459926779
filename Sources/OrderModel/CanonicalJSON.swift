import Foundation

/// The JSON form of canonical values: keys sorted by their UTF-8 bytes, two-space indentation, `"key" : value`,
/// slashes not escaped — the same text `JSONEncoder` writes with `[.sortedKeys, .prettyPrinted,
/// .withoutEscapingSlashes]`, so stored orders and golden files never change with the encoder.
///
/// Orders (the daemon stores one per purchase order it receives) go through a direct writer
/// (`CanonicalJSON+Order.swift`); other values through a small Codable encoder that builds a tree of nodes and
/// writes it in one pass. Foundation's encoder took about a millisecond for a 20-line order, a third of the
/// daemon's time per file.
public enum CanonicalJSON {
    /// Encodes any canonical value as stable JSON text (`compact`: without white space).
    public static func encode<T: Encodable>(_ value: T, compact: Bool = false) throws -> String {
        String(decoding: try self.encodeBytes(value, compact: compact), as: UTF8.self)
    }

    /// Encodes any canonical value as stable JSON, UTF-8 bytes; `compact` leaves out the white space (the form the
    /// database stores).
    public static func encodeBytes<T: Encodable>(_ value: T, compact: Bool = false) throws -> [UInt8] {
        if let writable = value as? any CanonicalJSONWritable {
            var writer = CanonicalJSONWriter(compact: compact)
            writable.write(to: &writer)
            return writer.bytes
        }
        let encoder = NodeEncoder(codingPath: [])
        try value.encode(to: encoder)
        var writer = CanonicalJSONWriter(compact: compact)
        write(encoder.node ?? .object(ObjectNode()), to: &writer)
        return writer.bytes
    }

    /// Decodes a canonical value from its JSON text.
    public static func decode<T: Decodable>(_ type: T.Type, from bytes: [UInt8]) throws -> T {
        try JSONDecoder().decode(type, from: Data(bytes))
    }
}

// MARK: - The node tree

private enum Node {
    case string(String)
    /// A number, as the text to write.
    case number(String)
    case bool(Bool)
    case null
    case array(ArrayNode)
    case object(ObjectNode)
}

private final class ArrayNode {
    var items: [Node] = []
}

private final class ObjectNode {
    var keys: [String] = []
    var values: [Node] = []

    /// Sets `key`. A key set twice keeps its last value (as JSONEncoder does); the writer drops the earlier one.
    func set(_ key: String, _ value: Node) {
        self.keys.append(key)
        self.values.append(value)
    }

    /// The node of `key` when it is an object, else a new object node stored under `key`.
    func object(at key: String) -> ObjectNode {
        if let index = self.keys.lastIndex(of: key), case .object(let existing) = self.values[index] { return existing }
        let node = ObjectNode()
        self.set(key, .object(node))
        return node
    }

    func array(at key: String) -> ArrayNode {
        if let index = self.keys.lastIndex(of: key), case .array(let existing) = self.values[index] { return existing }
        let node = ArrayNode()
        self.set(key, .array(node))
        return node
    }

    /// The indexes of the entries to write: sorted by the keys' UTF-8 bytes, the last one of a repeated key only.
    func sortedIndexes() -> [Int] {
        var order = Array(self.keys.indices)
        order.sort { left, right in
            let comparison = compareBytes(self.keys[left], self.keys[right])
            return comparison == 0 ? left < right : comparison < 0
        }
        var kept: [Int] = []
        kept.reserveCapacity(order.count)
        for (position, index) in order.enumerated() {
            if position + 1 < order.count, self.keys[order[position + 1]] == self.keys[index] { continue }
            kept.append(index)
        }
        return kept
    }
}

/// Compares two strings by their UTF-8 bytes (the order JSONEncoder sorts keys in).
private func compareBytes(_ left: String, _ right: String) -> Int {
    var left = left
    var right = right
    return left.withUTF8 { a in
        right.withUTF8 { b in
            let common = min(a.count, b.count)
            if common > 0 {
                let result = memcmp(a.baseAddress!, b.baseAddress!, common)
                if result != 0 { return Int(result) }
            }
            return a.count - b.count
        }
    }
}

/// Leaf values written without a nested encoder; everything else encodes itself into a child encoder. The checks
/// compare type identities (cheap) rather than casting (a dynamic cast per value was most of the encoder's time).
private func leaf<T: Encodable>(_ value: T) -> Node? {
    if T.self == String.self { return .string(unsafeBitCast(value, to: String.self)) }
    if T.self == Int.self { return .number(String(unsafeBitCast(value, to: Int.self))) }
    if T.self == Bool.self { return .bool(unsafeBitCast(value, to: Bool.self)) }
    if T.self == Decimal.self { return .number((value as! Decimal).description) }
    if T.self == Int64.self { return .number(String(unsafeBitCast(value, to: Int64.self))) }
    if T.self == Int32.self { return .number(String(unsafeBitCast(value, to: Int32.self))) }
    if T.self == UInt.self { return .number(String(unsafeBitCast(value, to: UInt.self))) }
    if T.self == UInt64.self { return .number(String(unsafeBitCast(value, to: UInt64.self))) }
    if T.self == Double.self { return .number(floatingText(unsafeBitCast(value, to: Double.self))) }
    return nil
}

private func floatingText(_ number: Double) -> String {
    if number.rounded() == number, abs(number) < 1e15 { return String(Int64(number)) }
    return number.description
}

/// The node of a value; `path` (the coding path of a nested encoder) is only built when the value needs one.
private func node<T: Encodable>(for value: T, path: () -> [any CodingKey]) throws -> Node {
    if let leaf = leaf(value) { return leaf }
    let encoder = NodeEncoder(codingPath: path())
    try value.encode(to: encoder)
    return encoder.node ?? .object(ObjectNode())
}

// MARK: - The encoder

private final class NodeEncoder: Encoder {
    let codingPath: [any CodingKey]
    var userInfo: [CodingUserInfoKey: Any] { [:] }
    var node: Node?

    init(codingPath: [any CodingKey]) {
        self.codingPath = codingPath
    }

    func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
        if case .object(let object) = self.node {
            return KeyedEncodingContainer(KeyedNodeContainer(object: object, codingPath: self.codingPath))
        }
        let object = ObjectNode()
        self.node = .object(object)
        return KeyedEncodingContainer(KeyedNodeContainer(object: object, codingPath: self.codingPath))
    }

    func unkeyedContainer() -> any UnkeyedEncodingContainer {
        if case .array(let array) = self.node { return UnkeyedNodeContainer(array: array, codingPath: self.codingPath) }
        let array = ArrayNode()
        self.node = .array(array)
        return UnkeyedNodeContainer(array: array, codingPath: self.codingPath)
    }

    func singleValueContainer() -> any SingleValueEncodingContainer {
        SingleNodeContainer(encoder: self)
    }
}

private struct KeyedNodeContainer<Key: CodingKey>: KeyedEncodingContainerProtocol {
    let object: ObjectNode
    let codingPath: [any CodingKey]

    mutating func encodeNil(forKey key: Key) throws { self.object.set(key.stringValue, .null) }
    mutating func encode(_ value: Bool, forKey key: Key) throws { self.object.set(key.stringValue, .bool(value)) }
    mutating func encode(_ value: String, forKey key: Key) throws { self.object.set(key.stringValue, .string(value)) }
    mutating func encode(_ value: Int, forKey key: Key) throws {
        self.object.set(key.stringValue, .number(String(value)))
    }

    mutating func encode<T: Encodable>(_ value: T, forKey key: Key) throws {
        self.object.set(key.stringValue, try node(for: value) { self.codingPath + [key] })
    }

    mutating func nestedContainer<NestedKey: CodingKey>(
        keyedBy keyType: NestedKey.Type,
        forKey key: Key
    ) -> KeyedEncodingContainer<NestedKey> {
        KeyedEncodingContainer(
            KeyedNodeContainer<NestedKey>(
                object: self.object.object(at: key.stringValue),
                codingPath: self.codingPath + [key]
            )
        )
    }

    mutating func nestedUnkeyedContainer(forKey key: Key) -> any UnkeyedEncodingContainer {
        UnkeyedNodeContainer(array: self.object.array(at: key.stringValue), codingPath: self.codingPath + [key])
    }

    mutating func superEncoder() -> any Encoder {
        SuperEncoder(codingPath: self.codingPath) { [object] in object.set("super", $0) }
    }

    mutating func superEncoder(forKey key: Key) -> any Encoder {
        SuperEncoder(codingPath: self.codingPath + [key]) { [object] in object.set(key.stringValue, $0) }
    }
}

private struct UnkeyedNodeContainer: UnkeyedEncodingContainer {
    let array: ArrayNode
    let codingPath: [any CodingKey]
    var count: Int { self.array.items.count }

    mutating func encodeNil() throws { self.array.items.append(.null) }
    mutating func encode(_ value: String) throws { self.array.items.append(.string(value)) }

    mutating func encode<T: Encodable>(_ value: T) throws {
        self.array.items.append(try node(for: value) { [count] in self.codingPath + [IndexKey(count)] })
    }

    mutating func nestedContainer<NestedKey: CodingKey>(
        keyedBy keyType: NestedKey.Type
    ) -> KeyedEncodingContainer<NestedKey> {
        let object = ObjectNode()
        self.array.items.append(.object(object))
        return KeyedEncodingContainer(KeyedNodeContainer<NestedKey>(object: object, codingPath: self.codingPath))
    }

    mutating func nestedUnkeyedContainer() -> any UnkeyedEncodingContainer {
        let array = ArrayNode()
        self.array.items.append(.array(array))
        return UnkeyedNodeContainer(array: array, codingPath: self.codingPath)
    }

    mutating func superEncoder() -> any Encoder {
        let index = self.array.items.count
        self.array.items.append(.null)
        return SuperEncoder(codingPath: self.codingPath) { [array] in array.items[index] = $0 }
    }
}

private struct SingleNodeContainer: SingleValueEncodingContainer {
    let encoder: NodeEncoder
    var codingPath: [any CodingKey] { self.encoder.codingPath }

    mutating func encodeNil() throws { self.encoder.node = .null }
    mutating func encode(_ value: String) throws { self.encoder.node = .string(value) }
    mutating func encode(_ value: Bool) throws { self.encoder.node = .bool(value) }

    mutating func encode<T: Encodable>(_ value: T) throws {
        self.encoder.node = try node(for: value) { self.codingPath }
    }
}

/// An encoder whose result is stored by a closure when it is finished (classes' `super` encoding).
private final class SuperEncoder: Encoder {
    let inner: NodeEncoder
    let store: (Node) -> Void
    var codingPath: [any CodingKey] { self.inner.codingPath }
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    init(codingPath: [any CodingKey], store: @escaping (Node) -> Void) {
        self.inner = NodeEncoder(codingPath: codingPath)
        self.store = store
    }

    deinit {
        self.store(self.inner.node ?? .object(ObjectNode()))
    }

    func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
        self.inner.container(keyedBy: type)
    }

    func unkeyedContainer() -> any UnkeyedEncodingContainer { self.inner.unkeyedContainer() }
    func singleValueContainer() -> any SingleValueEncodingContainer { self.inner.singleValueContainer() }
}

private struct IndexKey: CodingKey {
    var stringValue: String { String(self.intValue!) }
    var intValue: Int?

    init(_ index: Int) { self.intValue = index }
    init?(stringValue: String) { nil }
    init?(intValue: Int) { self.intValue = intValue }
}

// MARK: - Writing

/// Writes a node tree through the same writer as the direct path: one layout and one string escaper for both.
private func write(_ node: Node, to writer: inout CanonicalJSONWriter) {
    switch node {
    case .string(let text): writer.string(text)
    case .number(let text): writer.literal(text)
    case .bool(let flag): writer.literal(flag ? "true" : "false")
    case .null: writer.literal("null")
    case .array(let array):
        writer.beginArray()
        for item in array.items {
            writer.element()
            write(item, to: &writer)
        }
        writer.endArray()
    case .object(let object):
        writer.beginObject()
        for index in object.sortedIndexes() {
            writer.key(object.keys[index])
            write(object.values[index], to: &writer)
        }
        writer.endObject()
    }
}
