/// One verb of the language: a name, its help, and a small handler.
struct Verb {
    enum Group: String, CaseIterable {
        case arguments = "Arguments"
        case objects = "Models, adapters, datasets"
        case generation = "Generation"
        case commands = "ms-swift commands"
        case session = "Session"
    }

    let name: String
    var aliases: [String] = []
    let group: Group
    let usage: String
    let summary: String
    /// Whether `save` writes the statement into the replayable script.
    var changesSession = false
    let handler: (VerbCall) throws -> Void
}

/// The verbs by name.
struct VerbTable {
    let verbs: [Verb]
    private let index: [String: Int]

    init(_ verbs: [Verb]) {
        var index: [String: Int] = [:]
        for (i, v) in verbs.enumerated() {
            for n in [v.name] + v.aliases { index[n] = i }
        }
        self.verbs = verbs
        self.index = index
    }

    func verb(_ name: String) -> Verb? { index[name].map { verbs[$0] } }

    var names: [String] { verbs.flatMap { [$0.name] + $0.aliases } }

    static let standard = VerbTable(
        argumentVerbs + helpVerbs + objectVerbs + generationVerbs + commandVerbs + sessionVerbs)
}
