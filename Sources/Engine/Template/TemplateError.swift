import Foundation

/// An error from parsing or rendering a chat template, with the 1-based line and column
/// of the template source where it happened.
public struct TemplateError: Error, CustomStringConvertible, Equatable {
    public enum Kind: String, Equatable {
        case syntax          // unexpected token, unclosed block, bad literal
        case unknownFilter
        case unknownTest
        case type            // an operation applied to values it does not take
        case undefined       // calling or iterating something that is not there
        case raised          // the template called raise_exception(...)
        case limit           // a sandbox limit was hit
        case security        // an unsafe operation (mutating a value, private attribute)
    }

    public let kind: Kind
    public let message: String
    public let line: Int
    public let column: Int

    public init(_ kind: Kind, _ message: String, line: Int, column: Int) {
        self.kind = kind
        self.message = message
        self.line = line
        self.column = column
    }

    public var description: String { "template:\(line):\(column): \(message)" }
}

/// A position in the template source (1-based).
struct SourcePos: Equatable {
    var line: Int
    var column: Int
    static let unknown = SourcePos(line: 0, column: 0)
}

extension TemplateError {
    init(_ kind: Kind, _ message: String, at pos: SourcePos) {
        self.init(kind, message, line: pos.line, column: pos.column)
    }
}
