/// A stack of elements in manually managed memory, so that elements are built in place and moved, never copied.
///
/// The builder keeps two: the open elements of the tree being built, and the finished elements waiting for their
/// parent to close. When an element closes, its children are the top of the finished stack: they are moved into one
/// array of exactly their count. (Appending to each `children` array as children close would reallocate it as it
/// grows, and going through Swift arrays of `XMLElement` copies, that is retains and releases, every field.)
struct ElementStack: ~Copyable {
    private var base: UnsafeMutablePointer<XMLElement>
    private var capacity: Int
    private(set) var count = 0

    init() {
        assert(Self.fieldsAreAllInitialized, "ElementStack.push must initialize every stored property of XMLElement")
        self.capacity = 64
        self.base = .allocate(capacity: self.capacity)
    }

    deinit {
        self.base.deinitialize(count: self.count)
        self.base.deallocate()
    }

    /// The element on top; valid until the next push or pop.
    var top: UnsafeMutablePointer<XMLElement> {
        self.base + (self.count - 1)
    }

    mutating func push(_ element: consuming XMLElement) {
        self.reserveOne()
        (self.base + self.count).initialize(to: element)
        self.count += 1
    }

    /// Pushes an element without text or children, and returns it to be completed in place.
    ///
    /// The fields are initialized one by one in the stack's memory: going through `XMLElement.init` costs a copy and
    /// a destroy of the whole value (the optimizer leaves them in for structs this large), once per element.
    mutating func push(
        localName: consuming String,
        prefix: consuming String?,
        namespaceURI: consuming String?,
        attributes: consuming [XMLAttribute],
        line: Int,
        column: Int
    ) -> UnsafeMutablePointer<XMLElement> {
        self.reserveOne()
        let slot = self.base + self.count
        let raw = UnsafeMutableRawPointer(slot)
        let layout = MemoryLayout<XMLElement>.self  // the offsets fold into constants
        (raw + layout.offset(of: \.localName)!).initializeMemory(as: String.self, to: localName)
        (raw + layout.offset(of: \.prefix)!).initializeMemory(as: String?.self, to: prefix)
        (raw + layout.offset(of: \.namespaceURI)!).initializeMemory(as: String?.self, to: namespaceURI)
        (raw + layout.offset(of: \.attributes)!).initializeMemory(as: [XMLAttribute].self, to: attributes)
        (raw + layout.offset(of: \.text)!).initializeMemory(as: String.self, to: "")
        (raw + layout.offset(of: \.children)!).initializeMemory(as: [XMLElement].self, to: [])
        (raw + layout.offset(of: \.line)!).initializeMemory(as: Int.self, to: line)
        (raw + layout.offset(of: \.column)!).initializeMemory(as: Int.self, to: column)
        self.count += 1
        return slot
    }

    /// True when `push` initializes every stored property of XMLElement (the properties it knows cover the type).
    static var fieldsAreAllInitialized: Bool {
        let known: Set<String> = [
            "localName", "prefix", "namespaceURI", "attributes", "text", "children", "line", "column",
        ]
        let actual = Set(Mirror(reflecting: XMLElement(localName: "")).children.compactMap(\.label))
        return known == actual
    }

    /// Moves the top element onto `other`.
    mutating func moveTop(onto other: inout ElementStack) {
        other.reserveOne()
        (other.base + other.count).moveInitialize(from: self.top, count: 1)
        other.count += 1
        self.count -= 1
    }

    /// Removes the top element and returns it.
    mutating func pop() -> XMLElement {
        self.count -= 1
        return (self.base + self.count).move()
    }

    /// Removes the elements from `start` to the top and returns them as an array, moved.
    mutating func popArray(from start: Int) -> [XMLElement] {
        let taken = self.count - start
        guard taken > 0 else { return [] }
        var array: [XMLElement] = []
        array.reserveCapacity(taken)
        for index in start..<self.count {
            array.append((self.base + index).move())
        }
        self.count = start
        return array
    }

    private mutating func reserveOne() {
        guard self.count == self.capacity else { return }
        let grown = UnsafeMutablePointer<XMLElement>.allocate(capacity: self.capacity * 2)
        grown.moveInitialize(from: self.base, count: self.count)
        self.base.deallocate()
        self.base = grown
        self.capacity *= 2
    }
}
