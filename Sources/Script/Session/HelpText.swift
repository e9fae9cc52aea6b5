/// The words of `help`.
enum HelpText {
    static func overview(_ table: VerbTable) -> [String] {
        var out = ["tune: load, fine-tune, merge, quantize and chat with language models, step by step.", ""]
        let width = table.verbs.filter { $0.group != .commands }.map { ([$0.name] + $0.aliases).joined(separator: "/").count }.max() ?? 0
        for group in Verb.Group.allCases {
            let verbs = table.verbs.filter { $0.group == group }
            guard !verbs.isEmpty else { continue }
            out.append(group.rawValue + ":")
            if group == .commands {
                let names = verbs.map(\.name).joined(separator: " ")
                out.append("  " + names)
                out.append("      each takes the --flags of the ms-swift command of that name (help sft)")
                continue
            }
            for v in verbs {
                let names = ([v.name] + v.aliases).joined(separator: "/")
                out.append("  " + names + String(repeating: " ", count: width + 2 - names.count) + v.summary)
            }
        }
        out += ["", "help VERB or help ARGUMENT (or ?ARGUMENT) explains one; help PARTIAL lists matching names."]
        return out
    }

    static func verb(_ verb: Verb) -> [String] {
        var out = ["usage: " + verb.usage, verb.summary]
        if !verb.aliases.isEmpty { out.append("also spelled: " + verb.aliases.joined(separator: ", ")) }
        if let command = Command(rawValue: verb.name) {
            let specs = ArgumentRegistry.shared.specs(for: command)
            var sections: [String] = []
            for s in specs where !sections.contains(s.section) { sections.append(s.section) }
            out.append("takes \(specs.count) arguments, from: " + sections.joined(separator: ", "))
            out.append("a flag here applies to this call only; set NAME VALUE keeps it for the session")
        }
        return out
    }

    static func argument(_ spec: ArgumentSpec, setting: ArgumentSetting?, typed: String) -> [String] {
        var out: [String] = []
        let kind = spec.kind == .environment ? "environment variable" : "argument"
        out.append("\(spec.name)  (\(kind), \(spec.section))")
        if ArgumentRegistry.bare(typed) != spec.name, spec.aliases.contains(ArgumentRegistry.bare(typed)) {
            out.append("  '\(ArgumentRegistry.bare(typed))' is another name for '\(spec.name)'")
        }
        out.append("  " + spec.help)
        out.append("  type:     " + spec.type.expectation)
        let choices = spec.type.choices
        if !choices.isEmpty, case .openChoice = spec.type {
            out.append("  common:   " + choices.joined(separator: ", "))
        }
        if let r = spec.range { out.append("  range:    " + r.description) }
        out.append("  default:  " + (spec.defaultDescription() ?? "not documented"))
        if !spec.aliases.isEmpty { out.append("  aliases:  " + spec.aliases.joined(separator: ", ")) }
        if spec.kind == .argument {
            out.append("  taken by: " + spec.commands.sorted().map(\.rawValue).joined(separator: " "))
        }
        switch spec.engineSupport {
        case .supported: break
        case .unsupported(let reason, let instead):
            out.append("  note:     not available in this engine (\(reason)); \(instead)")
        case .restricted(let allowed, let reason, _):
            out.append("  note:     this engine takes only " + allowed.joined(separator: ", ") + " (\(reason))")
        }
        if let setting {
            out.append("  session:  \(setting.value.render)  (from \(setting.origin))")
        }
        return out
    }

    static func firstSentence(_ text: String) -> String {
        if let dot = text.range(of: ". ") { return String(text[..<dot.lowerBound]) + "." }
        return text
    }
}
