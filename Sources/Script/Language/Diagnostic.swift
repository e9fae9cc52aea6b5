/// An error or warning about a statement, with the place it refers to.
public struct Diagnostic: Error, Equatable, Sendable, CustomStringConvertible {
    public enum Severity: String, Sendable { case error, warning }

    public var severity: Severity
    public var location: SourceLocation?
    public var message: String
    /// A bad argument name or value: `ignore_args_error true` turns these into warnings.
    public var isArgumentError: Bool

    public init(_ message: String, at location: SourceLocation?, severity: Severity = .error,
                isArgumentError: Bool = false) {
        self.severity = severity
        self.location = location
        self.message = message
        self.isArgumentError = isArgumentError
    }

    /// `file:line:column: error: message`, the form compilers use, so editors can jump to it.
    public var description: String {
        let place = location.map { "\($0): " } ?? ""
        return "\(place)\(severity.rawValue): \(message)"
    }

    public var asWarning: Diagnostic {
        var copy = self
        copy.severity = .warning
        return copy
    }
}

/// Several diagnostics thrown together (every bad argument of one statement).
public struct DiagnosticList: Error, Sendable {
    public var diagnostics: [Diagnostic]
    public init(_ diagnostics: [Diagnostic]) { self.diagnostics = diagnostics }
}
