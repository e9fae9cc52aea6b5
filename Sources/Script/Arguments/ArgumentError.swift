/// A problem with an argument name or value. Every message names the argument, says what
/// was expected and what was given, in the form `NAME expects EXPECTED, got 'GIVEN'`.
public enum ArgumentError: Error, Equatable, CustomStringConvertible {
    /// No argument has this name; `suggestions` are the nearest known names.
    case unknown(name: String, suggestions: [String])
    /// A value that does not have the argument's type (also: missing or extra words).
    case invalid(name: String, expected: String, given: String)
    /// A value outside the argument's documented choices.
    case notAChoice(name: String, given: String, choices: [String])
    /// A number outside the argument's range.
    case outOfRange(name: String, range: ValueRange, given: String)
    /// Something this CPU-only engine does not do; `instead` says what it does.
    case unsupported(name: String, value: String?, reason: String, instead: String)
    /// A known argument that the command does not take.
    case notForCommand(name: String, command: Command, takenBy: [Command])

    public var name: String {
        switch self {
        case .unknown(let n, _), .invalid(let n, _, _), .notAChoice(let n, _, _),
            .outOfRange(let n, _, _), .unsupported(let n, _, _, _), .notForCommand(let n, _, _):
            return n
        }
    }

    public var suggestions: [String] {
        if case .unknown(_, let s) = self { return s }
        return []
    }

    public var description: String {
        switch self {
        case .unknown(let name, let suggestions):
            let base = "unknown argument '\(name)'"
            if suggestions.isEmpty { return base }
            let quoted = suggestions.map { "'\($0)'" }
            let list = quoted.count == 1
                ? quoted[0] : quoted.dropLast().joined(separator: ", ") + " or " + quoted.last!
            return base + "; did you mean \(list)?"
        case .invalid(let name, let expected, let given):
            return "\(name) expects \(expected), got \(given.isEmpty ? "nothing" : "'\(given)'")"
        case .notAChoice(let name, let given, let choices):
            let list = choices.map { "'\($0)'" }.joined(separator: ", ")
            return "\(name) expects one of \(list), got '\(given)'"
        case .outOfRange(let name, let range, let given):
            return "\(name) expects \(range.description), got '\(given)'"
        case .unsupported(let name, let value, let reason, let instead):
            let subject = value.map { "\(name) '\($0)'" } ?? name
            return "\(subject) is not available in this engine (\(reason)); \(instead)"
        case .notForCommand(let name, let command, let takenBy):
            let by = takenBy.sorted().map { $0.rawValue }.joined(separator: ", ")
            return "\(name) is not an argument of '\(command.rawValue)' (taken by: \(by))"
        }
    }
}
