/// One logical line of a script: a verb and the words after it.
public struct Statement: Equatable, Sendable {
    public var verb: String
    public var verbLocation: SourceLocation
    public var arguments: [Word]
    /// The statement as written (continuation lines included), for `history` and `save`.
    public var text: String

    public init(verb: String, verbLocation: SourceLocation, arguments: [Word], text: String) {
        self.verb = verb
        self.verbLocation = verbLocation
        self.arguments = arguments
        self.text = text
    }

    public var location: SourceLocation { verbLocation }

    /// A statement from words the shell already split (`tune sft --model M ...`).
    public static func fromCommandLine(_ words: [String], file: String = "<command line>") -> Statement? {
        guard let first = words.first else { return nil }
        var column = 1
        var located: [Word] = []
        for w in words {
            located.append(Word(literal: w, location: SourceLocation(file: file, line: 1, column: column)))
            column += w.count + 1
        }
        return Statement(verb: first, verbLocation: located[0].location, arguments: Array(located.dropFirst()),
                         text: located.map(\.source).joined(separator: " "))
    }
}
