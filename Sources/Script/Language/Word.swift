/// One word of a statement after quoting is removed. `${NAME}` parts are kept apart so they
/// are filled in when the statement runs (a `set` just before may change them).
public struct Word: Equatable, Sendable {
    public enum Part: Equatable, Sendable {
        case text(String)
        case variable(name: String, location: SourceLocation)
    }

    public var parts: [Part]
    public var location: SourceLocation
    /// The word as written, quotes and escapes included.
    public var source: String
    /// True when any part of the word was quoted or escaped (so `"--x"` is not a flag).
    public var isQuoted: Bool

    public init(parts: [Part], location: SourceLocation, source: String, isQuoted: Bool) {
        self.parts = parts
        self.location = location
        self.source = source
        self.isQuoted = isQuoted
    }

    /// A plain word, e.g. from the process's command line where the shell already removed quotes.
    public init(literal: String, location: SourceLocation) {
        self.init(parts: [.text(literal)], location: location,
                  source: ArgumentValue.shellQuoted(literal), isQuoted: false)
    }

    /// The text when the word has no `${NAME}` parts.
    public var literal: String? {
        var out = ""
        for part in parts {
            guard case .text(let t) = part else { return nil }
            out += t
        }
        return out
    }

    /// True when the word is one unquoted `${NAME}` (a list value then becomes several words).
    var isBareVariable: Bool {
        if !isQuoted, parts.count == 1, case .variable = parts[0] { return true }
        return false
    }
}
