import Foundation

/// Keeps the last freed buffers of 32 MB and more for the next allocation of the same size.
/// glibc serves such blocks with a fresh mmap each time (its threshold cannot go higher), so
/// the logits buffer of every training step came back as new zero pages: 50 000 page faults
/// and a tenth of a second of system time per step. At most `capacity` blocks are kept; they
/// never exceed what was in use at the peak. `release()` gives them back to the system (the
/// trainer calls it when a run ends).
public enum LargeBlockCache {
    static let minimumBytes = 32 << 20
    static let capacity = 2
    nonisolated(unsafe) private static var blocks: [(bytes: Int, pointer: UnsafeMutableRawPointer)] = []
    private static let lock = NSLock()

    /// A kept block of exactly `bytes`, if there is one.
    static func take(_ bytes: Int) -> UnsafeMutableRawPointer? {
        guard bytes >= minimumBytes else { return nil }
        lock.lock(); defer { lock.unlock() }
        guard let i = blocks.lastIndex(where: { $0.bytes == bytes }) else { return nil }
        return blocks.remove(at: i).pointer
    }

    /// Keeps `pointer` (of `bytes`) for reuse, freeing the oldest kept block when full; false
    /// when the block is too small to be worth keeping (the caller frees it).
    static func keep(_ pointer: UnsafeMutableRawPointer, _ bytes: Int) -> Bool {
        guard bytes >= minimumBytes else { return false }
        lock.lock(); defer { lock.unlock() }
        if blocks.count >= capacity { blocks.removeFirst().pointer.deallocate() }
        blocks.append((bytes, pointer))
        return true
    }

    /// Frees every kept block.
    public static func release() {
        lock.lock(); defer { lock.unlock() }
        for b in blocks { b.pointer.deallocate() }
        blocks.removeAll()
    }

    /// Bytes held now.
    static var heldBytes: Int {
        lock.lock(); defer { lock.unlock() }
        return blocks.reduce(0) { $0 + $1.bytes }
    }
}
