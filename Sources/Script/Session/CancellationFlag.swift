import Engine

/// Raised by Ctrl-C (from a signal handler: one atomic store, nothing else) and checked by
/// long engine work at its safe points. It is the engine's cancellation token under the name
/// the session uses.
public final class CancellationFlag: Sendable {
    /// What the engine polls.
    public let token = CancellationToken()

    public init() {}

    public var isRaised: Bool { token.isCancelled }
    public func raise() { token.cancel() }
    public func reset() { token.reset() }
}
