import Synchronization

/// Raised by Ctrl-C (from a signal handler: one atomic store, nothing else) and checked by
/// long engine work at its safe points.
public final class CancellationFlag: Sendable {
    private let raised = Atomic<Bool>(false)

    public init() {}

    public var isRaised: Bool { raised.load(ordering: .acquiring) }
    public func raise() { raised.store(true, ordering: .releasing) }
    public func reset() { raised.store(false, ordering: .releasing) }
}
