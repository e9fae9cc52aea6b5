/// `load`, `unload`, `models`, `adapters`, `datasets`, `use`.
let objectVerbs: [Verb] = [
    Verb(name: "load", group: .objects, usage: "load model|adapter|dataset PATH [as NAME]",
         summary: "Load a model (GGUF or HF directory), a LoRA adapter onto the live model, or a dataset (path#N samples N rows).",
         changesSession: true, handler: runLoad),
    Verb(name: "unload", group: .objects, usage: "unload NAME",
         summary: "Drop a model, adapter or dataset from the session.", changesSession: true, handler: runUnload),
    Verb(name: "models", group: .objects, usage: "models", summary: "List the loaded models.",
         handler: { try list($0, kind: "model") }),
    Verb(name: "adapters", group: .objects, usage: "adapters", summary: "List the loaded adapters.",
         handler: { try list($0, kind: "adapter") }),
    Verb(name: "datasets", group: .objects, usage: "datasets", summary: "List the loaded datasets.",
         handler: { try list($0, kind: "dataset") }),
    Verb(name: "use", group: .objects, usage: "use adapter NAME  |  use base  |  use model NAME",
         summary: "Choose what answers: an adapter on the live model, the bare base model, or another loaded model.",
         changesSession: true, handler: runUse),
]

/// A handle standing in for an object while checking a script (nothing is loaded).
private let checkingID = -1

private func runLoad(_ call: VerbCall) throws {
    let w = call.words
    guard let kindWord = w.first else {
        throw call.error("load what? load model PATH, load adapter PATH or load dataset PATH", at: call.endLocation)
    }
    let kind = kindWord.text
    guard ["model", "adapter", "dataset"].contains(kind) else {
        let near = NameSuggester.suggestions(for: kind, among: ["model", "adapter", "dataset"])
        throw call.error("load takes model, adapter or dataset, not '\(kind)'"
            + (near.first.map { "; did you mean '\($0)'?" } ?? ""), at: kindWord.location)
    }
    guard w.count >= 2 else { throw call.error("load \(kind) needs a path", at: call.endLocation) }
    let path = w[1].text
    var name: String?
    if w.count > 2 {
        guard w[2].text == "as", !w[2].isQuoted else {
            throw call.error("expected 'as NAME' after the path, got '\(w[2].text)'", at: w[2].location)
        }
        guard w.count == 4 else {
            throw call.error(w.count == 3 ? "'as' needs a name" : "only one name after 'as'",
                             at: w.count == 3 ? call.endLocation : w[4].location)
        }
        name = w[3].text
        if call.session.objectNames.contains(w[3].text) {
            throw call.error("'\(w[3].text)' already names a loaded object; unload it first or pick another name",
                             at: w[3].location)
        }
    }
    let objectName = name ?? call.session.defaultName(for: path)
    let args = call.interpreter.resolved(for: .infer, flags: [:])
    switch kind {
    case "model":
        let handle = call.checkOnly ? ModelHandle(id: checkingID, path: path, summary: "")
            : try call.backend.loadModel(path: path, arguments: args, progress: call.output.progress)
        call.session.models.append(.init(name: objectName, handle: handle))
        call.session.liveModel = objectName
        call.session.liveAdapter = nil
        if !call.checkOnly { call.print("model \(objectName): \(handle.summary)") }
    case "adapter":
        let model = try call.requireModel()
        let handle = call.checkOnly ? AdapterHandle(id: checkingID, path: path, summary: "")
            : try call.backend.loadAdapter(path: path, model: model.handle, arguments: args)
        call.session.adapters.append(.init(name: objectName, handle: handle))
        call.session.liveAdapter = objectName
        if !call.checkOnly { call.print("adapter \(objectName) on \(model.name): \(handle.summary)") }
    default:
        let handle = call.checkOnly ? DatasetHandle(id: checkingID, spec: path, rowCount: 0, summary: "")
            : try call.backend.loadDataset(spec: path, arguments: args)
        call.session.datasets.append(.init(name: objectName, handle: handle))
        if !call.checkOnly { call.print("dataset \(objectName): \(handle.rowCount) rows, \(handle.summary)") }
    }
}

private func runUnload(_ call: VerbCall) throws {
    guard call.words.count == 1, let word = call.words.first else {
        if call.words.isEmpty { throw call.error("unload needs a name (see models, adapters, datasets)", at: call.endLocation) }
        try call.requireNoWords(from: 1)
        return
    }
    let s = call.session
    let name = word.text
    var id: Int?
    if let i = s.models.firstIndex(where: { $0.name == name }) {
        id = s.models.remove(at: i).handle.id
        if s.liveModel == name { s.liveModel = nil; s.liveAdapter = nil }
    } else if let i = s.adapters.firstIndex(where: { $0.name == name }) {
        id = s.adapters.remove(at: i).handle.id
        if s.liveAdapter == name { s.liveAdapter = nil }
    } else if let i = s.datasets.firstIndex(where: { $0.name == name }) {
        id = s.datasets.remove(at: i).handle.id
    }
    guard let id else { throw unknownObject(call, word) }
    if !call.checkOnly { call.backend.unload(id: id) }
}

private func unknownObject(_ call: VerbCall, _ word: ExpandedWord) -> Diagnostic {
    let near = NameSuggester.suggestions(for: word.text, among: call.session.objectNames)
    let message = "nothing loaded is called '\(word.text)'"
        + (near.first.map { "; did you mean '\($0)'?" } ?? (call.session.objectNames.isEmpty ? " (nothing is loaded)" : ""))
    return call.error(message, at: word.location)
}

private func list(_ call: VerbCall, kind: String) throws {
    try call.requireNoWords()
    if call.checkOnly { return }
    let s = call.session
    var rows: [[String]] = []
    switch kind {
    case "model":
        rows = s.models.map { [$0.name == s.liveModel ? "*" : " ", $0.name, $0.handle.path, $0.handle.summary] }
    case "adapter":
        rows = s.adapters.map { [$0.name == s.liveAdapter ? "*" : " ", $0.name, $0.handle.path, $0.handle.summary] }
    default:
        rows = s.datasets.map { [" ", $0.name, $0.handle.spec, "\($0.handle.rowCount) rows, \($0.handle.summary)"] }
    }
    if rows.isEmpty {
        call.print("no \(kind)s loaded")
        return
    }
    TextTable.print(header: ["", "name", kind == "dataset" ? "source" : "path", "about"], rows: rows, to: call.print)
}

private func runUse(_ call: VerbCall) throws {
    let w = call.words
    guard let what = w.first else { throw call.error("use adapter NAME, use base or use model NAME", at: call.endLocation) }
    let s = call.session
    switch what.text {
    case "base":
        try call.requireNoWords(from: 1)
        _ = try call.requireModel()
        s.liveAdapter = nil
    case "adapter", "model":
        guard w.count == 2 else {
            if w.count < 2 { throw call.error("use \(what.text) needs a name", at: call.endLocation) }
            try call.requireNoWords(from: 2)
            return
        }
        let name = w[1].text
        if what.text == "adapter" {
            guard s.adapters.contains(where: { $0.name == name }) else { throw unknownObject(call, w[1]) }
            _ = try call.requireModel()
            s.liveAdapter = name
        } else {
            guard s.models.contains(where: { $0.name == name }) else { throw unknownObject(call, w[1]) }
            s.liveModel = name
            s.liveAdapter = nil
        }
    default:
        throw call.error("use takes adapter, base or model, not '\(what.text)'", at: what.location)
    }
}
