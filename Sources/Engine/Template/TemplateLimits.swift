/// Sandbox limits. A template has no way to reach files, processes or the environment
/// (the interpreter offers none); these bound the time and memory a template can use.
public struct TemplateLimits: Equatable {
    /// Total loop iterations over the whole render.
    public var maxLoopIterations = 100_000
    /// Largest `range(...)` a template may build.
    public var maxRangeLength = 100_000
    /// Nesting depth of expressions and blocks in the parser, and of macro calls at run time.
    public var maxDepth = 256
    /// Rendered output, and any single string value, in UTF-8 bytes.
    public var maxOutputBytes = 1 << 20
    /// Evaluation steps (expressions and statements) for one render.
    public var maxSteps = 2_000_000
    /// Elements in any one list or dict a template builds.
    public var maxCollectionCount = 1_000_000

    public init() {}
    public static let standard = TemplateLimits()
}
