/// `set`, `unset`, `show`.
let argumentVerbs: [Verb] = [
    Verb(name: "set", group: .arguments, usage: "set NAME VALUE...  |  set --NAME VALUE... [--NAME VALUE...]",
         summary: "Change session arguments; every later command uses them.", changesSession: true,
         handler: runSet),
    Verb(name: "unset", group: .arguments, usage: "unset NAME...",
         summary: "Return arguments to their defaults.", changesSession: true, handler: runUnset),
    Verb(name: "show", group: .arguments, usage: "show args [FILTER]  |  show engine",
         summary: "Show the arguments that differ from the defaults (and where each came from), or the engine.",
         handler: runShow),
]

private func origin(for call: VerbCall, at location: SourceLocation) -> ArgumentOrigin {
    call.interpreter.interactive && call.interpreter.scriptFile == nil ? .set : .script(location)
}

private func runSet(_ call: VerbCall) throws {
    guard let first = call.words.first else {
        throw call.error("set needs an argument name and a value, e.g. set lora_rank 16", at: call.endLocation)
    }
    var parsed = FlagWords.Parsed()
    if first.isFlag {
        parsed = FlagWords.parse(call.words, command: nil)
    } else {
        FlagWords.parse(name: first.text, nameLocation: first.location, values: Array(call.words.dropFirst()),
                        command: nil, into: &parsed)
    }
    try call.report(argumentErrors: parsed.errors)
    for (name, value) in parsed.values {
        // tune's own command line has the last word over the script it runs
        // (`tune train.tune --lora_rank 32` tries a variant without editing the file).
        if call.session.settings[name]?.origin == .commandLine, call.interpreter.scriptFile != nil { continue }
        call.session.set(name, value, origin: origin(for: call, at: call.location))
    }
}

private func runUnset(_ call: VerbCall) throws {
    guard !call.words.isEmpty else {
        throw call.error("unset needs the name of an argument, e.g. unset lora_rank", at: call.endLocation)
    }
    var errors: [Diagnostic] = []
    var names: [String] = []
    for word in call.words {
        do {
            names.append(try call.registry.lookup(word.text).name)
        } catch let e as ArgumentError {
            errors.append(Diagnostic(e.description, at: word.location, isArgumentError: true))
        }
    }
    try call.report(argumentErrors: errors)
    names.forEach(call.session.unset)
}

private func runShow(_ call: VerbCall) throws {
    guard let what = call.words.first else {
        throw call.error("show what? show args [FILTER] or show engine", at: call.endLocation)
    }
    switch what.text {
    case "args", "arguments":
        guard call.words.count <= 2 else { try call.requireNoWords(from: 2); return }
        if call.checkOnly { return }
        showArgs(call, filter: call.words.count == 2 ? call.words[1].text : nil)
    case "engine":
        try call.requireNoWords(from: 1)
        if call.checkOnly { return }
        call.backend.engineDescription.forEach(call.print)
        if let m = call.session.model {
            call.print("live model: \(m.name) (\(m.handle.summary))")
            call.print("live adapter: " + (call.session.liveAdapter ?? "none (base model)"))
        } else {
            call.print("live model: none")
        }
    default:
        let near = NameSuggester.suggestions(for: what.text, among: ["args", "engine"])
        throw call.error("show knows 'args' and 'engine', not '\(what.text)'"
            + (near.first.map { "; did you mean '\($0)'?" } ?? ""), at: what.location)
    }
}

/// A table of argument, value, default and origin. Without a filter: what is set; with one:
/// every matching argument, set or not.
private func shown(_ text: String?) -> String {
    guard let text else { return "-" }
    return text.isEmpty ? "[]" : text
}

private func showArgs(_ call: VerbCall, filter: String?) {
    let session = call.session
    var rows: [[String]] = []
    if let filter {
        for spec in call.registry.search(filter) {
            let setting = session.settings[spec.name]
            rows.append([spec.name, shown(setting?.value.render ?? spec.defaultDescription()),
                         shown(spec.defaultDescription()), setting?.origin.description ?? "default"])
        }
        if rows.isEmpty {
            call.print("no argument matches '\(filter)'")
            return
        }
    } else {
        for name in session.settingOrder {
            guard let setting = session.settings[name] else { continue }
            let spec = call.registry.spec(name)
            rows.append([name, shown(setting.value.render), shown(spec?.defaultDescription()), setting.origin.description])
        }
        if rows.isEmpty {
            call.print("every argument has its default value")
            return
        }
    }
    TextTable.print(header: ["argument", "value", "default", "from"], rows: rows, to: call.print)
}
