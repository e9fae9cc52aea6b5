import Foundation
import Script

/// What tune's own command line asks for.
enum Launch: Equatable {
    case help
    case version
    case repl
    /// A script: a file path, or nil for standard input; `presets` are flags after the file.
    case script(path: String?, presets: [String], check: Bool)
    /// One statement from the command line (an ms-swift command, or `help ...`).
    case oneShot(words: [String], check: Bool)
    case usageError(String)

    static let oneShotVerbs: Set<String> = Set(Command.allCases.map(\.rawValue)).union(["help"])

    static func parse(_ arguments: [String], stdinIsTerminal: Bool) -> Launch {
        var args = arguments
        var check = false
        if let first = args.first {
            switch first {
            case "--help", "-h": return args.count == 1 ? .help : .usageError("--help takes nothing after it")
            case "--version", "-V": return args.count == 1 ? .version : .usageError("--version takes nothing after it")
            case "--check":
                check = true
                args.removeFirst()
                if args.isEmpty { return .usageError("--check needs a script file, - or a command") }
            default: break
            }
        }
        guard let first = args.first else { return stdinIsTerminal ? .repl : .script(path: nil, presets: [], check: false) }
        if first == "-" { return .script(path: nil, presets: Array(args.dropFirst()), check: check) }
        if oneShotVerbs.contains(first) || first.hasPrefix("?") { return .oneShot(words: args, check: check) }
        if first.hasPrefix("-") { return .usageError("unknown option '\(first)' (see tune --help)") }
        if FileManager.default.fileExists(atPath: first) || first.hasSuffix(".tune") {
            return .script(path: first, presets: Array(args.dropFirst()), check: check)
        }
        let near = Suggest.nearest(first, among: Array(oneShotVerbs).sorted()).first
        return .usageError("'\(first)' is neither a script file nor a command"
            + (near.map { "; did you mean '\($0)'?" } ?? ""))
    }
}
