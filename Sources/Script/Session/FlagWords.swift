/// Reads `--name value... --name value...` from a statement's words, keeping each problem's
/// place: unknown names point at the flag, bad values at the first value word.
struct FlagWords {
    struct Parsed {
        /// Canonical name -> value, in the order given.
        var values: [(name: String, value: ArgumentValue)] = []
        var errors: [Diagnostic] = []

        var dictionary: [String: ArgumentValue] {
            var d: [String: ArgumentValue] = [:]
            for (n, v) in values { d[n] = v }
            return d
        }
    }

    /// `words` must all belong to flags: a value before the first flag is an error.
    static func parse(_ words: [ExpandedWord], command: Command?) -> Parsed {
        var parsed = Parsed()
        var i = 0
        while i < words.count {
            let flag = words[i]
            i += 1
            guard flag.isFlag else {
                parsed.errors.append(Diagnostic(
                    "expected --NAME before '\(flag.text)'", at: flag.location, isArgumentError: true))
                continue
            }
            var values: [ExpandedWord] = []
            while i < words.count, !words[i].isFlag {
                values.append(words[i])
                i += 1
            }
            parse(name: flag.text, nameLocation: flag.location, values: values, command: command, into: &parsed)
        }
        return parsed
    }

    static func parse(name: String, nameLocation: SourceLocation, values: [ExpandedWord],
                      command: Command?, into parsed: inout Parsed) {
        let registry = ArgumentRegistry.shared
        do {
            let spec = try command.map { try registry.lookup(name, for: $0) } ?? registry.lookup(name)
            let value = try registry.parse(values.map(\.text), for: spec, command: command)
            parsed.values.removeAll { $0.name == spec.name }
            parsed.values.append((spec.name, value))
        } catch let e as ArgumentError {
            let place: SourceLocation
            switch e {
            case .unknown, .notForCommand: place = nameLocation
            default: place = values.first?.location ?? nameLocation
            }
            parsed.errors.append(Diagnostic(e.description, at: place, isArgumentError: true))
        } catch {
            parsed.errors.append(Diagnostic("\(name): \(error)", at: nameLocation, isArgumentError: true))
        }
    }
}
