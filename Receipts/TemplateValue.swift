/// Data a receipt template is filled with.
public enum TemplateValue: Sendable, Hashable {
    case text(String)
    case bool(Bool)
    case list([TemplateValue])
    case object(TemplateObject)

    /// Whether a section `{#name}` on this value renders: true, non-empty text or list, an object.
    var isTruthy: Bool {
        switch self {
        case .text(let s): !s.isEmpty
        case .bool(let b): b
        case .list(let l): !l.isEmpty
        case .object: true
        }
    }

    var textValue: String {
        switch self {
        case .text(let s): s
        case .bool(let b): b ? "yes" : "no"
        case .list(let l): l.map(\.textValue).joined(separator: ", ")
        case .object: ""
        }
    }
}

/// Named fields, in the order given. A receipt's objects have a handful of short keys, so a
/// linear search over inline small strings beats hashing (it showed in profiles).
public struct TemplateObject: Sendable, Hashable, ExpressibleByDictionaryLiteral {
    public struct Field: Sendable, Hashable {
        public var key: String
        public var value: TemplateValue
        public init(_ key: String, _ value: TemplateValue) {
            self.key = key
            self.value = value
        }
    }

    public private(set) var fields: [Field]

    public init(dictionaryLiteral elements: (String, TemplateValue)...) {
        fields = elements.map { Field($0.0, $0.1) }
    }

    /// Fields given in one array: one allocation (for data built per line of a receipt).
    public init(fields: [Field]) { self.fields = fields }

    public subscript(key: String) -> TemplateValue? {
        get {
            // By index, comparing keys only: copying each field would retain its value.
            for i in fields.indices where fields[i].key == key { return fields[i].value }
            return nil
        }
        set {
            if let i = fields.firstIndex(where: { $0.key == key }) {
                if let newValue { fields[i].value = newValue } else { fields.remove(at: i) }
            } else if let newValue {
                fields.append(Field(key, newValue))
            }
        }
    }
}

/// The shape of a template's data: which fields exist and what they hold. Templates are checked
/// against it when they load.
public indirect enum TemplateSchema: Sendable, Hashable {
    case text
    case bool
    case list(TemplateSchema)
    /// Fields of an object; a field may be absent in the data (a section on it then renders nothing).
    case object([String: TemplateSchema])

    /// Whether `value` has this shape (absent object fields are allowed).
    public func accepts(_ value: TemplateValue) -> Bool {
        switch (self, value) {
        case (.text, .text), (.bool, .bool): return true
        case (.list(let s), .list(let items)): return items.allSatisfy(s.accepts)
        case (.object(let fields), .object(let object)):
            return object.fields.allSatisfy { f in fields[f.key]?.accepts(f.value) ?? false }
        default: return false
        }
    }
}
