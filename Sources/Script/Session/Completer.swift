import Foundation

/// Tab completion for the REPL: verbs, argument names (with and without `--`), the choices
/// of the argument being typed, session object names, and file paths.
public struct Completer {
    /// Characters that end a word for completion (what the line editor is told too).
    public static let wordBreaks = " \t\n\"'"

    let interpreter: Interpreter

    public init(interpreter: Interpreter) { self.interpreter = interpreter }

    /// Candidates for the word that ends at the end of `before` (the text left of the cursor).
    public func candidates(before: String) -> [String] {
        let breaks = Set(Self.wordBreaks)
        var current = ""
        for c in before.reversed() {
            if breaks.contains(c) { break }
            current.insert(c, at: current.startIndex)
        }
        let earlier = before.dropLast(current.count).split(whereSeparator: { breaks.contains($0) }).map(String.init)
        return candidates(words: earlier, current: current).filter { $0.hasPrefix(current) }
    }

    private func candidates(words: [String], current: String) -> [String] {
        let registry = ArgumentRegistry.shared
        guard let verb = words.first else {
            if current.hasPrefix("?") { return registry.all.map { "?" + $0.name } }
            return interpreter.verbNames.sorted()
        }
        let position = words.count
        if current.hasPrefix("--") {
            return flagNames(for: verb).map { "--" + $0 }
        }
        if let last = words.last, last.hasPrefix("--"), let spec = registry.spec(last) {
            if let choices = valueChoices(spec) { return choices }
        }
        switch verb {
        case "set" where position == 1, "unset":
            return registry.all.map(\.name).sorted()
        case "set" where position == 2:
            if let spec = registry.spec(words[1]), let choices = valueChoices(spec) { return choices }
            return paths(current)
        case "help" where position == 1:
            return (interpreter.verbNames + registry.all.map(\.name)).sorted()
        case "show" where position == 1:
            return ["args", "engine"]
        case "load" where position == 1:
            return ["adapter", "dataset", "model"]
        case "load" where position == 3:
            return ["as"]
        case "use" where position == 1:
            return ["adapter", "base", "model"]
        case "use" where position == 2:
            let s = interpreter.session
            return words[1] == "adapter" ? s.adapters.map(\.name) : words[1] == "model" ? s.models.map(\.name) : []
        case "unload" where position == 1:
            return interpreter.session.objectNames.sorted()
        default:
            return paths(current)
        }
    }

    /// The names `--` completes after a verb: the command's arguments, or all for `set`.
    private func flagNames(for verb: String) -> [String] {
        let registry = ArgumentRegistry.shared
        switch verb {
        case "merge": return registry.specs(for: .mergeLora).map(\.name)
        case "quantize": return registry.specs(for: .export).map(\.name)
        case "ask": return registry.specs(for: .infer).map(\.name)
        default:
            if let command = Command(rawValue: verb) { return registry.specs(for: command).map(\.name) }
            return registry.all.filter { $0.kind == .argument }.map(\.name).sorted()
        }
    }

    private func valueChoices(_ spec: ArgumentSpec) -> [String]? {
        if spec.type == .bool { return ["false", "true"] }
        let choices = spec.type.choices
        return choices.isEmpty ? nil : choices
    }

    /// Files and directories starting with `typed` (directories end in `/`).
    func paths(_ typed: String) -> [String] {
        let expanded = (typed as NSString).expandingTildeInPath
        let dirPart: String
        let namePart: String
        if typed.hasSuffix("/") {
            dirPart = typed
            namePart = ""
        } else {
            let d = (typed as NSString).deletingLastPathComponent
            dirPart = d.isEmpty ? "" : (d.hasSuffix("/") ? d : d + "/")
            namePart = (typed as NSString).lastPathComponent
        }
        let dirOnDisk = typed.hasSuffix("/") ? expanded
            : ((expanded as NSString).deletingLastPathComponent.isEmpty ? "." : (expanded as NSString).deletingLastPathComponent)
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: dirOnDisk) else { return [] }
        var out: [String] = []
        for entry in entries.sorted() where entry.hasPrefix(namePart) {
            if entry.hasPrefix("."), !namePart.hasPrefix(".") { continue }
            var isDir: ObjCBool = false
            _ = FileManager.default.fileExists(atPath: (dirOnDisk as NSString).appendingPathComponent(entry), isDirectory: &isDir)
            out.append(dirPart + entry + (isDir.boolValue ? "/" : ""))
        }
        return out
    }
}
