/// Data a receipt template is filled with.
public indirect enum TemplateValue: Sendable, Hashable {
    case text(String)
    case bool(Bool)
    case list([TemplateValue])
    case object([String: TemplateValue])

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
        case (.object(let fields), .object(let values)):
            return values.allSatisfy { k, v in fields[k]?.accepts(v) ?? false }
        default: return false
        }
    }
}
