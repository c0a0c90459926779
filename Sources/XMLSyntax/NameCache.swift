import CLibXML2
import Glibc

/// Swift strings for libxml2's names (local names, prefixes, namespace URIs), built once per distinct name.
///
/// libxml2 interns names, prefixes and namespace URIs in its parser dictionary, which lives as long as the parser:
/// the same name is the same pointer for the whole document. The cache is direct-mapped on that pointer and only ever stores pointers the
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
