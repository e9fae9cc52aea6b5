/// Reads an ms-swift style flag list (`--lora_rank 8 --dataset a.jsonl b.jsonl --use_dora`):
/// each `--name` takes the words up to the next `--name`.
extension ArgumentRegistry {
    public struct ParsedArguments {
        /// Canonical name -> value, for the arguments that parsed.
        public var values: [String: ArgumentValue] = [:]
        /// The order the names were given in (canonical names).
        public var order: [String] = []
        /// Every problem found, in order; parsing goes on after an error so all are reported.
        public var errors: [ArgumentError] = []
    }

    public func parseArguments(_ words: [String], command: Command? = nil, checkSupport: Bool = true) -> ParsedArguments {
        var result = ParsedArguments()
        var i = 0
        while i < words.count {
            let word = words[i]
            i += 1
            guard Self.isFlag(word) else {
                result.errors.append(.invalid(name: "arguments", expected: "a --name before each value", given: word))
                continue
            }
            var values: [String] = []
            while i < words.count, !Self.isFlag(words[i]) {
                values.append(words[i])
                i += 1
            }
            do {
                let (spec, value) = try parse(name: word, words: values, command: command, checkSupport: checkSupport)
                if result.values.updateValue(value, forKey: spec.name) == nil { result.order.append(spec.name) }
            } catch let error as ArgumentError {
                result.errors.append(error)
            } catch {
                result.errors.append(.invalid(name: Self.bare(word), expected: "a valid value", given: "\(error)"))
            }
        }
        return result
    }

    /// `--name` (a negative number such as `-0.5` is a value, not a flag).
    static func isFlag(_ word: String) -> Bool {
        guard word.hasPrefix("--"), let first = word.dropFirst(2).first else { return false }
        return first.isLetter || first == "_"
    }
}
