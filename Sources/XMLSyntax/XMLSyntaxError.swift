/// Why an XML document was refused, and where.
///
/// Positions are 1-based; 0 means unknown (a failed `read`, the size limit, an encoding error that libxml2 reports
/// without a position).
public struct XMLSyntaxError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The kind of failure. Opaque, so that adding a kind breaks no caller; compare with the static members.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Wrapped: Hashable, Sendable {
            case malformed
            case doctypeNotAllowed
            case entityNotAllowed
            case tooLarge
            case tooDeep
            case tooManyNodes
            case textTooLong
            case tooManyAttributes
            case noRootElement
            case readFailed
        }

        private var wrapped: Wrapped

        private init(_ wrapped: Wrapped) {
            self.wrapped = wrapped
        }

        /// Not well-formed (or not namespace-well-formed) XML, or bytes that do not decode in the declared encoding.
        public static let malformed = Self(.malformed)
        /// A DOCTYPE whose name is not in `XMLLimits.allowedDoctypes`, or any DOCTYPE with an internal subset.
        public static let doctypeNotAllowed = Self(.doctypeNotAllowed)
        /// A reference to an entity other than the five predefined ones and character references.
        public static let entityNotAllowed = Self(.entityNotAllowed)
        /// More input bytes than `XMLLimits.maximumBytes`.
        public static let tooLarge = Self(.tooLarge)
        /// Elements nested deeper than `XMLLimits.maximumDepth`.
        public static let tooDeep = Self(.tooDeep)
        /// More nodes than `XMLLimits.maximumNodes`.
        public static let tooManyNodes = Self(.tooManyNodes)
        /// A text or attribute value longer than `XMLLimits.maximumTextLength` UTF-8 bytes.
        public static let textTooLong = Self(.textTooLong)
        /// An element with more attributes (namespace declarations included) than `XMLLimits.maximumAttributes`.
        public static let tooManyAttributes = Self(.tooManyAttributes)
        /// An empty document, or one without any element.
        public static let noRootElement = Self(.noRootElement)
        /// The caller's `read` closure threw or misbehaved, or the reader was used twice.
        public static let readFailed = Self(.readFailed)

        /// A short kebab-case name, e.g. `doctype-not-allowed`.
        public var description: String {
            switch self.wrapped {
            case .malformed: "malformed"
            case .doctypeNotAllowed: "doctype-not-allowed"
            case .entityNotAllowed: "entity-not-allowed"
            case .tooLarge: "too-large"
            case .tooDeep: "too-deep"
            case .tooManyNodes: "too-many-nodes"
            case .textTooLong: "text-too-long"
            case .tooManyAttributes: "too-many-attributes"
            case .noRootElement: "no-root-element"
            case .readFailed: "read-failed"
            }
        }
    }

    /// The kind of failure.
    public var code: Code
    /// What went wrong, in words (libxml2's own message for well-formedness errors).
    public var message: String
    /// 1-based line; 0 when unknown.
    public var line: Int
    /// 1-based column (characters); 0 when unknown.
    public var column: Int

    /// Makes an error; positions default to unknown.
    public init(code: Code, message: String, line: Int = 0, column: Int = 0) {
        self.code = code
        self.message = message
        self.line = line
        self.column = column
    }

    /// `line 3, column 7: DOCTYPE is not allowed (cXML)`; the parts that are unknown are left out.
    public var description: String {
        if self.line > 0 && self.column > 0 {
            return "line \(self.line), column \(self.column): \(self.message)"
        }
        if self.line > 0 {
            return "line \(self.line): \(self.message)"
        }
        return self.message
    }
}
