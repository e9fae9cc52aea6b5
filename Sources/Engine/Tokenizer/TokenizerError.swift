/// Why a tokenizer could not be built. The description names the source and the problem.
public struct TokenizerError: Error, CustomStringConvertible {
    public var source: String
    public var problem: String

    public init(source: String, problem: String) {
        self.source = source
        self.problem = problem
    }

    public var description: String { "\(source): \(problem)" }
}
