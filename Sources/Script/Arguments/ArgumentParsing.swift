/// Turns the words after `--name` into a typed value, as ms-swift's command line reads them:
/// lists are space-separated words, dicts are JSON, booleans are true/false (or 1/0),
/// numbers may have exponents, `None` means "unset" where the default is None.
enum ArgumentParser {
    static func parse(
        _ words: [String], for spec: ArgumentSpec, command: Command?, checkSupport: Bool
    ) throws -> ArgumentValue {
        let value = try parseValue(words, for: spec, command: command)
        if checkSupport { try checkEngineSupport(value, for: spec) }
        return value
    }

    private static func parseValue(
        _ words: [String], for spec: ArgumentSpec, command: Command?
    ) throws -> ArgumentValue {
        if words == ["None"], spec.acceptsNone, !spec.choices(for: command).contains("None") {
            return .none
        }
        switch spec.type {
        case .list(let element):
            if words.count == 1, let w = words.first, w.hasPrefix("["),
                case .array(let items)? = try? JSONReader.read(w)
            {
                return .list(try items.map { try parseWord(jsonWord($0), as: element, spec: spec, command: command) })
            }
            return .list(try words.map { try parseWord($0, as: element, spec: spec, command: command) })
        case .bool where words.isEmpty:
            // HF's argument parser lets a bare `--flag` mean true.
            return .bool(true)
        default:
            guard words.count == 1, let word = words.first else {
                throw ArgumentError.invalid(
                    name: spec.name, expected: "one value (\(spec.type.expectation))",
                    given: words.joined(separator: " "))
            }
            return try parseWord(word, as: spec.type, spec: spec, command: command)
        }
    }

    private static func jsonWord(_ v: JSONValue) -> String {
        if case .string(let s) = v { return s }
        return v.text
    }

    static func parseWord(
        _ word: String, as type: ArgumentType, spec: ArgumentSpec, command: Command?
    ) throws -> ArgumentValue {
        let name = spec.name
        switch type {
        case .bool:
            switch word.lowercased() {
            case "true", "1": return .bool(true)
            case "false", "0": return .bool(false)
            default: throw ArgumentError.invalid(name: name, expected: type.expectation, given: word)
            }
        case .int:
            guard let i = Int(word.trimmingSpaces) else {
                throw ArgumentError.invalid(name: name, expected: type.expectation, given: word)
            }
            try check(Double(i), word, spec)
            return .int(i)
        case .float:
            guard let d = parseDouble(word) else {
                throw ArgumentError.invalid(name: name, expected: type.expectation, given: word)
            }
            try check(d, word, spec)
            return .double(d)
        case .string, .openChoice:
            return .string(word)
        case .choice(let documented):
            let choices = command.flatMap { spec.commandChoices[$0] } ?? documented
            guard choices.contains(word) else {
                throw ArgumentError.notAChoice(name: name, given: word, choices: choices)
            }
            return .string(word)
        case .json:
            guard let j = try? JSONReader.read(word), case .object = j else {
                throw ArgumentError.invalid(name: name, expected: type.expectation, given: word)
            }
            return .json(j)
        case .list(let element):
            return .list([try parseWord(word, as: element, spec: spec, command: command)])
        case .either(let first, let second):
            if let v = try? parseWord(word, as: first, spec: spec, command: command) { return v }
            do {
                return try parseWord(word, as: second, spec: spec, command: command)
            } catch ArgumentError.outOfRange(let n, let r, let g) {
                throw ArgumentError.outOfRange(name: n, range: r, given: g)
            } catch {
                throw ArgumentError.invalid(name: name, expected: type.expectation, given: word)
            }
        }
    }

    /// Python float syntax: `1e-4`, `2.`, `.5`, `-0.5`; no NaN or infinity.
    static func parseDouble(_ word: String) -> Double? {
        var w = word.trimmingSpaces
        if w.hasSuffix(".") { w += "0" }
        if w.hasPrefix(".") { w = "0" + w }
        if w.hasPrefix("-.") { w = "-0" + w.dropFirst() }
        guard let d = Double(w), d.isFinite, w.first.map({ $0.isNumber || $0 == "-" || $0 == "+" }) == true
        else { return nil }
        return d
    }

    private static func check(_ x: Double, _ word: String, _ spec: ArgumentSpec) throws {
        if let r = spec.range, !r.contains(x) {
            throw ArgumentError.outOfRange(name: spec.name, range: r, given: word)
        }
    }

    /// An argument for something the engine cannot do is an error unless it is switched off.
    static func checkEngineSupport(_ value: ArgumentValue, for spec: ArgumentSpec) throws {
        switch spec.engineSupport {
        case .supported:
            return
        case .unsupported(let reason, let instead):
            if isOff(value, spec) { return }
            let text = value.words.joined(separator: " ")
            let shown: String? = text.count <= 40 ? text : nil
            throw ArgumentError.unsupported(name: spec.name, value: shown, reason: reason, instead: instead)
        case .restricted(let allowed, let reason, let instead):
            if value == .none { return }
            let words: [String]
            switch value {
            case .string(let s): words = [s]
            case .list(let items): words = items.map { $0.stringValue ?? $0.render }
            default: words = [value.render]
            }
            if let bad = words.first(where: { !allowed.contains($0) }) {
                throw ArgumentError.unsupported(name: spec.name, value: bad, reason: reason, instead: instead)
            }
        }
    }

    private static func isOff(_ value: ArgumentValue, _ spec: ArgumentSpec) -> Bool {
        switch value {
        case .none, .bool(false): return true
        case .list(let l) where l.isEmpty: return true
        default: return value == spec.defaultValue || spec.commandDefaults.values.contains(value)
        }
    }
}

extension String {
    var trimmingSpaces: String {
        var s = Substring(self)
        while s.first?.isWhitespace == true { s = s.dropFirst() }
        while s.last?.isWhitespace == true { s = s.dropLast() }
        return String(s)
    }
}
