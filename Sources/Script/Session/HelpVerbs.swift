/// `help`, `help VERB`, `help NAME`, `?NAME`, `help PARTIAL`.
let helpVerbs: [Verb] = [
    Verb(name: "help", group: .session, usage: "help [VERB | ARGUMENT | PARTIAL]   (also ?ARGUMENT)",
         summary: "Explain a command or an argument; a partial name lists the matches.", handler: runHelp),
]

private func runHelp(_ call: VerbCall) throws {
    guard call.words.count <= 1 else { try call.requireNoWords(from: 1); return }
    if call.checkOnly { return }
    guard let topic = call.words.first?.text else {
        HelpText.overview(call.interpreter.verbs).forEach(call.print)
        return
    }
    if let verb = call.interpreter.verbs.verb(topic) {
        HelpText.verb(verb).forEach(call.print)
        return
    }
    if let spec = call.registry.spec(topic) {
        HelpText.argument(spec, setting: call.session.settings[spec.name], typed: topic).forEach(call.print)
        return
    }
    let matches = call.registry.search(topic)
    let verbMatches = call.interpreter.verbs.verbs.filter { $0.name.contains(topic.lowercased()) }
    if matches.isEmpty && verbMatches.isEmpty {
        let near = call.registry.suggestions(for: topic)
            + NameSuggester.suggestions(for: topic, among: call.interpreter.verbs.names)
        throw call.error("nothing is called '\(topic)'"
            + (near.isEmpty ? "" : "; did you mean " + near.map { "'\($0)'" }.joined(separator: " or ") + "?"),
            at: call.words[0].location)
    }
    let shown = matches.prefix(60)
    let width = (verbMatches.map(\.name.count) + shown.map(\.name.count)).max() ?? 0
    func pad(_ name: String) -> String { name + String(repeating: " ", count: width + 2 - name.count) }
    for v in verbMatches { call.print(pad(v.name) + "(command) " + v.summary) }
    for spec in shown { call.print(pad(spec.name) + HelpText.firstSentence(spec.help)) }
    if matches.count > 60 { call.print("... and \(matches.count - 60) more; type more of the name") }
}
