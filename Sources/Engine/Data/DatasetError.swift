/// Why a dataset could not be loaded or a row was rejected. The description reads
/// "file:line: problem" (or "file: problem" when no line applies).
public struct DatasetError: Error, CustomStringConvertible, Equatable {
    public var file: String
    public var line: Int?
    public var problem: String

    public init(file: String, line: Int? = nil, problem: String) {
        self.file = file
        self.line = line
        self.problem = problem
    }

    public var description: String {
        if let line = line { return "\(file):\(line): \(problem)" }
        return "\(file): \(problem)"
    }
}

/// A row left out because it was malformed (with `strict` false) or too long (`truncation_strategy delete`).
public struct DroppedRow: Equatable, Sendable, CustomStringConvertible {
    public var file: String
    public var line: Int
    public var reason: String
    public var description: String { "\(file):\(line): \(reason)" }
}
