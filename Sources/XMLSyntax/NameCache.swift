import CLibXML2
import Glibc

/// Swift strings for libxml2's element and attribute names, built once per distinct name.
///
/// libxml2 interns names in its parser dictionary, which lives as long as the reader: the same name is the same
/// pointer for the whole document. The cache is direct-mapped on that pointer and only ever stores pointers the
/// dictionary owns, so a hit can never be a freed and reused address.
struct NameCache {
    private static let slots = 1024
    private var keys = [UnsafeRawPointer?](repeating: nil, count: NameCache.slots)
    private var values = [String](repeating: "", count: NameCache.slots)
    private var dictionary: OpaquePointer?

    /// Remembers the dictionary of the parser that hands out the names.
    mutating func use(dictionaryOf parser: xmlParserCtxtPtr?) {
        self.dictionary = parser?.pointee.dict
    }

    /// The name as a Swift string (empty for a null pointer).
    @inline(__always)
    mutating func string(_ name: UnsafePointer<xmlChar>?) -> String {
        guard let name else { return "" }
        let key = UnsafeRawPointer(name)
        let bits = UInt(bitPattern: key)
        let slot = Int(truncatingIfNeeded: (bits &* 0x9E37_79B9_7F4A_7C15) >> 54)
        if self.keys[slot] == key { return self.values[slot] }
        let string = makeString(name)
        if let dictionary = self.dictionary, xmlDictOwns(dictionary, name) == 1 {
            self.keys[slot] = key
            self.values[slot] = string
        }
        return string
    }
}

/// Swift strings for namespace prefixes and URIs, found by content (libxml2 copies them per declaration).
///
/// Documents use a handful of namespaces, so a short list compared with `strcmp` is enough; past 32 distinct
/// declarations the strings are simply built each time.
final class NamespaceCache {
    private struct Entry {
        var uri: UnsafeMutablePointer<CChar>
        var prefix: UnsafeMutablePointer<CChar>?
        var uriString: String
        var prefixString: String?
    }

    private var entries: [Entry] = []
    private var last = 0

    deinit {
        for entry in self.entries {
            free(entry.uri)
            free(entry.prefix)
        }
    }

    /// The prefix and namespace URI of a node's namespace; both `nil` when it has none.
    @inline(__always)
    func resolve(_ namespace: UnsafeMutablePointer<xmlNs>?) -> (prefix: String?, uri: String?) {
        guard let namespace, let href = namespace.pointee.href else { return (nil, nil) }
        let prefix = namespace.pointee.prefix
        if self.last < self.entries.count && self.matches(self.entries[self.last], href, prefix) {
            return (self.entries[self.last].prefixString, self.entries[self.last].uriString)
        }
        for index in self.entries.indices where self.matches(self.entries[index], href, prefix) {
            self.last = index
            return (self.entries[index].prefixString, self.entries[index].uriString)
        }
        let entry = Entry(
            uri: strdup(UnsafeRawPointer(href).assumingMemoryBound(to: CChar.self)),
            prefix: prefix.map { strdup(UnsafeRawPointer($0).assumingMemoryBound(to: CChar.self)) },
            uriString: makeString(href),
            prefixString: prefix.map { makeString($0) }
        )
        guard self.entries.count < 32 else {
            free(entry.uri)
            free(entry.prefix)
            return (entry.prefixString, entry.uriString)
        }
        self.entries.append(entry)
        self.last = self.entries.count - 1
        return (entry.prefixString, entry.uriString)
    }

    @inline(__always)
    private func matches(_ entry: Entry, _ href: UnsafePointer<xmlChar>, _ prefix: UnsafePointer<xmlChar>?) -> Bool {
        guard strcmp(entry.uri, UnsafeRawPointer(href).assumingMemoryBound(to: CChar.self)) == 0 else { return false }
        switch (entry.prefix, prefix) {
        case (nil, nil): return true
        case (let a?, let b?): return strcmp(a, UnsafeRawPointer(b).assumingMemoryBound(to: CChar.self)) == 0
        default: return false
        }
    }
}

/// The length in bytes of libxml2's NUL-terminated UTF-8.
@inline(__always)
func byteCount(_ text: UnsafePointer<xmlChar>) -> Int {
    strlen(UnsafeRawPointer(text).assumingMemoryBound(to: CChar.self))
}

/// A Swift string from libxml2's NUL-terminated UTF-8 (libxml2 has already decoded and checked it).
@inline(__always)
func makeString(_ text: UnsafePointer<xmlChar>) -> String {
    String(decoding: UnsafeBufferPointer(start: text, count: byteCount(text)), as: UTF8.self)
}

/// A Swift string from `count` bytes of libxml2's UTF-8.
@inline(__always)
func makeString(_ text: UnsafePointer<xmlChar>, count: Int) -> String {
    String(decoding: UnsafeBufferPointer(start: text, count: count), as: UTF8.self)
}
